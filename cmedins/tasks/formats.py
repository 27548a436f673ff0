"""Answer formats of the structured tasks, each with its parser.

Every structured answer is written by one `format_*` function and read back by its `parse_*` twin; the checks
quarantine any row whose answer does not parse back to the structured values it came from, so a consumer (an
evaluator, a reward function) can rely on the format. Event answers follow the paper's Fig. 3 style:
`主体词:骨髓抑制,描述词:无,解剖部位:无,发生状态:否定;主体词:...`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STATUSES: tuple[str, ...] = ("肯定", "否定", "不确定")
NONE_VALUE = "无"
LIST_JOIN = "，"  # values contain 、 (胸12、腰1椎体) far more often than ，


@dataclass(frozen=True)
class Event:
    """A clinical-finding event: 主体词, 描述词, 解剖部位, 发生状态."""

    subject: str
    descriptors: tuple[str, ...] = ()
    anatomy: tuple[str, ...] = ()
    status: str = "肯定"


@dataclass(frozen=True)
class Medication:
    drug: str
    dose: str
    route: str
    frequency: str


@dataclass(frozen=True)
class Coded:
    """A diagnosis normalised to the ICD-10 list."""

    name: str
    code: str


# ---- task 1: events -------------------------------------------------------------------------------------------

_EVENT_RE = re.compile(r"^主体词:(.+?),描述词:(.+?),解剖部位:(.+?),发生状态:(肯定|否定|不确定)$")


def _join(values: tuple[str, ...]) -> str:
    return LIST_JOIN.join(values) if values else NONE_VALUE


def _split(value: str) -> tuple[str, ...]:
    return () if value == NONE_VALUE else tuple(value.split(LIST_JOIN))


def format_events(events: tuple[Event, ...] | list[Event]) -> str:
    return ";".join(
        f"主体词:{e.subject},描述词:{_join(e.descriptors)},解剖部位:{_join(e.anatomy)},发生状态:{e.status}"
        for e in events
    )


def parse_events(text: str) -> list[Event] | None:
    """Inverse of `format_events`; None when the text is not in the format."""
    out: list[Event] = []
    for part in text.split(";"):
        m = _EVENT_RE.match(part)
        if not m:
            return None
        out.append(Event(m.group(1), _split(m.group(2)), _split(m.group(3)), m.group(4)))
    return out


# ---- task 2: triage -------------------------------------------------------------------------------------------

_TRIAGE_RE = re.compile(r"^建议就诊科室：(.+?)。(?:\n理由：.+)?$", re.S)


def format_triage(department: str, reason: str | None) -> str:
    head = f"建议就诊科室：{department}。"
    return f"{head}\n理由：{reason}" if reason else head


def parse_triage(text: str) -> str | None:
    m = _TRIAGE_RE.match(text)
    return m.group(1) if m else None


# ---- task 3: diagnosis ----------------------------------------------------------------------------------------

PRIMARY_MARK = "（主要诊断）"
_NUMBERED_RE = re.compile(r"^(\d+)\. (.+)$")


def format_diagnoses(header: str, texts: list[str], primary_index: int | None) -> str:
    lines = [f"{header}："]
    for i, t in enumerate(texts):
        lines.append(f"{i + 1}. {t}{PRIMARY_MARK if i == primary_index else ''}")
    return "\n".join(lines)


def parse_diagnoses(text: str) -> list[str] | None:
    lines = text.split("\n")
    if len(lines) < 2 or not lines[0].endswith("："):
        return None
    out = []
    for i, line in enumerate(lines[1:]):
        m = _NUMBERED_RE.match(line)
        if not m or int(m.group(1)) != i + 1:
            return None
        out.append(m.group(2).removesuffix(PRIMARY_MARK))
    return out


# ---- task 4: normalisation ------------------------------------------------------------------------------------

_CODED_RE = re.compile(r"^(?:(\d+)\. )?标准名称：(.+)，ICD-10编码：(\S+)$")


def format_coded(items: list[Coded]) -> str:
    if len(items) == 1:
        return f"标准名称：{items[0].name}，ICD-10编码：{items[0].code}"
    return "\n".join(f"{i + 1}. 标准名称：{c.name}，ICD-10编码：{c.code}" for i, c in enumerate(items))


def parse_coded(text: str) -> list[Coded] | None:
    out = []
    for line in text.split("\n"):
        m = _CODED_RE.match(line)
        if not m:
            return None
        out.append(Coded(m.group(2), m.group(3)))
    return out


def numbered(lines: list[str]) -> str:
    """Number lines `1. a` when there are several, leave a single line bare."""
    if len(lines) == 1:
        return lines[0]
    return "\n".join(f"{i + 1}. {t}" for i, t in enumerate(lines))


# ---- task 5: medication ---------------------------------------------------------------------------------------

_MED_RE = re.compile(r"^\d+\. 药品：(.+?)，剂量：(.+?)，给药途径：(.+?)，频次：(.+)$")
SAFETY_PREFIX = "安全提示："


def format_medications(intro: str, meds: list[Medication], safety: str) -> str:
    lines = [intro]
    for i, m in enumerate(meds):
        lines.append(f"{i + 1}. 药品：{m.drug}，剂量：{m.dose}，给药途径：{m.route}，频次：{m.frequency}")
    lines.append(SAFETY_PREFIX + safety)
    return "\n".join(lines)


def parse_medications(text: str) -> list[Medication] | None:
    lines = text.split("\n")
    if len(lines) < 3 or not lines[-1].startswith(SAFETY_PREFIX):
        return None
    out = []
    for line in lines[1:-1]:
        m = _MED_RE.match(line)
        if not m:
            return None
        out.append(Medication(*m.groups()))
    return out
