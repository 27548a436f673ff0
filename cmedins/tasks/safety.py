"""Clinical safety checks of medication answers, driven by the reviewable rules in `data/`.

Safety is the paper's first preference dimension, and an instruction dataset that copies hospital orders copies
their rare mistakes too: a penicillin-allergic patient whose orders include piperacillin, an aspirin-allergic one
given aspirin. A medication answer is checked against what the record says about the patient:

- allergies stated in the record's text (`对青霉素过敏`, `有磺胺类过敏`, `青霉素皮试阳性`; denials such as
  `否认药物过敏史` are not allergies), by `data/allergy_rules.yaml`, cross-reactive classes included;
- sex- and pregnancy-specific contraindications, paediatric and geriatric rules on age and dose, and drugs a
  diagnosis of the same record contraindicates (metformin in ketoacidosis), by `data/contraindications.yaml`.

A conflict with `action: quarantine` makes the row `unsafe_answer` (counted under `unsafe:<kind>`); a rule with
`action: caution` keeps the row and puts its note into the answer's safety line (`caution:<kind>`), so the answer
teaches the caveat a pharmacist would add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cmedins.tasks.formats import Medication
from cmedins.tasks.record_text import clean
from cmedins.tasks.rules import DrugRule, Rules

# Sections where a record states allergies and pregnancy (the builders quote them; a stated allergy anywhere counts).
ALLERGY_FIELDS = ("past_history", "present_illness", "chief_complaint", "personal_history", "physical_exam")
_CLAUSE_SPLIT = re.compile(r"[，。；;,\n]")
_DENIAL = re.compile(r"否认|无|未|不详|没有|阴性")
_ALLERGY_WORD = re.compile(r"过敏|皮试阳性|皮试\(\+\)|皮试（\+）")
_DOSE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|g|μg|ug|mcg|毫克|克|微克)(?![A-Za-z/])", re.IGNORECASE)
_TO_MG = {"mg": 1.0, "毫克": 1.0, "g": 1000.0, "克": 1000.0, "μg": 0.001, "ug": 0.001, "mcg": 0.001, "微克": 0.001}
_PER_DAY = (
    (re.compile(r"q4h|每4小时", re.I), 6), (re.compile(r"qid|q6h|每日四次|每6小时|一日四次", re.I), 4),
    (re.compile(r"tid|q8h|每日三次|每8小时|一日三次|三餐", re.I), 3),
    (re.compile(r"bid|q12h|每日两次|每日二次|每12小时|一日两次|早晚", re.I), 2),
)


@dataclass(frozen=True)
class Patient:
    """What a record says about the patient that a prescription must respect."""

    sex: str | None
    age: int | None
    pregnant: bool
    allergies: tuple[str, ...]  # allergy ids of allergy_rules.yaml, in the order stated
    allergy_words: tuple[str, ...]  # the stated allergen as the record words it (青霉素, 头孢类), for notes
    diagnoses: tuple[str, ...]


def stated_allergies(text: str, rules: Rules) -> list[tuple[str, str]]:
    """(allergy id, the allergen as written) for each allergy clause of `text` that is not a denial."""
    out: list[tuple[str, str]] = []
    for clause in _CLAUSE_SPLIT.split(text or ""):
        if not _ALLERGY_WORD.search(clause) or _DENIAL.search(clause):
            continue
        for allergy, words in rules.allergens:
            hit = next((w for w in words if w in clause), None)
            if hit:
                m = re.search(rf"[\u4e00-\u9fffA-Za-z]*{re.escape(hit)}[\u4e00-\u9fff]{{0,3}}?(?:类)?", clause)
                written = m.group(0) if m else hit
                written = re.sub(r"^(?:有|对|自诉对|自诉|诉|曾对|既往对|既往有|明确)", "", written)
                written = re.sub(r"(?:过敏.*|药物|皮试.*)$", "", written) or hit
                if (allergy, written) not in out:
                    out.append((allergy, written))
                break
    return out


def is_pregnant(record: dict[str, Any], rules: Rules) -> bool:
    if clean(record.get("patient_sex")) != "女":
        return False
    for d in record.get("diagnoses") or []:
        text = clean(d.get("text")) + " " + clean(d.get("icd10_name"))
        if any(w in text for w in rules.pregnancy_dx_words) and not any(x in text for x in rules.pregnancy_dx_except):
            return True
    if rules.pregnancy_text is not None:
        for f in ("chief_complaint", "present_illness"):
            if rules.pregnancy_text.search(clean(record.get(f))):
                return True
    return False


_LAST: list[Any] = [None, None, None]  # (record, rules, patient): the builder and the collector ask in turn


def patient_of(record: dict[str, Any], rules: Rules) -> Patient:
    """The patient facts of a de-identified record (remembered for the record last asked about)."""
    if _LAST[0] is record and _LAST[1] is rules:
        return _LAST[2]
    _LAST[:] = [record, rules, _patient_of(record, rules)]
    return _LAST[2]


def _patient_of(record: dict[str, Any], rules: Rules) -> Patient:
    stated: list[tuple[str, str]] = []
    for f in ALLERGY_FIELDS:
        for a in stated_allergies(clean(record.get(f)), rules):
            if a not in stated:
                stated.append(a)
    sex = clean(record.get("patient_sex"))
    age = record.get("patient_age")
    return Patient(
        sex=sex if sex in ("男", "女") else None,
        age=int(age) if age is not None else None,
        pregnant=is_pregnant(record, rules),
        allergies=tuple(dict.fromkeys(a for a, _ in stated)),
        allergy_words=tuple(dict.fromkeys(w for _, w in stated)),
        diagnoses=tuple(clean(d.get("text")) + " " + clean(d.get("icd10_name")) for d in record.get("diagnoses") or []),
    )


def dose_mg(dose: str) -> float | None:
    """The single dose in mg when the dose is written in mg, g or μg (`0.5g` -> 500.0), else None."""
    m = _DOSE_RE.search(dose or "")
    return float(m.group(1)) * _TO_MG[m.group(2).lower() if m.group(2).isascii() else m.group(2)] if m else None


def per_day(frequency: str) -> int:
    for pattern, n in _PER_DAY:
        if pattern.search(frequency or ""):
            return n
    return 1


def _in_rule(rule: DrugRule, drug: str, rules: Rules) -> bool:
    if any(x in drug for x in rule.exclude):
        return False
    return any(m in drug for m in rule.match) or bool(set(rule.classes) & set(rules.classes_of(drug)))


def _applies(rule: DrugRule, med: Medication, p: Patient) -> bool:
    if rule.min_age is not None and (p.age is None or p.age < rule.min_age):
        return False
    if rule.max_age is not None and (p.age is None or p.age >= rule.max_age):
        return False
    if rule.forbidden_for is not None and p.sex != rule.forbidden_for:
        return False
    if rule.unless_dx and any(w in d for d in p.diagnoses for w in rule.unless_dx):
        return False
    if rule.when_dx and not any(w in d for d in p.diagnoses for w in rule.when_dx):
        return False
    if rule.max_single_mg is not None or rule.max_daily_mg is not None:
        mg = dose_mg(med.dose)
        if mg is None:
            return False
        if rule.max_single_mg is not None and mg > rule.max_single_mg + 1e-9:
            return True
        return rule.max_daily_mg is not None and mg * per_day(med.frequency) > rule.max_daily_mg + 1e-9
    return True


@dataclass(frozen=True)
class Finding:
    kind: str
    action: str  # quarantine | caution
    drug: str
    note: str = ""


@lru_cache(maxsize=16384)
def _drug_rules(rules: Rules, drug: str) -> tuple[tuple[tuple[str, str], ...], tuple[DrugRule, ...],
                                                  tuple[DrugRule, ...]]:
    """What could ever apply to one drug: (allergy id, kind) pairs, patient rules, pregnancy rules."""
    classes = set(rules.classes_of(drug))
    allergies = tuple((a, kind) for a, avoid, kind in rules.allergy_rules if classes & set(avoid))
    patient = tuple(r for r in (*rules.sex_rules, *rules.age_rules, *rules.diagnosis_rules) if _in_rule(r, drug, rules))
    pregnancy = tuple(r for r in rules.pregnancy_rules if _in_rule(r, drug, rules))
    return allergies, patient, pregnancy


def check(meds: list[Medication] | tuple[Medication, ...], p: Patient, rules: Rules) -> list[Finding]:
    """Every rule the prescription breaks for this patient, allergy conflicts first."""
    out: list[Finding] = []
    for med in meds:
        allergies, patient, pregnancy = _drug_rules(rules, med.drug)
        out += [Finding(kind, "quarantine", med.drug) for a, kind in allergies if a in p.allergies]
        for rule in (*patient, *(pregnancy if p.pregnant else ())):
            if _applies(rule, med, p):
                note = rule.note.format(drug=med.drug, age=p.age) if rule.note else ""
                out.append(Finding(rule.kind, rule.action, med.drug, note))
    return out
