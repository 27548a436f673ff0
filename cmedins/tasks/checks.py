"""Per-row checks: a pair that fails one goes to quarantine with a reason code instead of into the dataset.

Reason codes: empty_query, empty_answer, placeholder_only (nothing left once de-identification placeholders and
punctuation are removed), query_too_long, answer_too_long, ungrounded (an extracted event whose subject is not in
the query), bad_status, bad_icd10 (code not in ICD-10 format), unparseable (a structured answer that does not
read back to its values, in the format its template asked for), placeholder_in_answer (a de-identification
placeholder such as [日期] in an answer: a model would learn to write it), ungrounded_answer (a fact the query does
not state, see `grounding.py`); build.py adds answer_in_query (leakage) and unsafe_answer (safety).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cmedins.entities import PLACEHOLDERS
from cmedins.tasks.formats import STATUSES, parse_answer
from cmedins.tasks.grounding import KINDS
from cmedins.tasks.icd10 import valid_code
from cmedins.tasks.registry import Item

if TYPE_CHECKING:
    from cmedins.tasks.grounding import Lexicon

_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(PLACEHOLDERS.values(), key=len, reverse=True)))
# In an answer only the bracketed placeholders are wrong: `90岁以上` (the Safe Harbor age) is meaningful text.
_ANSWER_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values() if p.startswith("[")))
# `主诉：` style labels that the builders put before each quoted section: a label is not content.
_LABEL_RE = re.compile(r"(?m)^[\u4e00-\u9fff]{2,6}：")
# Anything but punctuation, whitespace and the digits of numbering: one such character is content.
_CONTENT_RE = re.compile(r"[^\s\d.,;:，。；：、！？!?（）()\[\]【】“”\"'《》<>·…\-—_/]")


def placeholder_only(text: str) -> bool:
    """True when the text holds placeholders but nothing else of substance."""
    stripped = _PLACEHOLDER_RE.sub("", text)
    if len(stripped) == len(text):
        return False
    return not _CONTENT_RE.search(_LABEL_RE.sub("", stripped))


def subject_overlap(subject: str, query: str) -> float:
    """Share of the subject's characters found in the query (1.0 when it occurs verbatim)."""
    if subject in query:
        return 1.0
    return sum(ch in query for ch in subject) / max(len(subject), 1)


def check_item(task: str, item: Item, *, extraction: bool, max_query: int, max_answer: int,
               min_overlap: float) -> tuple[str, str] | None:
    """The first failed check as (reason, field), or None when the pair is fit for the dataset."""
    query, answer = item.query.strip(), item.answer.strip()
    if not query:
        return "empty_query", "query"
    if not answer:
        return "empty_answer", "answer"
    if placeholder_only(query):
        return "placeholder_only", "query"
    if placeholder_only(answer):
        return "placeholder_only", "answer"
    if len(item.query) > max_query:
        return "query_too_long", "query"
    if len(item.answer) > max_answer:
        return "answer_too_long", "answer"
    for e in item.events:
        if e.status not in STATUSES:
            return "bad_status", "answer"
        if extraction and subject_overlap(e.subject, item.query) < min_overlap:
            return "ungrounded", "answer"
    for code in item.icd10:
        if not valid_code(code):
            return "bad_icd10", "answer"
    return None


def _expected(item: Item) -> object:
    if item.expect is not None:
        return item.expect
    if item.events:
        return list(item.events)
    return None


# Extraction answers name normalised findings (CHIP-CDEE writes 疼痛 for 腹痛): their subjects are checked by
# `subject_overlap`, so grounding looks only at the numbers and dates they state.
EXTRACTION_FACTS = ("number_unit", "date")


def check_answer(task: str, answer_format: str, answer: str, item: Item, lexicon: Lexicon | None,
                 extraction: bool = False, max_answer: int | None = None) -> tuple[str, str, list[str]] | None:
    """The first failed check of one written answer as (reason, field, fact kinds), or None."""
    if max_answer is not None and len(answer) > max_answer:
        return "answer_too_long", "answer", []
    if _ANSWER_PLACEHOLDER_RE.search(answer):
        return "placeholder_in_answer", "answer", []
    expected = _expected(item)
    if expected is not None or item.icd10:
        parsed = parse_answer(task, answer_format, answer)
        if parsed is None:
            return "unparseable", "answer", []
        if item.icd10 and not item.events:
            if [c.code for c in parsed] != list(item.icd10):
                return "unparseable", "answer", []
        elif expected is not None and _comparable(parsed) != _comparable(expected):
            return "unparseable", "answer", []
    if lexicon is not None:
        kinds = EXTRACTION_FACTS if extraction else KINDS
        missing = lexicon.ungrounded(answer, item.query, item.target, kinds)
        if missing:
            return "ungrounded_answer", "answer", sorted({k for k, _ in missing})
    return None


def _comparable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
