"""Task 6, 病历摘要: the visit's sections -> a discharge-summary style summary.

When the record has a doctor-written 出院小结, that is the answer (without its record-keeping sentences: phone,
insurance and record numbers, signatures) and the query is the rest of the visit. Otherwise
(outpatient visits) the summary is composed from the record's structured fields only: patient, complaint,
department, diagnoses, abnormal labs and orders, all of which the query shows, so the answer states nothing the
model cannot see.
"""

from __future__ import annotations

from typing import Any

from cmedins.tasks.diagnosis import presentation
from cmedins.tasks.medication import medications
from cmedins.tasks.record_text import clean, diagnoses, strip_admin
from cmedins.tasks.registry import BuildResult, Item, register_task

_FLAG = {"H": "↑", "L": "↓"}


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


def compose(record: dict[str, Any], dx: list[str], labs: list[str], meds: list[str]) -> str:
    sex, age = clean(record.get("patient_sex")), record.get("patient_age")
    who = "患者" + (f"，{sex}" if sex in ("男", "女") else "") + (f"，{age}岁" if age is not None else "")
    visit = clean(record.get("visit_type")) or "就诊"
    parts = [f"{who}，因“{clean(record.get('chief_complaint'))}”于{clean(record.get('department'))}{visit}就诊。"]
    if labs:
        parts.append("检验异常：" + "，".join(labs) + "。")
    if dx:
        parts.append("诊断：" + "；".join(dx) + "。")
    if meds:
        parts.append("治疗：予" + "；".join(meds) + "。")
    return "".join(parts)


@register_task("summary", "病历摘要")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    dx = [d["text"] for d in diagnoses(record)]
    labs = abnormal_labs(record)
    meds = [_med_text(m) for m in medications(record)]
    lines = presentation(record)
    if labs:
        lines.append("异常检验：" + "，".join(labs))
    if dx:
        lines.append("诊断：" + "；".join(dx))
    if meds:
        lines.append("用药：" + "；".join(meds))
    written = strip_admin(clean(record.get("discharge_summary")))
    if written:
        return [Item(query="\n".join(lines), answer=written, key="written")]
    if not (dx or meds or labs):
        return "too_little_to_summarise"
    return [Item(query="\n".join(lines), answer=compose(record, dx, labs, meds), key="composed")]
