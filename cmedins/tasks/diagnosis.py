"""Task 3, 诊断推断: the presentation (患者信息, 主诉, 现病史, 既往史, 体格检查, 辅助检查) -> the record's diagnoses.

The answer lists the doctor's own wording, primary first: that is the ground truth a model should reproduce; the
standard names are task 4's business. The query is the presentation after leakage control (`leakage.py`): the
admitting-diagnosis phrases and every mention of the primary diagnosis are gone, so the model must infer the
diagnosis rather than copy it. Answers: numbered list (default), 主要诊断 / 其他诊断 lines, or JSON.
"""

from __future__ import annotations

from typing import Any

from cmedins.contracts import SECTION_LABELS
from cmedins.tasks.formats import format_diagnoses, format_diagnoses_json, format_diagnoses_split
from cmedins.tasks.leakage import Targets, control, dx_names, targets_for
from cmedins.tasks.record_text import clean, diagnoses, patient_line, primary_index
from cmedins.tasks.registry import BuildResult, Item, register_task
from cmedins.tasks.rules import load_rules

PRESENTATION = ("chief_complaint", "present_illness", "past_history", "physical_exam", "auxiliary_exam")


def presentation(record: dict[str, Any], targets: Targets | None = None, mode: str = "off", mask: str = "",
                 fields: tuple[str, ...] = PRESENTATION) -> tuple[list[str], int]:
    """`患者信息` and the `主诉：...` lines of `fields`, with leakage control applied to each section; returns the
    lines and how many clauses were removed or masked (a section left empty is left out)."""
    head = patient_line(record)
    lines = [head] if head else []
    leaked = 0
    for f in fields:
        text = clean(record.get(f))
        if targets is not None and text:
            text, n = control(text, targets, mode, mask)
            leaked += n
        if text:
            lines.append(f"{SECTION_LABELS[f]}：{text}")
    return lines, leaked


def ordered(dx: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The diagnoses with the primary one first, and whether one was marked primary."""
    p = primary_index(dx)
    if p is None:
        return dx, False
    return [dx[p], *dx[:p], *dx[p + 1:]], True


def leak_counters(task: str, leaked: int) -> tuple[tuple[str, int], ...]:
    return ((f"leakage_clauses:{task}", leaked), (f"leakage_rows:{task}", 1)) if leaked else ()


@register_task("diagnosis", "诊断推断")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    dx = diagnoses(record)
    if not dx:
        return "no_diagnoses"
    rules = load_rules(getattr(config, "rules_dir", None))
    dx, has_primary = ordered(dx)
    scope, mode = getattr(config, "leakage_scope", "primary"), getattr(config, "leakage", "clause")
    # the department too (as for triage, so the two tasks share their leakage-controlled sections): a clause
    # naming it (`来我院心内科就诊`) tells little about the diagnosis
    targets = targets_for(dx, 0, rules, scope, extra=rules.department(clean(record.get("department"))).names)
    lines, leaked = presentation(record, targets, mode, getattr(config, "leakage_mask", "××"))
    texts = [d["text"] for d in dx]
    header = "出院诊断" if record.get("visit_type") == "住院" else "诊断"
    leak_dx = dx if scope == "all" else dx[:1]
    leak_terms = tuple(sorted(set().union(*(dx_names(d, rules) for d in leak_dx)))) if mode != "off" else ()
    return [Item(query="\n".join(lines), answer=format_diagnoses(header, texts, 0 if has_primary else None),
                 answers={"split": format_diagnoses_split(texts), "json": format_diagnoses_json(texts)},
                 expect=texts, target=tuple(texts), leak_terms=leak_terms,
                 counters=leak_counters("diagnosis", leaked))]
