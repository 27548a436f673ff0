"""Task 2, 科室分诊: 患者信息 + 主诉 + 现病史 -> the department that treated the visit, with a reason.

The query keeps what a triage nurse hears (age, sex, complaint, history of this illness) after leakage control:
clauses naming the department (`今来我院急诊科就诊`), the primary diagnosis, or a diagnostic statement about any
diagnosis of the record (`门诊以“X”收入院`) are removed, because the diagnosis all but names the department.
The reason is composed from the record's own findings that the query still shows (the complaint, the affirmed
clinical-finding events of 主诉 / 现病史) and the department's scope (`data/departments.yaml`), in one of several
sentence shapes chosen by record hash: it never names a diagnosis the query does not state.
Answers: `建议就诊科室：X。\n理由：…` (default), the department alone, or JSON.
"""

from __future__ import annotations

from typing import Any

import xxhash

from cmedins.tasks.checks import placeholder_only
from cmedins.tasks.diagnosis import leak_counters, ordered, presentation
from cmedins.tasks.formats import format_triage, format_triage_json
from cmedins.tasks.leakage import dx_names, targets_for
from cmedins.tasks.record_text import clean, diagnoses
from cmedins.tasks.registry import BuildResult, Item, register_task
from cmedins.tasks.rules import load_rules

_SECTIONS = ("chief_complaint", "present_illness")
# Reason shapes: {cc} the complaint, {f} findings (or the complaint), {with_f} "，伴…" or "", {s} the department's
# scope, {d} the department, {who} 患者 / 患儿 with age. Each is a sentence a triage nurse would write.
REASONS = (
    "患者以“{cc}”为主诉{with_f}，考虑为{s}，建议至{d}就诊。",
    "主诉“{cc}”{with_f}，症状符合{s}的特点，应由{d}诊治。",
    "根据主诉及现病史，{who}主要表现为{f}，属于{s}范畴，宜首诊{d}。",
    "{who}{f}，首先考虑{s}，建议挂{d}号进一步评估。",
    "症状以{f}为主，提示{s}，分诊至{d}较为合适。",
    "结合“{cc}”{with_f}等表现，{s}可能性大，由{d}接诊处理。",
    "{who}因“{cc}”就诊{with_f}，病情属{s}，推荐{d}。",
    "从现有症状（{f}）判断，问题集中在{s}，{d}是合适的首诊科室。",
)


def findings(record: dict[str, Any], query: str, limit: int = 3) -> list[str]:
    """Affirmed findings of 主诉 / 现病史 that the query still states: `胸骨后压榨样疼痛` when it reads so in the
    query, else the subject alone; placeholders and repeats left out."""
    out: list[str] = []
    for ev in record.get("events") or []:
        if clean(ev.get("section")) not in _SECTIONS or (clean(ev.get("status")) or "肯定") != "肯定":
            continue
        subject = clean(ev.get("subject"))
        if not subject or subject not in query or "[" in subject:
            continue
        anatomy = "".join(clean(a) for a in ev.get("anatomy") or [])
        desc = "".join(clean(x) for x in ev.get("descriptors") or [])
        for phrase in (f"{anatomy}{desc}{subject}", f"{anatomy}{subject}", f"{desc}{subject}", subject):
            if phrase in query and not any(phrase in o or o in phrase for o in out):
                out.append(phrase)
                break
        if len(out) >= limit:
            break
    return out


def compose_reason(record: dict[str, Any], query: str, department: str, scope: str, complaint: str) -> str:
    """One reason sentence, its shape chosen by record hash, from the complaint and findings in the query."""
    found = findings(record, query)
    cc = complaint.rstrip("。；，,. ") if complaint and "[" not in complaint and len(complaint) <= 40 else ""
    f = "、".join(found) or cc or "上述症状"
    with_f = f"，伴{'、'.join(found)}" if found and cc and not any(x in cc for x in found) else ""
    age = record.get("patient_age")
    child = age is not None and age < 14
    who = (f"患儿{age}岁，" if child else f"患者{age}岁，") if age is not None and f"{age}岁" in query else (
        "患儿" if child else "患者")
    shapes = [s for s in REASONS if cc or "{cc}" not in s]
    rh = str(record.get("record_hash") or "")
    shape = shapes[xxhash.xxh64_intdigest(f"reason\x1f{rh}".encode()) % len(shapes)]
    return shape.format(cc=cc, f=f, with_f=with_f, s=scope, d=department, who=who)


@register_task("triage", "科室分诊")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    department = clean(record.get("department"))
    if not department:
        return "no_department"
    rules = load_rules(getattr(config, "rules_dir", None))
    dept = rules.department(department)
    dx, _ = ordered(diagnoses(record))
    mode = getattr(config, "leakage", "clause")
    targets = targets_for(dx, 0, rules, getattr(config, "leakage_scope", "primary"), extra=dept.names)
    lines, leaked = presentation(record, targets, mode, getattr(config, "leakage_mask", "××"), _SECTIONS)
    told = [line for line in lines if line.startswith(("主诉", "现病史"))]
    if not told:
        return "no_complaint"
    if placeholder_only("\n".join(told)):  # `主诉：[姓名]`: age and sex alone do not triage anyone
        return "placeholder_only"
    query = "\n".join(lines)
    complaint = next((line.split("：", 1)[1] for line in lines if line.startswith("主诉：")), "")
    reason = compose_reason(record, query, department, dept.scope or rules.generic_scope, complaint)
    leak_terms = (*dept.names, *(sorted(dx_names(dx[0], rules)) if dx else ())) if mode != "off" else ()
    return [Item(query=query, answer=format_triage(department, reason),
                 answers={"short": department, "json": format_triage_json(department, reason)},
                 expect=department, target=(department,), leak_terms=tuple(leak_terms),
                 counters=leak_counters("triage", leaked))]
