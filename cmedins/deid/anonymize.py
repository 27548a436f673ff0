"""Replacing detected spans with presidio-anonymizer: typed placeholders or keyed pseudonyms, coarsened or shifted
dates, 90岁以上 for ages over 89.

Each span gets its replacement computed here (a date needs its parsed parts and the patient's shift), and presidio's
`replace` operator applies them. Pseudonyms are HMACs of (secret, scope, type, value): consistent within a patient,
unlinkable across patients, and nothing is ever stored that maps a pseudonym back to a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from cmedins.deid.config import DeidConfig
from cmedins.deid.spans import Span
from cmedins.entities import PLACEHOLDERS
from cmedins.secret import keyed_hash


@dataclass(frozen=True)
class Replacement:
    """What to write where: input span, its type and the new text."""

    span: Span
    new: str


def date_offset(secret: bytes, scope: str, max_days: int) -> int:
    """Per-patient date shift in [-max, -1] ∪ [1, max] days, derived by HMAC (the same for every visit)."""
    h = int(keyed_hash(secret, "date-shift", scope, length=12), 16)
    k = h % (2 * max_days) - max_days
    return k if k < 0 else k + 1


# dates written with 年/月/日: replaced in the same form (a lunar date's month and day are taken as they are)
_CN_KINDS = ("cn", "cnnum", "cn2", "cnmix", "roc", "lunar")


def _date_replacement(span: Span, value: str, cfg: DeidConfig, offset: int, ref_year: int) -> str:
    _, ymd, kind = span.source.split(":")
    y, m, d = (int(x) for x in ymd.split("-"))
    if cfg.date_mode == "year":  # HIPAA Safe Harbor: a date keeps its year only; a date without a year keeps nothing
        if not y or kind in ("md", "cnmd", "mdnum"):
            return PLACEHOLDERS["DATE"]
        return f"{y}年" if kind in _CN_KINDS else f"{y:04d}"
    if cfg.date_mode == "year_month":
        if kind in ("ym",) or (kind in _CN_KINDS and d == 0):
            return value  # already year-month
        if kind in ("md", "cnmd"):
            return f"{m}月"
        if kind == "mdnum":
            return PLACEHOLDERS["DATE"]  # a bare 3-28 keeps no month: "3" alone would read as a count
        if kind in _CN_KINDS:
            return f"{y}年{m}月"
        return f"{y:04d}-{m:02d}"
    # shift
    try:
        base = date(y or ref_year, m, d or 15)
    except ValueError:
        return PLACEHOLDERS["DATE"]
    new = base + timedelta(days=offset)
    if kind in _CN_KINDS:
        return f"{new.year}年{new.month}月{new.day}日" if d else f"{new.year}年{new.month}月"
    if kind in ("md", "cnmd"):
        return f"{new.month}月{new.day}日"
    if kind == "mdnum":
        return f"{new.month}-{new.day}"
    if kind == "ym":
        return f"{new.year}-{new.month:02d}"
    if kind == "compact":
        return f"{new.year}{new.month:02d}{new.day:02d}"
    sep = "/" if "/" in value else ("." if kind == "iso" and "." in value else "-")
    return f"{new.year}{sep}{new.month:02d}{sep}{new.day:02d}"


def replacement_for(span: Span, value: str, cfg: DeidConfig, secret: bytes, scope: str, offset: int,
                    ref_year: int) -> str:
    etype = span.entity_type
    if etype == "AGE":
        return PLACEHOLDERS["AGE"]
    if etype == "DATE":
        if span.source.startswith("date:"):
            return _date_replacement(span, value, cfg, offset, ref_year)
        return PLACEHOLDERS["DATE"]
    placeholder = PLACEHOLDERS.get(etype, "[标识]")
    if cfg.mode == "pseudonym" and etype != "BIRTH_DATE":
        norm = "".join(value.split()).replace("-", "").upper()
        code = keyed_hash(secret, "pseudonym", scope, etype, norm, length=6)
        return f"{placeholder[:-1]}-{code}]"
    return placeholder


@cache
def _engine() -> Any:
    """presidio's AnonymizerEngine, imported on first use: importing presidio (and what it pulls in) costs seconds
    and hundreds of MB, which the processes that only read this module's date helpers should not pay."""
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()


def apply(text: str, reps: list[Replacement]) -> tuple[str, list[tuple[int, int]]]:
    """Apply replacements with presidio-anonymizer; return the new text and each span's output coordinates."""
    if not reps:
        return text, []
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    results = [RecognizerResult(f"R{i}", r.span.start, r.span.end, r.span.score) for i, r in enumerate(reps)]
    operators = {f"R{i}": OperatorConfig("replace", {"new_value": r.new}) for i, r in enumerate(reps)}
    out = _engine().anonymize(text=text, analyzer_results=results, operators=operators).text
    coords: list[tuple[int, int]] = []
    shift = 0
    for r in reps:  # reps are sorted and disjoint
        s = r.span.start + shift
        coords.append((s, s + len(r.new)))
        shift += len(r.new) - (r.span.end - r.span.start)
    return out, coords
