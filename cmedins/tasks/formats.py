"""Answer formats of the structured tasks, each with its parser.

Every structured answer is written by one `format_*` function and read back by its `parse_*` twin; the checks
quarantine any row whose answer does not parse back to the structured values it came from, so a consumer (an
evaluator, a reward function) can rely on the format. Each task has several formats (`FORMATS`), because a model
trained on one fixed layout learns the layout, not the task; the instruction template names the format it asks
for (its `format:` key), the row records it in `answer_format`, and `parse_answer(task, format, text)` reads any
of them back. Event answers default to the paper's Fig. 3 style:
`主体词:骨髓抑制,描述词:无,解剖部位:无,发生状态:否定;主体词:...`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


# ---- alternative formats ---------------------------------------------------------------------------------------
# Task 1, `cblue`: PromptCBLUE's CHIP-CDEE target, one line per event after a fixed head line.
CBLUE_EVENTS_HEAD = "上述句子中的临床发现事件如下："
_CBLUE_EVENT_RE = re.compile(r"^主体词：(.+?)；发生状态：(肯定|否定|不确定)；描述词：(.*?)；解剖部位：(.*)$")
# Task 1, `list`: numbered events with their attributes in brackets.
_LIST_EVENT_RE = re.compile(r"^(\d+)\. (.+?)（发生状态：(肯定|否定|不确定)；描述词：(.+?)；解剖部位：(.+)）$")


def format_events_cblue(events: tuple[Event, ...] | list[Event]) -> str:
    lines = [CBLUE_EVENTS_HEAD]
    for e in events:
        lines.append(f"主体词：{e.subject}；发生状态：{e.status}；描述词：{LIST_JOIN.join(e.descriptors)}；"
                     f"解剖部位：{LIST_JOIN.join(e.anatomy)}")
    return "\n".join(lines)


def parse_events_cblue(text: str) -> list[Event] | None:
    lines = text.split("\n")
    if len(lines) < 2 or lines[0] != CBLUE_EVENTS_HEAD:
        return None
    out = []
    for line in lines[1:]:
        m = _CBLUE_EVENT_RE.match(line)
        if not m:
            return None
        out.append(Event(m.group(1), _split_cblue(m.group(3)), _split_cblue(m.group(4)), m.group(2)))
    return out


def _split_cblue(value: str) -> tuple[str, ...]:
    return tuple(value.split(LIST_JOIN)) if value else ()


def format_events_list(events: tuple[Event, ...] | list[Event]) -> str:
    return "\n".join(f"{i + 1}. {e.subject}（发生状态：{e.status}；描述词：{_join(e.descriptors)}；"
                     f"解剖部位：{_join(e.anatomy)}）" for i, e in enumerate(events))


def parse_events_list(text: str) -> list[Event] | None:
    out = []
    for i, line in enumerate(text.split("\n")):
        m = _LIST_EVENT_RE.match(line)
        if not m or int(m.group(1)) != i + 1:
            return None
        out.append(Event(m.group(2), _split(m.group(4)), _split(m.group(5)), m.group(3)))
    return out


def format_events_json(events: tuple[Event, ...] | list[Event]) -> str:
    return _dumps([{"主体词": e.subject, "描述词": list(e.descriptors), "解剖部位": list(e.anatomy),
                    "发生状态": e.status} for e in events])


def parse_events_json(text: str) -> list[Event] | None:
    data = _loads(text)
    if not isinstance(data, list) or not data:
        return None
    try:
        return [Event(str(d["主体词"]), tuple(d["描述词"]), tuple(d["解剖部位"]), str(d["发生状态"])) for d in data]
    except (KeyError, TypeError):
        return None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None


# Task 2: the department alone, or a JSON object.
def format_triage_json(department: str, reason: str | None) -> str:
    return _dumps({"推荐科室": department, "理由": reason or ""})


def parse_triage_json(text: str) -> str | None:
    data = _loads(text)
    return str(data["推荐科室"]) if isinstance(data, dict) and data.get("推荐科室") else None


def parse_triage_short(text: str) -> str | None:
    text = text.strip()
    return text if text and "\n" not in text and "：" not in text else None


# Task 3: primary + others on two lines, or a JSON object. The primary diagnosis always comes first.
def format_diagnoses_split(texts: list[str]) -> str:
    return f"主要诊断：{texts[0]}\n其他诊断：{'；'.join(texts[1:]) if len(texts) > 1 else NONE_VALUE}"


def parse_diagnoses_split(text: str) -> list[str] | None:
    lines = text.split("\n")
    if len(lines) != 2 or not lines[0].startswith("主要诊断：") or not lines[1].startswith("其他诊断："):
        return None
    others = lines[1].removeprefix("其他诊断：")
    return [lines[0].removeprefix("主要诊断："), *([] if others == NONE_VALUE else others.split("；"))]


def format_diagnoses_json(texts: list[str]) -> str:
    return _dumps({"主要诊断": texts[0], "其他诊断": texts[1:]})


def parse_diagnoses_json(text: str) -> list[str] | None:
    data = _loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("其他诊断"), list) or not data.get("主要诊断"):
        return None
    return [str(data["主要诊断"]), *(str(x) for x in data["其他诊断"])]


# Task 4: `wording → 标准名称（编码）` lines, or a JSON array.
_ARROW_RE = re.compile(r"^(?:(\d+)\. )?(.+?) → (.+)（ICD-10：(\S+)）$")


def format_coded_arrow(wordings: list[str], items: list[Coded]) -> str:
    lines = [f"{w} → {c.name}（ICD-10：{c.code}）" for w, c in zip(wordings, items, strict=False)]
    return lines[0] if len(lines) == 1 else "\n".join(f"{i + 1}. {x}" for i, x in enumerate(lines))


def parse_coded_arrow(text: str) -> list[Coded] | None:
    out = []
    for line in text.split("\n"):
        m = _ARROW_RE.match(line)
        if not m:
            return None
        out.append(Coded(m.group(3), m.group(4)))
    return out


def format_coded_json(wordings: list[str], items: list[Coded]) -> str:
    return _dumps([{"原始诊断": w, "标准名称": c.name, "ICD-10编码": c.code}
                   for w, c in zip(wordings, items, strict=False)])


def parse_coded_json(text: str) -> list[Coded] | None:
    data = _loads(text)
    if not isinstance(data, list) or not data:
        return None
    try:
        return [Coded(str(d["标准名称"]), str(d["ICD-10编码"])) for d in data]
    except (KeyError, TypeError):
        return None


# Task 5: a Markdown table, or a JSON object; both end with the safety note.
_TABLE_HEAD = "| 药品 | 剂量 | 给药途径 | 频次 |"


def format_medications_table(intro: str, meds: list[Medication], safety: str) -> str:
    rows = [f"| {m.drug} | {m.dose} | {m.route} | {m.frequency} |" for m in meds]
    return "\n".join([intro, _TABLE_HEAD, "|---|---|---|---|", *rows, SAFETY_PREFIX + safety])


def parse_medications_table(text: str) -> list[Medication] | None:
    lines = text.split("\n")
    if _TABLE_HEAD not in lines or not lines[-1].startswith(SAFETY_PREFIX):
        return None
    start = lines.index(_TABLE_HEAD) + 2
    out = []
    for line in lines[start:-1]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not line.startswith("|"):
            return None
        out.append(Medication(*cells))
    return out or None


def format_medications_json(meds: list[Medication], safety: str, rationale: str = "") -> str:
    body: dict[str, Any] = {"用药方案": [{"药品": m.drug, "剂量": m.dose, "给药途径": m.route, "频次": m.frequency}
                                      for m in meds]}
    if rationale:
        body["用药依据"] = rationale
    body["注意事项"] = safety
    return _dumps(body)


def parse_medications_json(text: str) -> list[Medication] | None:
    data = _loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("用药方案"), list) or not data.get("注意事项"):
        return None
    try:
        return [Medication(str(d["药品"]), str(d["剂量"]), str(d["给药途径"]), str(d["频次"]))
                for d in data["用药方案"]]
    except (KeyError, TypeError):
        return None


# ---- the formats of each task and their parsers ----------------------------------------------------------------

DEFAULT_FORMAT = "default"
FORMATS: dict[str, tuple[str, ...]] = {
    "event_extraction": ("default", "cblue", "list", "json"),
    "triage": ("default", "short", "json"),
    "diagnosis": ("default", "split", "json"),
    "diagnosis_normalization": ("default", "arrow", "json"),
    "medication": ("default", "table", "json"),
    "summary": ("default", "structured", "brief"),
}
PARSERS: dict[tuple[str, str], Callable[[str], Any]] = {
    ("event_extraction", "default"): parse_events,
    ("event_extraction", "cblue"): parse_events_cblue,
    ("event_extraction", "list"): parse_events_list,
    ("event_extraction", "json"): parse_events_json,
    ("triage", "default"): parse_triage,
    ("triage", "short"): parse_triage_short,
    ("triage", "json"): parse_triage_json,
    ("diagnosis", "default"): parse_diagnoses,
    ("diagnosis", "split"): parse_diagnoses_split,
    ("diagnosis", "json"): parse_diagnoses_json,
    ("diagnosis_normalization", "default"): parse_coded,
    ("diagnosis_normalization", "arrow"): parse_coded_arrow,
    ("diagnosis_normalization", "json"): parse_coded_json,
    ("medication", "default"): parse_medications,
    ("medication", "table"): parse_medications_table,
    ("medication", "json"): parse_medications_json,
}


def parse_answer(task: str, answer_format: str, text: str) -> Any:
    """The structured value of an answer in any format of its task (events, department, diagnoses, coded names,
    medications), or None when it does not parse; free-text tasks (summary) give the text itself."""
    parser = PARSERS.get((task, answer_format))
    return parser(text) if parser else text
