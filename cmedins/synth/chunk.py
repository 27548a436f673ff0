"""Generate one deterministic chunk of visits and its ground truth.

A chunk's output depends only on (seed, chunk index, chunk size, start row): that is what makes the files
byte-identical whatever the number of worker processes. Patients, repeat visits and planted duplicates stay
inside their chunk.
"""

from __future__ import annotations

import gc
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import pyarrow as pa

from cmedins.contracts import TEXT_FIELDS, load_contract
from cmedins.synth import constraints as cons
from cmedins.synth import vocab_places as places
from cmedins.synth.compose import Composer, Draft, Visit
from cmedins.synth.duplicates import copy_draft, plant_near_duplicate
from cmedins.synth.patient import Patient, make_patient, person_name
from cmedins.synth.rand import below, pick
from cmedins.synth.text import render_spans
from cmedins.synth.vocab_constraints import ALLERGIES, ALLERGY_SHARE
from cmedins.synth.vocab_diseases import (
    BY_DEPARTMENT,
    COMORBIDITIES,
    DEPARTMENTS,
    DISEASES,
    OUTPATIENT_SHARE,
    Disease,
)
from cmedins.synth.vocab_overrides import COMORBID_DRUGS
from cmedins.synth.vocab_overrides import DRUGS as DRUG_OVERRIDES
from cmedins.synth.vocab_phrases import SURGERIES, SURGERY_EXCLUDES
from cmedins.synth.vocab_profiles import PROFILES

EXACT_DUP_SHARE = 0.015
NEAR_DUP_SHARE = 0.035
REPEAT_VISIT_SHARE = 0.18
_DATE0 = date(2018, 1, 1)
_DAYS = (date(2024, 6, 30) - _DATE0).days
_BY_CODE = {d.code: d for d in DISEASES}
_DEPTS = list(DEPARTMENTS)
_DEPT_W = [DEPARTMENTS[d] for d in _DEPTS]
GT_SCHEMAS: dict[str, pa.Schema] = {
    "pii_spans": pa.schema(
        [
            ("record_id", pa.string()),
            ("field", pa.string()),
            ("start", pa.int32()),
            ("end", pa.int32()),
            ("entity_type", pa.string()),
            ("text", pa.string()),
        ]
    ),
    "duplicates": pa.schema(
        [
            ("record_id_a", pa.string()),
            ("record_id_b", pa.string()),
            ("kind", pa.string()),
            ("edit_rate", pa.float64()),
            ("ops", pa.string()),
        ]
    ),
    "corruptions": pa.schema(
        [("row", pa.int64()), ("record_id", pa.string()), ("kind", pa.string()), ("field", pa.string())]
    ),
    "medical_terms": pa.schema(
        [
            ("record_id", pa.string()),
            ("field", pa.string()),
            ("start", pa.int32()),
            ("end", pa.int32()),
            ("term", pa.string()),
            ("kind", pa.string()),
        ]
    ),
    "pii_free": pa.schema([("record_id", pa.string()), ("field", pa.string())]),
}


def _perm(x: int, mod: int, a: int, b: int) -> int:
    """A bijection on [0, mod): sequential indexes become keys that look issued, not counted."""
    return (x * a + b) % mod


def record_id(row: int, visit_type: str, year: int) -> str:
    prefix = {"住院": "ZY", "门诊": "MZ", "急诊": "JZ"}[visit_type]
    return f"{prefix}{year}{_perm(row, 10**7, 7919, 104729):07d}"


def patient_key(index: int) -> str:
    return f"{_perm(index, 10**10, 7368787, 1234567):010d}"


def _words(d: Disease) -> str:
    return " ".join((d.name, *d.wordings))


def _drugs_of(d: Disease) -> tuple[str, ...]:
    return tuple(DRUG_OVERRIDES.get(d.code, PROFILES[d.profile].drugs))


def visit_comorbid(p: Patient, d: Disease) -> list[Disease]:
    """The patient's chronic conditions other than this visit's disease or its profile (no CKD3 beside CKD5)."""
    if d.department == "产科":
        return []  # a pregnant patient's record: no chronic drugs that pregnancy forbids
    return [_BY_CODE[c] for c in p.comorbid if c != d.code and _BY_CODE[c].profile != d.profile]


def _treatable(p: Patient, d: Disease, age: int) -> bool:
    """Whether this visit's disease and comorbidities each keep a drug the patient may take."""
    dx = " ".join(_words(x) for x in (d, *visit_comorbid(p, d)))
    if not cons.allowed_drugs(_drugs_of(d), p.sex, age, p.allergy, dx):
        return False
    for c in visit_comorbid(p, d):
        own = tuple(COMORBID_DRUGS.get(c.code, PROFILES[c.profile].drugs))
        if not cons.allowed_drugs(own, p.sex, age, p.allergy, dx):
            return False
    return True


def _compatible(p: Patient, d: Disease, when: date) -> bool:
    """A returning patient must fit the new disease: its sex and age range, their allergy, their past operation."""
    now = p.age_at(when)
    if d.code == "P59.902" or not cons.fits_patient(d, p.sex, now):
        return False  # a newborn's diagnosis is never a return visit
    if p.surgery is not None and any(w in _words(d) for w in SURGERY_EXCLUDES.get(p.surgery[0], ())):
        return False
    return _treatable(p, d, now)


def _history(rng: random.Random, p: Patient, d: Disease, age: int, when: date) -> None:
    """A new patient's lasting history: chronic conditions, drug allergy, past operation."""
    if age >= 40:
        k = rng.choices((0, 1, 2, 3), (3, 4, 2, 1))[0]
        pool = [c for c in COMORBIDITIES if cons.fits_patient(_BY_CODE[c], p.sex, age)]
        p.comorbid = tuple(rng.sample(pool, min(k, len(pool))))
    if rng.random() < ALLERGY_SHARE:
        options = list(ALLERGIES)
        rng.shuffle(options)
        for allergen in options:
            p.allergy = allergen
            if _treatable(p, d, age):
                break
        else:
            p.allergy = None
    if age >= 20 and rng.random() < 0.35:
        coronary = d.profile == "coronary" or "I25.105" in p.comorbid
        pool = [
            s
            for s in SURGERIES
            if cons.fits(s, p.sex, age)
            and (s != "PCI术" or coronary)
            and not any(w in _words(d) for w in SURGERY_EXCLUDES.get(s, ()))
        ]
        if pool:
            name = pick(rng, pool)
            p.surgery = (name, when - timedelta(days=below(rng, 400, min(9000, 365 * (age - 16)))))


@dataclass
class ChunkResult:
    index: int
    records: list[dict]
    gt: dict[str, dict[str, list]]  # ground-truth table -> column -> values
    departments: dict[str, int] = field(default_factory=dict)


class ChunkBuilder:
    def __init__(self, seed: int, index: int, chunk_size: int) -> None:
        self.rng = random.Random(f"cmedins-synth:{seed}:{index}")
        self.index, self.chunk_size = index, chunk_size
        self.patients: list[Patient] = []
        self.doctors: dict[str, list[tuple[str, str]]] = {}

    def _doctors(self, dept: str) -> list[tuple[str, str]]:
        if dept not in self.doctors:
            self.doctors[dept] = [person_name(self.rng, pick(self.rng, "男女")) for _ in range(5)]
        return self.doctors[dept]

    def _disease(self) -> Disease:
        dept = self.rng.choices(_DEPTS, _DEPT_W)[0]
        pool = BY_DEPARTMENT[dept]
        weights = [1.0 / (i + 1) ** 0.6 for i in range(len(pool))]
        return self.rng.choices(pool, weights)[0]

    def visit(self) -> Visit:
        rng = self.rng
        d = self._disease()
        sex, age = cons.draw(rng, d)
        patient = None
        if self.patients and rng.random() < REPEAT_VISIT_SHARE:
            cand = pick(rng, self.patients[-60:])
            when = cand.last_visit + timedelta(days=below(rng, 7, 400))
            if cand.sex == sex and abs(cand.age_at(when) - age) <= 20 and _compatible(cand, d, when):
                patient, adm = cand, when
        if patient is None:
            adm = _DATE0 + timedelta(days=below(rng, _DAYS))
            patient = make_patient(
                rng,
                patient_key(self.index * self.chunk_size + len(self.patients)),
                sex=sex,
                age=age,
                ref=adm,
                newborn=d.code == "P59.902",
            )
            patient.hospital = pick(rng, places.HOSPITALS)
            _history(rng, patient, d, patient.age_at(adm), adm)
            self.patients.append(patient)
        age = patient.age_at(adm)
        if d.department == "急诊科":
            vt = "急诊"
        else:
            vt = "门诊" if rng.random() < OUTPATIENT_SHARE.get(d.department, 0.25) else "住院"
        dis = adm + timedelta(days=below(rng, 2, 26)) if vt == "住院" else None
        comorbid = visit_comorbid(patient, d)
        hospital = patient.hospital if rng.random() < 0.85 else pick(rng, places.HOSPITALS)
        patient.last_visit = dis or adm
        v = Visit(patient, d, comorbid, vt, d.department, hospital, adm, dis, self._doctors(d.department), age)
        return v

    def drafts(self, n: int) -> tuple[list[Draft], list[tuple[int, int, str, float, str]]]:
        """n drafts in final order and the planted pairs as (index_a, index_b, kind, rate, ops)."""
        rng = self.rng
        n_exact = int(n * EXACT_DUP_SHARE + rng.random())
        n_near = int(n * NEAR_DUP_SHARE + rng.random())
        if n < 20:
            n_exact = n_near = 0
        n_base = n - n_exact - n_near
        base: list[Draft] = []
        for _ in range(n_base):
            v = self.visit()
            base.append(Composer(rng, v).compose())
            v.patient.visits += 1
        originals = rng.sample(range(n_base), n_exact + n_near) if n_exact + n_near else []
        copies: list[tuple[int, Draft, str, float, str]] = []
        for j, oi in enumerate(originals):
            if j < n_exact:
                copies.append((oi, copy_draft(base[oi]), "exact", 0.0, ""))
            else:
                repeat = rng.random() < 0.4 and base[oi].fields["visit_type"] != "急诊"
                shift = below(rng, 7, 120) if repeat else 0  # a repeat visit with copy-forward text
                c, rate, ops = plant_near_duplicate(rng, base[oi], shift)
                copies.append((oi, c, "near", rate, ops))
        order = list(range(n_base + len(copies)))
        rng.shuffle(order)
        pos = {src: k for k, src in enumerate(order)}  # src index -> final position
        drafts: list[Draft | None] = [None] * len(order)
        for i, d in enumerate(base):
            drafts[pos[i]] = d
        pairs = []
        for j, (oi, c, kind, rate, ops) in enumerate(copies):
            drafts[pos[n_base + j]] = c
            pairs.append((pos[oi], pos[n_base + j], kind, rate, ops))
        return [d for d in drafts if d is not None], pairs


Columns = dict[str, list]


def _kind_of(tag: str, text: str) -> str:
    if tag == "Ea":
        return "anatomy"
    return "eponym" if text.endswith("征") or text in _EPONYM_SET else "symptom"


def render_draft(d: Draft, rid: str, gt: dict[str, Columns]) -> dict:
    """The record row; its identifier spans, medical terms and PII-free fields are appended to `gt` (columns)."""
    row = {"record_id": rid, **d.fields}
    pii, terms, free = gt["pii_spans"], gt["medical_terms"], gt["pii_free"]
    p_out = [pii[k].append for k in ("record_id", "field", "start", "end", "entity_type", "text")]
    t_out = [terms[k].append for k in ("record_id", "field", "start", "end", "kind", "term")]
    for name in TEXT_FIELDS:
        text, spans = render_spans(d.sections[name])
        row[name] = text if text else None
        has_pii = False
        for start, end, tag, term in spans:
            kind, _, sub = tag.partition(":")
            if kind == "P":
                has_pii = True
                out, value = p_out, sub
            else:
                out, value = t_out, sub if kind == "M" else _kind_of(tag, term)
            out[0](rid)
            out[1](name)
            out[2](start)
            out[3](end)
            out[4](value)
            out[5](term)
        if text and not has_pii:
            free["record_id"].append(rid)
            free["field"].append(name)
    row["events"] = [
        {
            "section": e.section,
            "sentence": e.sentence.text,
            "subject": e.subject,
            "descriptors": e.descriptors,
            "anatomy": e.anatomy,
            "status": e.status,
        }
        for e in d.events
    ]
    return row


_EPONYM_SET = {"麦氏点", "墨菲征", "巴宾斯基征", "克氏征", "罗姆伯格征"}


def empty_columns() -> dict[str, Columns]:
    return {k: {name: [] for name in schema.names} for k, schema in GT_SCHEMAS.items()}


def build_chunk(seed: int, index: int, chunk_size: int, n: int, start_row: int) -> ChunkResult:
    """The chunk's records and ground truth. The cyclic garbage collector is paused meanwhile: a chunk allocates a
    few hundred thousand small objects and forms no reference cycles, so collecting would only cost time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_chunk(seed, index, chunk_size, n, start_row)
    finally:
        if enabled:
            gc.enable()


def _build_chunk(seed: int, index: int, chunk_size: int, n: int, start_row: int) -> ChunkResult:
    b = ChunkBuilder(seed, index, chunk_size)
    drafts, pairs = b.drafts(n)
    gt = empty_columns()
    records: list[dict] = []
    rids: list[str] = []
    depts: dict[str, int] = {}
    for i, d in enumerate(drafts):
        rid = record_id(start_row + i, d.fields["visit_type"], d.fields["admission_date"].year)
        rids.append(rid)
        row = render_draft(d, rid, gt)
        records.append(row)
        depts[row["department"]] = depts.get(row["department"], 0) + 1
    dup = gt["duplicates"]
    for a, bb, kind, rate, ops in sorted(pairs):
        for col, value in zip(dup, (rids[a], rids[bb], kind, round(rate, 6), ops), strict=True):
            dup[col].append(value)
    return ChunkResult(index, records, gt, depts)


def records_table(records: list[dict]) -> pa.Table:
    schema = load_contract("record").schema
    return pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in records], schema=schema)
