"""Apply `vocab_constraints`: who a diagnosis happens to, which words fit a patient, which drugs a patient may get.

Every choice the composer makes from a vocabulary list goes through here, so a constraint holds for all tables at
once. Filtering is cached per (list, sex, age), which keeps it off the generator's profile.
"""

from __future__ import annotations

import random
import re
from functools import cache

from cmedins.synth import vocab_constraints as vc
from cmedins.synth.rand import below, pick
from cmedins.synth.vocab_diseases import Disease

_DEPT_DEFAULT = {"儿科": ("-", 0, 13), "产科": ("F", 20, 42), "妇科": ("F", 18, 75)}
_ADULT = ("-", 18, 103)


def _demographics() -> dict[str, tuple[str, int, int]]:
    out = {}
    for line in vc._DEMOGRAPHICS.strip().splitlines():
        code, sex, lo, hi = line.split("|")
        out[code] = (sex, int(lo), int(hi))
    return out


DEMOGRAPHICS = _demographics()
_RULES = tuple((re.compile(p), sex, lo, hi) for p, sex, lo, hi in vc.WORD_RULES)


def spec(d: Disease) -> tuple[str, int, int]:
    """(sex rule, min age, max age) of a diagnosis."""
    return DEMOGRAPHICS.get(d.code) or _DEPT_DEFAULT.get(d.department, _ADULT)


def draw(rng: random.Random, d: Disease) -> tuple[str, int]:
    """Sex and age of a new patient with this diagnosis, within its range; ages over 89 now and then for adults."""
    sex_rule, lo, hi = spec(d)
    if sex_rule in ("F", "M"):
        sex = "女" if sex_rule == "F" else "男"
    elif sex_rule in ("F80", "M80"):
        main = "女" if sex_rule == "F80" else "男"
        sex = main if rng.random() < 0.8 else ("男" if main == "女" else "女")
    else:
        sex = pick(rng, "男女")
    if lo == hi:
        return sex, lo
    if lo < 18:
        return sex, below(rng, lo, hi + 1)
    top = min(hi, 89)
    if hi > 89 and rng.random() < 0.035:
        return sex, below(rng, 90, hi + 1)  # the over-89 ages that must be generalised
    return sex, lo + int(rng.betavariate(2.2, 1.8) * (top - lo + 1)) if top > lo else lo


def fits_patient(d: Disease, sex: str, age: int) -> bool:
    sex_rule, lo, hi = spec(d)
    if sex_rule == "F" and sex != "女" or sex_rule == "M" and sex != "男":
        return False
    return lo <= age <= hi


def fits(text: str, sex: str, age: int) -> bool:
    """Whether a vocabulary item may be said of this patient (no 前列腺 for women, no 月经 at 70, no 步入 at 1)."""
    return all((not rule_sex or sex == rule_sex) and lo <= age <= hi for rule_sex, lo, hi in _rules_of(text))


@cache
def _rules_of(text: str) -> tuple[tuple[str, int, int], ...]:
    """The (sex, min age, max age) rules whose words occur in `text`: matched once per text, checked per patient."""
    return tuple((sex, lo, hi) for pattern, sex, lo, hi in _RULES if pattern.search(text))


@cache
def _bound(items: tuple[str, ...]) -> tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...]:
    return tuple((x, _rules_of(x)) for x in items)


@cache
def keep(items: tuple[str, ...], sex: str, age: int) -> tuple[str, ...]:
    """The items of a vocabulary list that fit the patient, in their order."""
    return tuple(
        x
        for x, rules in _bound(items)
        if not rules or all((not s or sex == s) and lo <= age <= hi for s, lo, hi in rules)
    )


def forbidden_by_allergy(allergy: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return vc.ALLERGIES.get(allergy, ((), ())) if allergy else ((), ())


@cache
def _conflicts(dx: str) -> tuple[str, ...]:
    return tuple(w for words, dx_words in vc.DRUG_CONFLICTS if any(x in dx for x in dx_words) for w in words)


@cache
def _avoid(drugs: tuple[str, ...], allergy: str | None, conflicts: tuple[str, ...]) -> tuple[str, ...]:
    bad = (*forbidden_by_allergy(allergy)[0], *conflicts)
    return tuple(name for name in drugs if not any(w in name for w in bad))


def allowed_drugs(drugs: tuple[str, ...], sex: str, age: int, allergy: str | None, dx: str) -> tuple[str, ...]:
    """Drugs of a list that fit the patient's sex and age, avoid the allergy's classes and every diagnosis' conflicts.

    `dx` is the record's diagnoses joined (names and wordings): conflicts are words of the diagnoses.
    """
    return keep(_avoid(tuple(drugs), allergy, _conflicts(dx)), sex, age)


@cache
def _no_contrast(exams: tuple[str, ...], allergy: str | None) -> tuple[str, ...]:
    _, bad = forbidden_by_allergy(allergy)
    return tuple(x for x in exams if not any(w in x for w in bad))


def allowed_exams(exams: tuple[str, ...], sex: str, age: int, allergy: str | None) -> tuple[str, ...]:
    return keep(_no_contrast(tuple(exams), allergy), sex, age)
