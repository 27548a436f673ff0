"""Quality filters for instruction rows, each with its reason code. The first failing check decides the reason.

They catch what de-identification and templating can leave behind and what no later stage should train on:
- placeholder_only: a query or answer that is nothing but typed placeholders ([姓名]，[电话]) once de-identified;
- too_short / too_long: next to nothing to learn from, or more than the token budget of the whole dialogue;
- repeated_chars: runs such as 啊啊啊啊啊啊啊啊 or 好的，好的，好的，好的，好的 (OCR and copy-paste debris), found on
  the normalised text, so punctuation between the units does not hide them and digits (10000000) never count;
- answer_copies_query: the answer is (nearly) the query itself;
- wrong_language: the instruction is not in the language the row declares, or the answer is not Chinese.

Character runs and script shares are computed for a whole batch at once on code-point arrays (a regular expression
per row cost 35 µs per text, more than everything else together). Messages give counts, never text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cmedins.entities import PLACEHOLDERS

_BRACKETED = sorted({p[1:-1] for p in PLACEHOLDERS.values() if p.startswith("[") and p.endswith("]")})
# [姓名] and its pseudonym form [姓名-3F2A] (deid `mode: pseudonym`)
PLACEHOLDER = re.compile(r"\[(?:" + "|".join(map(re.escape, _BRACKETED)) + r")(?:-[0-9A-Za-z]+)?\]")
_NOT_CONTENT = re.compile(r"[\W_]+")
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2EBEF))


@dataclass(frozen=True)
class QualityRules:
    """The thresholds (from CleanConfig) and the token counter."""

    min_query_chars: int
    min_answer_chars: int
    max_tokens: int
    max_char_run: int
    max_unit_repeats: int
    copy_share: float
    min_script_share: float
    min_answer_cjk_share: float
    count_tokens: Callable[[list[str]], int] | None  # None: the fast approximation, counted per batch in Arrow


@dataclass(frozen=True)
class Failure:
    reason: str
    field: str
    detail: str  # counts and thresholds only


def _code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All texts' code points concatenated, and each position's text index."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    return points, np.repeat(np.arange(len(texts)), lengths)


def longest_runs(texts: Sequence[str], max_unit: int = 4) -> np.ndarray:
    """(len(texts), max_unit) array: [t, u-1] = how many times the most repeated unit of u characters repeats back
    to back in text t (1 when nothing repeats). Units containing a digit are not counted."""
    out = np.ones((len(texts), max_unit), dtype=np.int64)
    points, doc = _code_points(texts)
    digit = (points >= 0x30) & (points <= 0x39)
    for u in range(1, max_unit + 1):
        if len(points) <= u:
            break
        same = (points[u:] == points[:-u]) & (doc[u:] == doc[:-u]) & ~digit[:-u]
        edges = np.diff(np.concatenate([[0], same.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        if not len(starts):
            continue
        repeats = (ends - starts) // u + 1  # a run of k*u equal pairs is k+1 copies of the unit
        np.maximum.at(out[:, u - 1], doc[starts], repeats)
    return out


def cjk_latin_counts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per text: how many CJK ideographs, and how many letters of English words (runs of 4+ lower-case ASCII
    letters). Codes, units and abbreviations (ICD-10, N02.801, IgAN, COPD, mg, bid) are not English prose: an
    answer such as "IgAN → IgA肾病（ICD-10：N02.801）" is Chinese."""
    points, doc = _code_points(texts)
    cjk = np.zeros(len(points), dtype=bool)
    for lo, hi in _CJK_RANGES:
        cjk |= (points >= lo) & (points <= hi)
    lower = (points >= 0x61) & (points <= 0x7A)
    n = len(texts)
    latin = np.zeros(n, dtype=np.int64)
    if lower.any():
        breaks = np.concatenate([[True], ~lower[:-1] | (doc[1:] != doc[:-1])])
        run = np.cumsum(lower & breaks)[lower] - 1  # run number of each lower-case letter
        in_word = np.bincount(run)[run] >= 4
        latin = np.bincount(doc[lower][in_word], minlength=n).astype(np.int64)
    return np.bincount(doc[cjk], minlength=n).astype(np.int64), latin


@dataclass
class BatchFacts:
    """What the vectorised passes found for a batch; `check_row` reads one row of it."""

    query_runs: np.ndarray
    answer_runs: np.ndarray
    instruction_cjk: np.ndarray
    instruction_latin: np.ndarray
    answer_cjk: np.ndarray
    answer_latin: np.ndarray


def batch_facts(instructions: Sequence[str], answers: Sequence[str], norm_queries: Sequence[str],
                norm_answers: Sequence[str]) -> BatchFacts:
    ic, il = cjk_latin_counts(instructions)
    ac, al = cjk_latin_counts(answers)
    return BatchFacts(longest_runs(norm_queries), longest_runs(norm_answers), ic, il, ac, al)


def _shingles(text: str, k: int = 3) -> set[str]:
    return {text[i:i + k] for i in range(max(1, len(text) - k + 1))}


def _repeated(rules: QualityRules, runs: np.ndarray) -> int:
    """The offending repeat count (0 when fine): one character max_char_run times, or a 2-4 character unit
    max_unit_repeats times."""
    if runs[0] >= rules.max_char_run:
        return int(runs[0])
    worst = int(runs[1:].max())
    return worst if worst >= rules.max_unit_repeats else 0


def check_row(rules: QualityRules, facts: BatchFacts, i: int, *, query: str, answer: str, norm_query: str,
              norm_answer: str, language: str | None, tokens: int) -> Failure | None:
    """The first quality problem of row i of the batch, or None. `norm_*` are the normalised texts
    (`normalize.py`), `tokens` the token count of all the row's messages (what the budget counts)."""
    for fld, raw in (("query", query), ("answer", answer)):
        # a placeholder is at most ~16 characters: a longer text per "[" must hold something else
        if "[" in raw and len(raw) <= 16 * raw.count("[") and not _NOT_CONTENT.sub("", PLACEHOLDER.sub("", raw)):
            return Failure("placeholder_only", fld, "nothing but placeholders")
    for fld, norm, least in (("query", norm_query, rules.min_query_chars),
                             ("answer", norm_answer, rules.min_answer_chars)):
        if len(norm) < least:
            return Failure("too_short", fld, f"{len(norm)} characters < {least}")
    if tokens > rules.max_tokens:
        return Failure("too_long", "messages", f"{tokens} tokens > {rules.max_tokens}")
    for fld, runs in (("query", facts.query_runs[i]), ("answer", facts.answer_runs[i])):
        repeats = _repeated(rules, runs)
        if repeats:
            return Failure("repeated_chars", fld, f"a unit repeated {repeats} times")
    # an answer much longer than the query cannot have copy_share of its 3-grams in it: skip the sets
    if norm_answer and rules.copy_share * len(norm_query) <= len(norm_answer) <= len(norm_query) / rules.copy_share:
        grams = _shingles(norm_answer)
        shared = len(grams & _shingles(norm_query)) / len(grams)
        if shared >= rules.copy_share:
            return Failure("answer_copies_query", "answer", f"{shared:.2f} of its 3-grams are in the query")
    cjk, latin = int(facts.instruction_cjk[i]), int(facts.instruction_latin[i])
    if cjk + latin:
        share = (latin if language == "en" else cjk) / (cjk + latin)
        if share < rules.min_script_share:
            return Failure("wrong_language", "instruction", f"{share:.2f} of letters in the script of {language!r}")
    cjk, latin = int(facts.answer_cjk[i]), int(facts.answer_latin[i])
    if cjk + latin >= 10 and cjk / (cjk + latin) < rules.min_answer_cjk_share:
        return Failure("wrong_language", "answer", f"{cjk / (cjk + latin):.2f} of letters are Chinese")
    return None
