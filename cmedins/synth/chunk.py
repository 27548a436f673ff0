"""Generate one deterministic chunk of visits and its ground truth.

A chunk's output depends only on (seed, chunk index, chunk size, start row): that is what makes the files
byte-identical whatever the number of worker processes. Patients, repeat visits and planted duplicates stay
inside their chunk.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import pyarrow as pa

from cmedins.contracts import TEXT_FIELDS, load_contract
from cmedins.synth import vocab_places as places
from cmedins.synth.compose import Composer, Draft, Visit
from cmedins.synth.duplicates import copy_draft, plant_near_duplicate
from cmedins.synth.patient import Patient, make_patient, person_name
from cmedins.synth.text import render_spans
from cmedins.synth.vocab_diseases import (
    BY_DEPARTMENT,
    COMORBIDITIES,
    DEPARTMENTS,
    DISEASES,
    OUTPATIENT_SHARE,
    Disease,
)

EXACT_DUP_SHARE = 0.015
NEAR_DUP_SHARE = 0.035
REPEAT_VISIT_SHARE = 0.18
_DATE0 = date(2018, 1, 1)
_DAYS = (date(2024, 6, 30) - _DATE0).days
_BY_CODE = {d.code: d for d in DISEASES}
_DEPTS = list(DEPARTMENTS)
_DEPT_W = [DEPARTMENTS[d] for d in _DEPTS]
_FEMALE_CODES = {"C50.902", "C56xx02", "N62xx04", "N61xx01", "D24xx01"}
_MALE_CODES = {"N40xx01", "C61xx01"}

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


def _demographics(rng: random.Random, d: Disease) -> tuple[str, int]:
    dept = d.department
    if dept == "儿科":
        return rng.choice("男女"), (0 if d.code == "P59.902" else rng.randrange(0, 14))
    if dept == "产科":
        return "女", rng.randrange(20, 43)
    if d.code in ("N95.101",):
        return "女", rng.randrange(45, 58)
    if d.code in ("N95.001", "H25.901"):
        return ("女" if d.code == "N95.001" else rng.choice("男女")), rng.randrange(55, 86)
    if dept == "妇科" or d.code in _FEMALE_CODES:
        return "女", rng.randrange(18, 76)
    if d.code in _MALE_CODES:
        return "男", rng.randrange(50, 91)
    sex = rng.choice("男女")
    if rng.random() < 0.035:
        return sex, rng.randrange(90, 104)  # the over-89 ages that must be generalised
    return sex, 18 + int(rng.betavariate(2.2, 1.8) * 72)


def _compatible(p: Patient, sex: str, age: int, when: date) -> bool:
    """A returning patient must fit the new disease: same sex, child/adult status and roughly the drawn age."""
    now = p.age_at(when)
    return p.sex == sex and (age < 14) == (now < 14) and abs(now - age) <= 20


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
            self.doctors[dept] = [person_name(self.rng, self.rng.choice("男女")) for _ in range(5)]
        return self.doctors[dept]

    def _disease(self) -> Disease:
        dept = self.rng.choices(_DEPTS, _DEPT_W)[0]
        pool = BY_DEPARTMENT[dept]
        weights = [1.0 / (i + 1) ** 0.6 for i in range(len(pool))]
        return self.rng.choices(pool, weights)[0]

    def visit(self) -> Visit:
        rng = self.rng
        d = self._disease()
        sex, age = _demographics(rng, d)
        patient = None
        if self.patients and rng.random() < REPEAT_VISIT_SHARE:
            cand = rng.choice(self.patients[-60:])
            when = cand.last_visit + timedelta(days=rng.randrange(7, 400))
            if _compatible(cand, sex, age, when):
                patient, adm = cand, when
        if patient is None:
            adm = _DATE0 + timedelta(days=rng.randrange(_DAYS))
            patient = make_patient(
                rng,
                patient_key(self.index * self.chunk_size + len(self.patients)),
                sex=sex,
                age=age,
                ref=adm,
                newborn=d.code == "P59.902",
            )
            patient.hospital = rng.choice(places.HOSPITALS)
            self.patients.append(patient)
        age = patient.age_at(adm)
        if d.department == "急诊科":
            vt = "急诊"
        else:
            vt = "门诊" if rng.random() < OUTPATIENT_SHARE.get(d.department, 0.25) else "住院"
        dis = adm + timedelta(days=rng.randrange(2, 26)) if vt == "住院" else None
        comorbid: list[Disease] = []
        if age >= 40:
            k = rng.choices((0, 1, 2, 3), (3, 4, 2, 1))[0]
            codes = [c for c in COMORBIDITIES if _BY_CODE[c].profile != d.profile]  # no CKD3 beside CKD5
            comorbid = [_BY_CODE[c] for c in rng.sample(codes, k)]
        hospital = patient.hospital if rng.random() < 0.85 else rng.choice(places.HOSPITALS)
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
                c, rate, ops = plant_near_duplicate(rng, base[oi])
                if rng.random() < 0.4 and c.fields["visit_type"] != "急诊":  # a repeat visit with copy-forward text
                    shift = timedelta(days=rng.randrange(7, 120))
                    c.fields["admission_date"] = c.fields["admission_date"] + shift
                    if c.fields["discharge_date"] is not None:
                        c.fields["discharge_date"] = c.fields["discharge_date"] + shift
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
    for name in TEXT_FIELDS:
        text, spans = render_spans(d.sections[name])
        row[name] = text if text else None
        has_pii = False
        for s in spans:
            kind, _, sub = s.tag.partition(":")
            if kind == "P":
                has_pii = True
                cols, last, value = pii, "entity_type", sub
                cols["text"].append(s.text)
            else:
                cols, last, value = terms, "kind", sub if kind == "M" else _kind_of(s.tag, s.text)
                cols["term"].append(s.text)
            cols["record_id"].append(rid)
            cols["field"].append(name)
            cols["start"].append(s.start)
            cols["end"].append(s.end)
            cols[last].append(value)
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
