"""The shared writer every section of a visit is written with: the per-visit state, the author's quirks and the
phrase helpers (one symptom, a drug with its dose, a marked-up finding, a negation list, another hospital).

It is separate from the section modules so that each of them only holds what its section says; all of them draw from
the one `self.rng` in the order the sections are written, which keeps a seed's corpus byte-identical.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from cmedins.contracts import TEXT_FIELDS
from cmedins.synth import constraints as cons
from cmedins.synth import vocab_places as places
from cmedins.synth.mentions import med, patient_name, pii
from cmedins.synth.patient import Patient
from cmedins.synth.rand import pick
from cmedins.synth.text import Event, Finding, Piece, Section, Sentence, fullwidth_digits, parse_markup
from cmedins.synth.timeline import Timeline
from cmedins.synth.vocab_clinical import CLINICAL, COMORBID
from cmedins.synth.vocab_constraints import LOW_DOSE_ELDERLY
from cmedins.synth.vocab_diseases import Disease
from cmedins.synth.vocab_drugs import DRUGS
from cmedins.synth.vocab_overrides import COMORBID_DRUGS
from cmedins.synth.vocab_overrides import DRUGS as DRUG_OVERRIDES
from cmedins.synth.vocab_overrides import EXAMS as EXAM_OVERRIDES
from cmedins.synth.vocab_overrides import SIGNS as SIGN_OVERRIDES
from cmedins.synth.vocab_overrides import SYMPTOMS as SYMPTOM_OVERRIDES
from cmedins.synth.vocab_phrases import BEFORE_WORDS, SPECIALTY
from cmedins.synth.vocab_profiles import PROFILES


@cache
def _markup(m: str) -> tuple[tuple[Piece, ...], tuple[Finding, ...]]:
    pieces, findings = parse_markup(m)
    return tuple(pieces), tuple(findings)


@cache
def _hospitals(dept: str) -> tuple[str, ...]:
    return tuple(h for h in places.OTHER_HOSPITALS if all(k not in h or d == dept for k, d in SPECIALTY.items()))


def _before(desc: str) -> bool:
    """Whether a descriptor reads naturally in front of its subject (阵发性胸痛, 活动后气促) or after it."""
    if any(ch.isdigit() for ch in desc):
        return False
    return desc.endswith(("性", "样", "状", "后", "时")) or desc in BEFORE_WORDS


@dataclass
class Visit:
    """Everything the composer decides about one visit before writing text."""

    patient: Patient
    disease: Disease
    comorbid: list[Disease]
    visit_type: str
    department: str
    hospital: str
    admission: date
    discharge: date | None
    doctors: list[tuple[str, str]]
    age: int


@dataclass
class Draft:
    """A record before rendering: structured values, sections of pieces, events pointing at sentences."""

    fields: dict
    sections: dict[str, Section]
    events: list[Event] = field(default_factory=list)


def copy_section(s: Section) -> Section:
    return Section(s.name, [Sentence(list(x.pieces)) for x in s.sentences], s.sep)


class Writer:
    """Per-visit state and the phrase helpers; the section mixins of `Composer` build on it."""

    def __init__(self, rng: random.Random, v: Visit) -> None:
        self.rng, self.v = rng, v
        self.profile = PROFILES[v.disease.profile]
        sex, age = v.patient.sex, v.age
        self.sex, self.age = sex, age
        self.age_days = max(1, (v.admission - v.patient.birth).days)
        code = v.disease.code
        clin = CLINICAL[code]
        sx = clin.sx or SYMPTOM_OVERRIDES.get(code, self.profile.sx)
        self.sx = list(cons.keep(tuple(sx), sex, age) or sx)
        self.dx_words = " ".join(w for d in (v.disease, *v.comorbid) for w in (d.name, *d.wordings))
        self.drug_list = self.allowed(DRUG_OVERRIDES.get(code, self.profile.drugs)) or self.allowed(self.profile.drugs)
        signs = clin.signs if clin.signs is not None else SIGN_OVERRIDES[code]
        exams = clin.exams if clin.exams is not None else EXAM_OVERRIDES[code]
        self.signs = cons.keep(tuple(signs), sex, age)
        self.exams = cons.allowed_exams(tuple(exams), sex, age, v.patient.allergy)
        self.comorbid_signs = [m for d in v.comorbid for m in cons.keep(COMORBID[d.code].signs or (), sex, age)]
        self.comorbid_exams = [
            m for d in v.comorbid for m in cons.allowed_exams(COMORBID[d.code].exams or (), sex, age, v.patient.allergy)
        ]
        self.cc_sx: list[str] = []
        self.sections = {name: Section(name) for name in TEXT_FIELDS}
        self.events: list[Event] = []
        self.quirky = rng.random() < 0.35  # this note's author types full-width digits / half-width punctuation
        self.wording = self._wording(v.disease, primary=True)
        self.drugs: list[tuple[str, str, str, str]] = []
        self.labs: list[dict] = []
        self.tl: Timeline | None = None
        self.cc_duration = ""
        self.preg_weeks = ""
        self.exam_signs: list[str] = []
        self.picked: dict[str, tuple[str | None, str | None]] = {}
        self.lmp: date | None = None
        self.child = v.age < 14

    def allowed(self, drugs: tuple[str, ...]) -> tuple[str, ...]:
        """The drugs of a list this patient may get: sex, age, the stated allergy, the record's diagnoses."""
        return cons.allowed_drugs(tuple(drugs), self.sex, self.age, self.v.patient.allergy, self.dx_words)

    def dose(self, name: str) -> str:
        """One of the drug's doses; the lowest for the elderly where the usual dose is too much for them."""
        doses = DRUGS[name][0]
        return doses[0] if self.age >= 65 and name in LOW_DOSE_ELDERLY else pick(self.rng, doses)

    def comorbid_drugs(self, d: Disease) -> tuple[str, ...]:
        return self.allowed(COMORBID_DRUGS.get(d.code, PROFILES[d.profile].drugs))

    def c(self, *opts: str) -> str:
        """One of the phrasings (the most frequent draw of the generator: one C call, not `random.choice`)."""
        return opts[int(self.rng.random() * len(opts))]

    def q(self, text: str) -> Piece:
        """Plain prose with this author's quirks."""
        if self.quirky:
            r = self.rng.random()
            if r < 0.3:
                text = fullwidth_digits(text)
            elif r < 0.45:
                text = text.replace("，", ",").replace("：", ":")
        return (text, None)

    def sent(self, section: str, pieces: list[Piece], evs: list[tuple] = ()) -> Sentence:
        if self.quirky and self.rng.random() < 0.12:
            pieces = [(" ", None), *pieces] if self.rng.random() < 0.5 else [*pieces, ("  ", None)]
        s = self.sections[section].add(pieces)
        for subj, descs, anats, status in evs:
            self.events.append(Event(section, s, subj, list(descs), list(anats), status))
        return s

    def _wording(self, d: Disease, primary: bool = False) -> str:
        words = list(cons.keep(d.wordings, self.sex, self.age) or d.wordings)
        w = pick(self.rng, words)
        r = self.rng.random()
        if primary and r < 0.12 and d.profile in ("copd", "asthma"):
            w += self.c("（急性发作期）", "急性加重", "(活动期)")
        elif primary and r < 0.2:
            w += self.c("", "？", "(初诊)", "（复诊）")
        return w

    def symptom(self, sx: str, status: str = "肯定", brief: bool = False) -> tuple[list[Piece], tuple]:
        """A symptom phrase (anatomy, descriptor, subject in a natural order) and its event tuple."""
        subj, d_raw, a_raw = sx.split("|")
        if subj.startswith("体检发现"):  # a finding, not a complaint: 体检发现PSA升高, without descriptors
            return [self.q("体检发现"), (subj[4:], "Es")], (subj[4:], [], [], status)
        descs = [x for x in d_raw.split(",") if x and (self.tl is None or self.tl.allows(x))]
        anats = [x for x in a_raw.split(",") if x]
        if sx in self.picked:  # the same symptom keeps its side and character from 主诉 to 现病史
            d, a = self.picked[sx]
        else:
            d = pick(self.rng, descs) if descs and self.rng.random() < 0.7 else None
            a = pick(self.rng, anats) if anats and self.rng.random() < 0.85 else None
            self.picked[sx] = (d, a)
        if d and set(d) & set(subj):
            d = None  # 低热 + 发热 reads as a stutter
        pieces: list[Piece] = []
        overlap = a is not None and bool(set(a) & set(subj))
        if brief and overlap:
            a = None
        if a and not overlap and (brief or self.rng.random() < 0.8):
            pieces.append((a, "Ea"))
            a_after = None
        else:
            a_after = a
        after = d is not None and not _before(d)
        if after and brief:
            d, after = None, False
        if d and not after:
            pieces.append((d, "Ed"))
        pieces.append((subj, "Es"))
        if d and after:
            if d.startswith("约"):
                joint = ""  # 停经约32周
            elif d[0].isdigit() or d.startswith(("近", "每", "最")):
                joint = "，"
            else:
                joint = self.c("，", "，呈", "，为", "，")
            pieces += [self.q(joint), (d, "Ed")]
        if a_after:
            how = self.c("，以|为主", "，位于|", "，以|明显", "，部位在|").split("|")
            pieces += [self.q(how[0]), (a_after, "Ea"), (how[1], None)]
        return pieces, (subj, [d] if d else [], [a] if a else [], status)

    def negatives(self, section: str, subjects: list[str], lead: str | None = None, end: str | None = None) -> None:
        if not subjects:
            return
        lead = lead or self.c("无", "不伴", "否认", "未诉", "无明显", "未见")
        pieces: list[Piece] = [self.q(lead)]
        evs = []
        for i, s in enumerate(subjects):
            if i:
                pieces.append(self.q(self.c("、", "及", "、", "，")))
            pieces.append((s, "Es"))
            evs.append((s, [], [], "否定"))
        pieces.append(self.q(end or self.c("。", "等不适。", "等症状。", "。")))
        self.sent(section, pieces, evs)

    def markup_sentence(self, section: str, m: str, prefix: list[Piece] = (), end: str = "。") -> None:
        pieces, findings = _markup(m)
        evs = [(f.subject, f.descriptors, f.anatomy, f.status) for f in findings]  # one event per finding
        self.sent(section, [*prefix, *pieces, self.q(end)], evs)

    def name_of_patient(self) -> list[Piece]:
        p = self.v.patient
        return patient_name(self.rng, p.surname, p.given, p.sex, self.v.age)

    def hosp(self) -> Piece:
        """Another hospital the patient went to; specialty hospitals only for their own specialty."""
        return pii(pick(self.rng, _hospitals(self.v.department)), "HOSPITAL")

    def drug_phrase(self, name: str, full: bool = True) -> list[Piece]:
        doses, route, freqs = DRUGS[name]
        dose, freq = self.dose(name), pick(self.rng, freqs)
        out: list[Piece] = [med(name, "drug")]
        if full:
            out += [
                (" " if self.rng.random() < 0.7 else "", None),
                med(dose, "dose"),
                (" ", None),
                (self.c(freq, f"{route} {freq}", f"{freq} {route}"), None),
            ]
        return out
