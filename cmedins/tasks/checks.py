"""Per-row checks: a pair that fails one goes to quarantine with a reason code instead of into the dataset.

Reason codes: empty_query, empty_answer, placeholder_only (nothing left once de-identification placeholders and
punctuation are removed), query_too_long, answer_too_long, ungrounded (an extracted event whose subject is not in
the query), bad_status, bad_icd10 (code not in ICD-10 format), unparseable (a structured answer that does not
read back to its values).
"""

from __future__ import annotations

import re

from cmedins.entities import PLACEHOLDERS
from cmedins.tasks.formats import STATUSES, parse_coded, parse_events
from cmedins.tasks.icd10 import valid_code
from cmedins.tasks.registry import Item

_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(PLACEHOLDERS.values(), key=len, reverse=True)))
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
    if item.events:
        for e in item.events:
            if e.status not in STATUSES:
                return "bad_status", "answer"
            if extraction and subject_overlap(e.subject, item.query) < min_overlap:
                return "ungrounded", "answer"
        if parse_events(item.answer) != list(item.events):
            return "unparseable", "answer"
    if item.icd10:
        for code in item.icd10:
            if not valid_code(code):
                return "bad_icd10", "answer"
        parsed = parse_coded(item.answer)
        if parsed is None or [c.code for c in parsed] != list(item.icd10):
            return "unparseable", "answer"
    return None
