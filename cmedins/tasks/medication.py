"""Task 5, 用药建议: diagnoses + relevant history -> the visit's medication orders, as advice with a safety note.

The orders are the record's own; the wording frames them as a recommendation and always ends with a safety
sentence, because a model trained on bare prescriptions learns to prescribe without caveats.
"""

from __future__ import annotations

from typing import Any

from cmedins.tasks.formats import Medication, format_medications
from cmedins.tasks.record_text import clean, diagnoses, patient_line, section_lines
from cmedins.tasks.registry import BuildResult, Item, register_task

UNSPECIFIED = "未注明"
INTRO = "根据患者的诊断及病史，建议用药如下："
SAFETY = (
    "以上用药建议仅供参考，具体用药须由执业医师结合患者过敏史、肝肾功能及合并用药情况评估后确定；"
    "用药期间请注意观察疗效和不良反应，如有不适及时就医。"
)


def medications(record: dict[str, Any]) -> list[Medication]:
    out = []
    for m in record.get("medications") or []:
        drug = clean(m.get("drug"))
        if drug:
            out.append(Medication(drug, *(clean(m.get(k)) or UNSPECIFIED for k in ("dose", "route", "frequency"))))
    return out


@register_task("medication", "用药建议")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    meds = medications(record)
    if not meds:
        return "no_medications"
    dx = diagnoses(record)
    if not dx:
        return "no_diagnoses"
    lines = [x for x in [patient_line(record)] if x]
    lines.append("诊断：" + "；".join(d["text"] for d in dx))
    lines += section_lines(record, ("chief_complaint", "past_history"))
    return [Item(query="\n".join(lines), answer=format_medications(INTRO, meds, SAFETY))]
