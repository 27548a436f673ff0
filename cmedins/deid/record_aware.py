"""Record-aware detection: the patient block's own values, searched in that record's free text.

Bare-text detection can miss a name with no label (张三诉头痛) or an ID written with odd spacing; the record tells us
exactly which strings to look for. Partial forms are searched too: 张某/张某某/张先生, the given name alone (when
it has two characters or more), the address without its province or city, every spelling of the birth date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from cmedins.deid.spans import Span
from cmedins.deid.text_norm import fold

_ADMIN_SPLIT = re.compile(r"(?<=省|市|区|县|旗|镇|乡|州|盟)")


@dataclass(frozen=True)
class RecordValues:
    """Identifier values of one record's patient block (any may be None)."""

    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    birth_date: date | None = None
    mrn: str | None = None
    insurance_no: str | None = None
    employer: str | None = None
    record_id: str | None = None
    patient_id: str | None = None
    hospital: str | None = None  # set only when institutions are redacted
    extra_names: tuple[str, ...] = field(default_factory=tuple)


class DigitTerm:
    """A number to find with any spaces or dashes between its characters (138 1234 5678, 138-1234-5678).

    Matching runs on a projection of the text with spaces and dashes removed (no regex compiled per record: a
    build has hundreds of thousands of records).
    """

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def find(self, folded: str, proj: tuple[str, list[int]] | None = None) -> list[tuple[int, int]]:
        chars, index = proj if proj is not None else projection(folded)
        out = []
        i = chars.find(self.value)
        while i >= 0:
            j = i + len(self.value)
            if (i == 0 or not _ascii_alnum(chars[i - 1])) and (j == len(chars) or not _ascii_alnum(chars[j])):
                if not index:
                    index.extend(_index(folded))
                out.append((index[i], index[j - 1] + 1))
            i = chars.find(self.value, i + 1)
        return out


def _index(folded: str) -> list[int]:
    return [i for i, c in enumerate(folded) if c not in " -"]


def _ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def projection(folded: str) -> tuple[str, list[int]]:
    """The text upper-cased without spaces/dashes; the offset map is filled lazily, on the first hit."""
    return folded.replace(" ", "").replace("-", "").upper(), []


def _digit_pattern(value: str) -> DigitTerm | None:
    chars = "".join(c for c in fold(value) if c.isalnum()).upper()
    return DigitTerm(chars) if len(chars) >= 4 else None


def _date_forms(d: date) -> list[str]:
    y, m, dd = d.year, d.month, d.day
    forms = {f"{y}年{m}月{dd}日", f"{y}年{m:02d}月{dd:02d}日", f"{y}年{m}月{dd}号", f"{y}-{m:02d}-{dd:02d}",
             f"{y}-{m}-{dd}", f"{y}/{m:02d}/{dd:02d}", f"{y}/{m}/{dd}", f"{y}.{m:02d}.{dd:02d}", f"{y}.{m}.{dd}",
             f"{y}{m:02d}{dd:02d}"}
    return sorted(forms, key=len, reverse=True)


def search_terms(values: RecordValues) -> list[tuple[str, object]]:
    """(entity_type, str | compiled pattern) pairs to look for in the record's texts."""
    terms: list[tuple[str, object]] = []
    names = [n for n in ((values.name,) + tuple(values.extra_names)) if n]
    for raw in names:
        name = raw.strip().replace(" ", "")
        if len(name) < 2:
            continue
        terms.append(("PERSON", name))
        sur = name[:2] if len(name) >= 4 else name[0]
        given = name[len(sur):]
        for suffix in ("某某", "某", "先生", "女士", "小姐", "老师", "医生", "医师", "主任"):
            terms.append(("PERSON", sur + suffix))
        if len(given) >= 2:
            terms.append(("PERSON", given))
    for etype, value in (("ID_NUMBER", values.id_number), ("PHONE", values.phone), ("MEDICAL_RECORD_NO", values.mrn),
                         ("INSURANCE_NO", values.insurance_no), ("MEDICAL_RECORD_NO", values.record_id),
                         ("MEDICAL_RECORD_NO", values.patient_id)):
        if value:
            pat = _digit_pattern(value)
            if pat is not None:
                terms.append((etype, pat))
            if value.startswith(("+86", "86")) and etype == "PHONE":
                pat = _digit_pattern(value.removeprefix("+").removeprefix("86"))
                if pat is not None:
                    terms.append((etype, pat))
    if values.address and len(values.address.strip()) >= 4:
        addr = values.address.strip()
        terms.append(("ADDRESS", addr))
        parts = [p for p in _ADMIN_SPLIT.split(addr) if p]
        for i in range(1, len(parts)):
            tail = "".join(parts[i:])
            if len(tail) >= 4:
                terms.append(("ADDRESS", tail))
    if values.birth_date:
        for form in _date_forms(values.birth_date):
            terms.append(("BIRTH_DATE", form))
    if values.employer and len(values.employer.strip()) >= 4:
        terms.append(("ORGANIZATION", values.employer.strip()))
    if values.hospital and len(values.hospital.strip()) >= 4:
        terms.append(("HOSPITAL", values.hospital.strip()))
    return terms


def find_terms(text: str, folded: str, terms: list[tuple[str, object]] | list[tuple[str, object, str]]) -> list[Span]:
    """Spans of every occurrence of the record's values (score 0.98: the record says so). A term may carry a
    third element, the source to report (a propagated name keeps the detector that found it); else `record`."""
    out: list[Span] = []
    proj = None
    for etype, term, *src in terms:
        source = src[0] if src else "record"
        if isinstance(term, str):
            i = text.find(term)
            while i >= 0:
                out.append(Span(i, i + len(term), etype, 0.98, source))
                i = text.find(term, i + len(term))
        else:
            if proj is None:
                proj = projection(folded)
            for s, e in term.find(folded, proj):  # type: ignore[union-attr]
                out.append(Span(s, e, etype, 0.98, source))
    return out
