"""Detection on bare text: every detector over one text, then one non-overlapping span set.

This is the fast path used by `deidentify_texts`. The presidio recognizers in `recognizers.py` wrap these same
detectors, so the stock `AnalyzerEngine.analyze` loop and this path find the same identifiers; this path skips
presidio's per-text NLP pass and orchestration, and calls jieba only on the few windows that need it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jieba

from cmedins.deid.detect_dates import detect_dates
from cmedins.deid.detect_names import detect_names
from cmedins.deid.detect_ner import _surname_len, _word_aligned, given_char_score
from cmedins.deid.detect_numbers import detect_numbers
from cmedins.deid.detect_places import detect_addresses, detect_institutions
from cmedins.deid.lexicon import lexicon
from cmedins.deid.record_aware import find_terms
from cmedins.deid.spans import Span
from cmedins.deid.text_norm import fold, fold_alnum, simplified

_CACHE_MAX_CHARS = 160
_HAN_ONLY = re.compile("^[\u4e00-\u9fff]+$")
PROPAGATED = ("PERSON", "ADDRESS", "ORGANIZATION", "HOSPITAL")
_TITLE_TAILS = ("某某", "某", "先生", "女士", "小姐", "老师", "医生", "医师", "大夫", "主任", "教授", "护士")


def raw_spans(text: str, redact_institutions: bool = True, folded: str | None = None) -> list[Span]:
    """All candidate spans of every bare-text detector (unresolved, may overlap). `folded`, when given, is
    `fold(simplified(text))`: the word lists and labels are simplified (身份證 reads as 身份证); positions stay."""
    text = simplified(text)
    folded = fold(text) if folded is None else folded
    spans = detect_numbers(folded)
    spans += detect_dates(folded)
    spans += detect_names(text)
    alnum = fold_alnum(text)  # 莘建路１２８弄: a house number in full-width digits is a house number
    spans += detect_addresses(alnum)
    if redact_institutions:
        spans += detect_institutions(alnum)
    return spans


@lru_cache(maxsize=8192)
def _raw_spans_cached(text: str, redact_institutions: bool) -> tuple[Span, ...]:
    return tuple(raw_spans(text, redact_institutions))


def candidate_spans(text: str, redact_institutions: bool = True, terms: list | None = None,
                    folded: str | None = None) -> list[Span]:
    """Unresolved spans of one text, with the record's own values (`terms`) added when given.

    Short texts recur verbatim across records (否认高血压、糖尿病病史。, 同上), so their bare-text spans are memoised
    per process; detection is a pure function of the text, so this changes no output.
    """
    if len(text) <= _CACHE_MAX_CHARS:
        spans = list(_raw_spans_cached(text, redact_institutions))
    else:
        spans = raw_spans(text, redact_institutions, folded)
    if terms:
        spans += find_terms(text, fold(simplified(text)) if folded is None else folded, terms)
    return spans



def propagation_terms(texts: list[str], spans: list[list[Span]]) -> list[tuple[str, object, str]]:
    """Names and places found anywhere in a group become search terms for the whole group.

    A name detected once with a label (患者张三) is then also removed where it stands bare (张三诉头痛), in this
    text and in the record's other sections. Each term keeps the source of its first detection (`ner`, a rule's
    name), so counts by source stay true.
    """
    found: dict[tuple[str, str], str] = {}
    for text, ss in zip(texts, spans, strict=True):
        for s in ss:
            if s.entity_type not in PROPAGATED:
                continue
            value = text[s.start:s.end]
            if s.entity_type == "PERSON":
                for tail in _TITLE_TAILS:
                    if value.endswith(tail) and len(value) > len(tail):
                        value = value[: -len(tail)]
                        break
            if len(value) >= (2 if s.entity_type == "PERSON" else 4) and "某" not in value:
                found.setdefault((s.entity_type, value), s.source)
    return [(etype, value, source) for (etype, value), source in found.items()]


_GIVEN_MAX_FREQ = 500  # a given name commoner than this as a word (建国, 海燕 stay names; 平安, 文明 are words)


def given_name_terms(texts: list[str], spans: list[list[Span]]) -> list[tuple[str, str, str]]:
    """The given names of the full names found in a group: a text that names 滕宇航 once calls him 宇航 after, as
    news, chats and nursing notes do (搭档曦月, 宇航今日情绪好). Only two-character given names after a surname,
    not common words, not protected medical words."""
    lx = lexicon()
    found: dict[str, str] = {}
    for text, ss in zip(texts, spans, strict=True):
        for s in ss:
            value = text[s.start:s.end]
            if s.entity_type != "PERSON" or not 3 <= len(value) <= 4 or not _HAN_ONLY.match(value):
                continue
            given = value[_surname_len(value):]
            if len(given) != 2 or given in lx.allow or lx.starts_with_allowed(given) or \
                    (jieba.dt.FREQ.get(given) or 0) >= _GIVEN_MAX_FREQ or min(map(given_char_score, given)) < -1.0:
                continue
            found.setdefault(given, s.source)
    return [("PERSON", given, source) for given, source in found.items()]


def find_given_names(text: str, terms: list[tuple[str, str, str]]) -> list[Span]:
    """Occurrences of the given-name terms that stand as words of their own (搭档|曦月|的), not inside a longer word
    (意志|强烈 holds 志强)."""
    out: list[Span] = []
    for etype, term, source in terms:
        i = text.find(term)
        while i >= 0:
            if _word_aligned(text, i, i + len(term)):
                out.append(Span(i, i + len(term), etype, 0.9, source))
            i = text.find(term, i + len(term))
    return out
