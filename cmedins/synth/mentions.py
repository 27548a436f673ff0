"""Pieces for identifier mentions inside prose: names with titles and 某某 forms, phones, IDs, dates, places.

Span convention for PERSON: the span covers the name proper (surname, given name, or surname + 某/某某); titles
and kinship words around it (先生, 主任, 其子, 老) stay outside the span, as the placeholder replaces the name only.
"""

from __future__ import annotations

import random
from datetime import date

from cmedins.synth import identifiers as ids
from cmedins.synth import vocab_people as people
from cmedins.synth.rand import pick
from cmedins.synth.text import Piece, fullwidth_digits


def pii(text: str, etype: str) -> Piece:
    return (text, "P:" + etype)


def med(text: str, kind: str) -> Piece:
    return (text, "M:" + kind)


def patient_name(rng: random.Random, surname: str, given: str, sex: str, age: int) -> list[Piece]:
    """How a note names its own patient."""
    r = rng.random()
    if r < 0.45:
        return [pii(surname + given, "PERSON")]
    if r < 0.6:
        return [pii(surname + "某某", "PERSON")]
    if r < 0.7:
        return [pii(surname + "某", "PERSON")]
    if r < 0.8:
        if age < 14:
            return [pii(surname + given, "PERSON"), ("小朋友", None)]
        title = ("先生" if sex == "男" else "女士") if age < 65 else ("老先生" if sex == "男" else "老太太")
        return [pii(surname, "PERSON"), (title, None)]
    if r < 0.86 and age >= 55:
        return [("老", None), pii(surname, "PERSON")]
    if r < 0.93 and len(given) == 2:
        return [pii(f"{surname} {given}", "PERSON")]  # stray space typed between surname and given name
    return [pii(surname + given, "PERSON")]


_CLINIC_TITLES = ("主任", "教授", "副主任医师", "主任医师", "主治医师", "医生")


def staff_name(rng: random.Random, surname: str, given: str, clinic: bool = False) -> list[Piece]:
    """Doctors and nurses: `李明主任`, `王主任`, `主治医师：陈立新`, `赵医生`; `clinic` keeps to doctors who see
    outpatients (no 护士长 running a 专家门诊)."""
    titles = _CLINIC_TITLES if clinic else people.STAFF_TITLES
    r = rng.random()
    if r < 0.4:
        return [pii(surname + given, "PERSON")]
    if r < 0.75:
        return [pii(surname, "PERSON"), (pick(rng, titles), None)]
    return [pii(surname + given, "PERSON"), (pick(rng, titles), None)]


def phone_text(rng: random.Random, value: str) -> str:
    if len(value) == 11 and value.startswith("1"):
        return ids.mobile_surface(rng, value)
    return value


def date_piece(
    rng: random.Random, d: date, birth: bool = False, ref: date | None = None, day_only: bool = False
) -> Piece:
    """A date mention; one more than two months from `ref` (the visit) is written with its year, as notes do, and
    `day_only` leaves out the time of day (a last menstrual period has none)."""
    need_year = ref is not None and abs((ref - d).days) > 60
    surface = ids.date_surface(rng, d, birth=birth, need_year=need_year, day_only=day_only)
    return pii(surface, "BIRTH_DATE" if birth else "DATE")


def age_pieces(age: int, rng: random.Random, days: int | None = None) -> list[Piece]:
    """`65岁` (not an identifier) or, over 89, an AGE span covering the number and 岁; infants in days or months."""
    if age == 0 and days is not None:
        return [(f"{max(days, 1)}天" if days < 60 else f"{days // 30}个月", None)]
    text = f"{age}岁"
    if rng.random() < 0.04:
        text = fullwidth_digits(text)
    if age > 89:
        return [pii(text, "AGE")]
    return [(text, None)]
