"""Task 2, 科室分诊: 主诉 + 现病史 -> the department that treated the visit.

The reason line names the record's primary diagnosis, so it is only written when the record has one: the data
supports the reason, the builder invents nothing.
"""

from __future__ import annotations

from typing import Any

from cmedins.tasks.formats import format_triage
from cmedins.tasks.record_text import clean, diagnoses, diagnosis_name, primary_index, section_lines
from cmedins.tasks.registry import BuildResult, Item, register_task


@register_task("triage", "科室分诊")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    department = clean(record.get("department"))
    if not department:
        return "no_department"
    lines = section_lines(record, ("chief_complaint", "present_illness"))
    if not lines:
        return "no_complaint"
    dx = diagnoses(record)
    reason = None
    if dx:
        main = dx[primary_index(dx) or 0]
        reason = f"结合主诉及现病史，考虑“{diagnosis_name(main)}”可能，属于{department}的诊治范围。"
    return [Item(query="\n".join(lines), answer=format_triage(department, reason))]
