"""Task 3, 诊断推断: the presentation (主诉, 现病史, 既往史, 体格检查, 辅助检查) -> the record's diagnoses.

The answer lists the doctor's own wording, primary first, as the record holds them: that is the ground truth a
model should reproduce; the standard names are task 4's business.
"""

from __future__ import annotations

from typing import Any

from cmedins.tasks.formats import format_diagnoses
from cmedins.tasks.record_text import diagnoses, patient_line, primary_index, section_lines
from cmedins.tasks.registry import BuildResult, Item, register_task

PRESENTATION = ("chief_complaint", "present_illness", "past_history", "physical_exam", "auxiliary_exam")


def presentation(record: dict[str, Any]) -> list[str]:
    head = patient_line(record)
    return ([head] if head else []) + section_lines(record, PRESENTATION)


@register_task("diagnosis", "诊断推断")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    dx = diagnoses(record)
    if not dx:
        return "no_diagnoses"
    header = "出院诊断" if record.get("visit_type") == "住院" else "诊断"
    answer = format_diagnoses(header, [d["text"] for d in dx], primary_index(dx))
    return [Item(query="\n".join(presentation(record)), answer=answer)]
