"""Task 6, 病历摘要: the visit's sections -> a discharge-summary style summary.

The query is the whole visit as the record holds it: a visit line (department, visit type, dates), the patient,
the sections, the abnormal labs, the diagnoses and the orders. When the record has a doctor-written 出院小结, that
is the default answer, without its record-keeping sentences (phone, insurance and record numbers, signatures) and,
in the collector, without every sentence that states a fact the query lacks (a follow-up lab value, a date the
record does not give) or holds a placeholder: a summary must not teach invention (`Item.trim`). The summary is
also composed from the structured fields, in three shapes: a paragraph (the default answer of visits without a
written summary), labelled sections (`structured`) and one sentence (`brief`); all of them state only what the
query shows.
"""

from __future__ import annotations

from typing import Any

import xxhash

from cmedins.tasks.diagnosis import presentation
from cmedins.tasks.medication import describe, medications
from cmedins.tasks.record_text import clean, diagnoses, strip_admin
from cmedins.tasks.registry import BuildResult, Item, register_task

_FLAG = {"H": "↑", "L": "↓"}
_OPENINGS = (
    "患者{c_who}，因“{cc}”于{visit}。",
    "{who_p}主因“{cc}”来{visit}。",
    "患者{c_who}，以“{cc}”为主诉于{visit}。",
    "{who_p}此次{visit}，主诉“{cc}”。",
)


def abnormal_labs(record: dict[str, Any]) -> list[str]:
    out = []
    for lab in record.get("labs") or []:
        flag = clean(lab.get("flag")).upper()
        item, value = clean(lab.get("item")), clean(lab.get("value"))
        if flag in _FLAG and item and value:
            out.append(f"{item} {value}{clean(lab.get('unit'))}{_FLAG[flag]}")
    return out


def _med_text(m: Any) -> str:
    return " ".join(x for x in (m.drug, m.dose, m.route, m.frequency) if x != "未注明")


def coded_wordings(record: dict[str, Any]) -> list[str]:
    """The diagnoses as the query shows them: the doctor's wording, with its ICD-10 standard name in brackets when
    that differs (`甲减（甲状腺功能减退症）`), because a written summary often uses the standard name."""
    out = []
    for d in diagnoses(record):
        text, name = d["text"], clean(d.get("icd10_name"))
        out.append(f"{text}（{name}）" if name and name not in text and text not in name else text)
    return out


def visit_line(record: dict[str, Any]) -> tuple[str, str]:
    """(`就诊信息：神经内科住院，入院日期：2020，出院日期：2020`, `神经内科住院`): what the visit was and when."""
    dept, visit = clean(record.get("department")), clean(record.get("visit_type")) or "就诊"
    where = f"{dept}{visit}"
    parts = [where] if where else []
    start, end = clean(record.get("admission_date")), clean(record.get("discharge_date"))
    if visit == "住院":
        parts += [f"入院日期：{start}"] * bool(start) + [f"出院日期：{end}"] * bool(end)
    elif start:
        parts.append(f"就诊日期：{start}")
    return ("就诊信息：" + "，".join(parts) if parts else ""), where


def compose(record: dict[str, Any], dx: list[str], labs: list[str], meds: list[str], where: str) -> dict[str, str]:
    """The summary in three shapes from the fields the query shows: paragraph, structured and brief."""
    who = describe(record)
    cc = clean(record.get("chief_complaint")).rstrip("。")
    rh = str(record.get("record_hash") or "")
    visit = f"{where}就诊" if not where.endswith("住院") else f"{where}治疗"
    opening = _OPENINGS[xxhash.xxh64_intdigest(f"summary\x1f{rh}".encode()) % len(_OPENINGS)]
    parts = [opening.format(c_who=f"，{who}" if who else "", who_p=f"{who}患者" if who else "患者", cc=cc,
                            visit=visit)]
    if labs:
        parts.append("检验异常：" + "，".join(labs) + "。")
    if dx:
        parts.append("诊断：" + "；".join(dx) + "。")
    if meds:
        parts.append("治疗：予" + "；".join(meds) + "。")
    structured = [f"【一般情况】{who or '患者'}，{where}", f"【主诉】{cc}"]
    if labs:
        structured.append("【异常检验】" + "，".join(labs))
    if dx:
        structured.append("【诊断】" + "；".join(dx))
    if meds:
        structured.append("【治疗】" + "；".join(meds))
    brief = f"{who}患者因{cc}于{visit}" + (f"，诊断为{dx[0]}{'等' if len(dx) > 1 else ''}" if dx else "")
    names = [m.split(" ")[0] for m in meds]
    brief += (f"，予{'、'.join(names[:3])}{'等' if len(names) > 3 else ''}治疗" if names else "") + "。"
    return {"default": "".join(parts), "structured": "\n".join(structured), "brief": brief}


@register_task("summary", "病历摘要")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    dx = [d["text"] for d in diagnoses(record)]
    labs = abnormal_labs(record)
    meds = [_med_text(m) for m in medications(record)]
    head, where = visit_line(record)
    lines, _ = presentation(record)
    lines = ([head] if head else []) + lines
    if labs:
        lines.append("异常检验：" + "，".join(labs))
    if dx:
        lines.append("诊断：" + "；".join(coded_wordings(record)))
    if meds:
        lines.append("用药：" + "；".join(meds))
    if not (dx or meds or labs):
        return "too_little_to_summarise"
    composed = compose(record, dx, labs, meds, where)
    written = strip_admin(clean(record.get("discharge_summary")))
    query = "\n".join(lines)
    if written:
        return [Item(query=query, answer=written, key="written", trim=True, fallback=composed["default"],
                     answers={"structured": composed["structured"], "brief": composed["brief"]})]
    return [Item(query=query, answer=composed["default"], key="composed",
                 answers={"structured": composed["structured"], "brief": composed["brief"]})]
