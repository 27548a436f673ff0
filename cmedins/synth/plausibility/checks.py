"""Per-record plausibility checks by clinical family: sex, age, labs, timeline, allergy, findings.

Each check reads a record the way a clinician reviewing the chart would and yields `(kind, detail)` for every
problem; the kinds are grouped into the families the report prints. The checks use only this package's own keyword
lists (`terms`, `findings`), never the generator's vocabularies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from cmedins.synth.plausibility import terms
from cmedins.synth.plausibility.findings import compile_rules
from cmedins.synth.plausibility.timeline import (
    complaint_durations,
    illness_references,
    normalise,
    parse_dates,
)

Problem = tuple[str, str]
_EXAM_RULES, _LAB_RULES = compile_rules()
_CLAUSE = re.compile(r"[^，,。；;\n]*")
_NEG = re.compile(r"未|无(?!明显诱因)|否认|阴性")


@dataclass
class Chart:
    """One record as the checks see it: normalised text per section, age at the visit, diagnosis words."""

    row: dict

    @cached_property
    def text(self) -> dict[str, str]:
        return {f: normalise(self.row.get(f)) for f in terms.TEXT_FIELDS}

    @cached_property
    def all_text(self) -> str:
        return "\n".join(self.text.values())

    @property
    def sex(self) -> str | None:
        return self.row.get("patient_sex")

    @cached_property
    def admission(self) -> date:
        return _as_date(self.row["admission_date"])

    @cached_property
    def discharge(self) -> date | None:
        d = self.row.get("discharge_date")
        return _as_date(d) if d else None

    @cached_property
    def birth(self) -> date | None:
        b = self.row.get("patient_birth_date")
        return _as_date(b) if b else None

    @cached_property
    def age(self) -> int | None:
        b, a = self.birth, self.admission
        if b is None:
            return None
        return a.year - b.year - ((a.month, a.day) < (b.month, b.day))

    @cached_property
    def age_days(self) -> int | None:
        return (self.admission - self.birth).days if self.birth else None

    @cached_property
    def dx(self) -> str:
        return " ".join(f"{d.get('text') or ''} {d.get('icd10_name') or ''}" for d in self.row.get("diagnoses") or [])

    @cached_property
    def drugs(self) -> list[str]:
        return [m.get("drug") or "" for m in self.row.get("medications") or []]


def _as_date(v: object) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def _affirmed(text: str, m: re.Match) -> bool:
    """Whether a keyword hit is stated, not denied, in its clause (否认吸烟 is no smoking)."""
    start = text.rfind("，", 0, m.start())
    for sep in ("。", "；", ",", ";", "\n"):
        start = max(start, text.rfind(sep, 0, m.start()))
    end = len(text)
    for sep in ("，", "。", "；", ",", ";", "\n"):
        k = text.find(sep, m.end())
        if k != -1:
            end = min(end, k)
    return not _NEG.search(text[start + 1 : end])


# ---------------- sex ----------------


def _words(words: tuple[str, ...]) -> re.Pattern:
    """Any of the words; a Latin one (HCG, PSA) only as a word of its own, not inside a plate number."""
    parts = [rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])" if w.isascii() else re.escape(w) for w in words]
    return re.compile("|".join(parts))


_FEMALE_WORD = _words(terms.FEMALE_ONLY)
_MALE_WORD = _words(tuple(w for w in terms.MALE_ONLY if w != "PSA"))


def check_sex(c: Chart) -> Iterator[Problem]:
    labs = " ".join(x.get("item") or "" for x in c.row.get("labs") or [])
    everything = f"{c.all_text}\n{c.dx}\n{labs}"
    if c.sex == "女":
        if "前列腺特异性抗原" in labs or re.search(r"(?<![A-Za-z])PSA(?![A-Za-z])|前列腺特异性抗原", c.all_text):
            yield "psa_in_female", "PSA"
        rest = everything.replace("前列腺特异性抗原", "")
        m = _MALE_WORD.search(rest)
        hit = m.group(0) if m else None
        if hit:
            yield "prostate_or_male_finding_in_female", hit
        drug = next((d for d in c.drugs if any(w in d for w in terms.MALE_DRUGS)), None)
        if drug:
            yield "male_drug_in_female", drug
    elif c.sex == "男":
        own_birth = re.sub(r"(足月|早产)?剖宫产(?=[，,。])", "", everything)  # a child's own birth history
        m = _FEMALE_WORD.search(own_birth)
        hit = m.group(0) if m else None
        if hit:
            yield "female_finding_in_male", hit
        drug = next((d for d in c.drugs if any(w in d for w in terms.FEMALE_DRUGS)), None)
        if drug:
            yield "female_drug_in_male", drug


# ---------------- age ----------------


def check_age(c: Chart) -> Iterator[Problem]:
    age = c.age
    if age is None:
        return
    t = c.text
    complaint = t["chief_complaint"] + "\n" + t["present_illness"]
    labs = c.row.get("labs") or []
    if c.sex == "女" and age >= 55 and terms.MENSTRUAL.search(complaint):
        yield "menstrual_complaint_at_55plus", terms.MENSTRUAL.search(complaint).group(0)
    m = re.search(r"(\d+)岁绝经", t["marital_history"])
    if m and int(m.group(1)) > age:
        yield "menopause_after_current_age", m.group(0)
    if c.sex == "女" and age >= 56 and re.search(r"末次月经|LMP", t["marital_history"]) and "绝经" not in t[
        "marital_history"
    ]:
        yield "menstruating_at_56plus", "LMP"
    preg_text = terms.ECTOPIC.sub("", f"{complaint}\n{t['auxiliary_exam']}\n{c.dx}")
    pm = terms.PREGNANCY.search(preg_text)
    if pm and age >= 50:
        yield "pregnancy_at_50plus", pm.group(0)
    if pm and age < 14:
        yield "pregnancy_under_14", pm.group(0)
    em = terms.ECTOPIC.search(f"{c.all_text}\n{c.dx}")
    if em and (age >= 50 or age < 14):
        yield "ectopic_workup_at_age_extreme", em.group(0)
    for x in labs:
        item = x.get("item") or ""
        if any(w in item for w in terms.HCG_WORDS) and (x.get("flag") == "H") and (age >= 50 or age < 14):
            yield "hcg_raised_at_age_extreme", f"{item} {x.get('value')}"
    if re.search(r"(HCG|hCG)[^，。；]{0,4}(阳性|升高)", c.all_text) and (age >= 50 or age < 14):
        yield "hcg_raised_at_age_extreme", "HCG阳性"
    dx = c.dx
    if age >= 14:
        hit = next((w for w in terms.PAEDIATRIC_DX if w in dx), None)
        if hit:
            yield "paediatric_diagnosis_in_adult", hit
    if c.age_days is not None and c.age_days > 60 and "新生儿" in dx:
        yield "paediatric_diagnosis_in_adult", "新生儿"
    if age < 14:
        hit = next((w for w in terms.ADULT_DX if w in dx), None)
        if hit:
            yield "adult_diagnosis_in_child", hit
        hist = t["personal_history"] + t["marital_history"] + t["past_history"]
        m = terms.ADULT_LIFE.search(hist)
        if m and _affirmed(hist, m):
            yield "adult_history_in_child", m.group(0)
    if age < 40:
        hit = next((w for w in terms.OLD_AGE_DX if w in dx), None)
        if hit:
            yield "old_age_diagnosis_in_young", hit
    if age < 3:
        m = terms.INFANT_CANNOT.search(t["physical_exam"])
        if m:
            yield "infant_speaks_or_walks", m.group(0)
    if age >= 18 and re.search(r"患儿|小朋友|出生体重|喂养史", c.all_text):
        yield "child_wording_for_adult", "患儿"
    m = re.search(r"吸烟(\d+)年", t["personal_history"])
    if m:
        quit_ = re.search(r"戒烟(\d+)年", t["personal_history"])
        if int(m.group(1)) + (int(quit_.group(1)) if quit_ else 0) > age - 10:
            yield "smoking_longer_than_possible", m.group(0)
    m = re.search(r"(\d+)岁结婚", t["marital_history"])
    if m and int(m.group(1)) > age:
        yield "married_after_current_age", m.group(0)


# ---------------- labs ----------------

_GLUED = re.compile(
    "(?<![A-Za-z0-9])(" + "|".join(re.escape(a) for a in sorted(terms.DIGIT_ENDING_ANALYTES, key=len, reverse=True))
    + r")(?=[0-9.])"
)
_NUM_VALUE = re.compile(r"^[<>≤≥]?\s*(-?\d+(?:\.\d+)?)$")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[-~～—]\s*(-?\d+(?:\.\d+)?)\s*$")
_UPPER = re.compile(r"^\s*[<≤]\s*(\d+(?:\.\d+)?)\s*$")


def lab_state(x: dict) -> str | None:
    """'H', 'L', 'N' from the value against its reference range (None when either cannot be read)."""
    v = _NUM_VALUE.match(str(x.get("value") or "").strip())
    ref = str(x.get("reference_range") or "")
    if not v:
        val = str(x.get("value") or "")
        if ref in ("阴性", "-", "neg") and val:
            return "N" if val in ("阴性", "-", "neg") else "H"
        return None
    value = float(v.group(1))
    r = _RANGE.match(ref)
    if r:
        lo, hi = float(r.group(1)), float(r.group(2))
        return "H" if value > hi else ("L" if value < lo else "N")
    u = _UPPER.match(ref)
    if u:
        return "H" if value >= float(u.group(1)) and value > float(u.group(1)) else "N"
    return None


def check_labs(c: Chart) -> Iterator[Problem]:
    for f, text in c.text.items():
        m = _GLUED.search(text)
        if m:
            yield "lab_value_glued_to_name", f"{f}: {text[m.start() : m.end() + 6]}"
    labs = c.row.get("labs") or []
    for x in labs:
        v = _NUM_VALUE.match(str(x.get("value") or "").strip())
        if v and (float(v.group(1)) < 0 or (x.get("unit") == "%" and float(v.group(1)) > 100)):
            yield "lab_value_impossible", f"{x.get('item')} {x.get('value')}{x.get('unit')}"
    num = {x.get("item"): float(v.group(1)) for x in labs if (v := _NUM_VALUE.match(str(x.get("value") or "")))}
    if num.get("低密度脂蛋白胆固醇", 0) >= num.get("总胆固醇", 1e9):
        yield "lab_values_incoherent", "LDL-C >= TC"
    for x in labs:
        state = lab_state(x)
        flag = x.get("flag") or "N"
        if state is not None and state != (flag if flag in ("H", "L") else "N"):
            yield "lab_flag_inconsistent", f"{x.get('item')} {x.get('value')} ({x.get('reference_range')}) {flag}"
    aux = c.text["auxiliary_exam"]
    values = [str(x.get("value") or "") for x in labs]
    for m in _ARROW.finditer(aux):
        value = m.group(1)
        if len(value) < 2 or values.count(value) != 1:
            continue  # a value two results share cannot be told apart in the text
        x = labs[values.index(value)]
        state = lab_state(x)
        if state is not None and state != ("H" if m.group(2) == "↑" else "L"):
            yield "lab_arrow_inconsistent", f"{x.get('item')} {value}{m.group(2)}"


# A number, its unit, then an arrow: `ALT 56U/L↑`; not a number inside a name or unit (CA125, 10^9/L, g/24h).
_ARROW = re.compile(r"(?<![A-Za-z0-9.×^/])(\d+(?:\.\d+)?)(?![\d.\-])[^，,。；;\s↑↓：:]{0,12}([↑↓])")


# ---------------- timeline ----------------


def check_timeline(c: Chart) -> Iterator[Problem]:
    cc, hpi = c.text["chief_complaint"], c.text["present_illness"]
    course, recur = complaint_durations(cc)
    if course:
        longest = max(course, key=lambda d: d.high)
        for r in recur:
            if r.low >= longest.high:
                yield "complaint_recurrence_not_shorter", cc
        if c.age_days is not None and longest.low > c.age_days + 1:
            yield "course_longer_than_life", cc
        refs = illness_references(hpi)
        for d, _ in refs:
            if d.low > longest.high * 1.05 + 0.5:
                yield "illness_time_beyond_complaint", f"{cc} | {hpi[max(0, d.start - 6) : d.end + 2]}"
                break
        agos = [d for d, kind in refs if kind == "ago"]
        if agos and not any(d.overlaps(x) for d in agos for x in (*course, *recur)):
            yield "illness_onset_differs_from_complaint", f"{cc} | {[hpi[d.start : d.end] for d in agos]}"
        for r in recur:
            for d in agos:
                tail = re.split(r"[，,。；;]", hpi[d.end + 1 : d.end + 20])[0]
                if re.search(r"(?<![性反])(加重|再发|复发)", tail) and not d.overlaps(r, 0.0):
                    yield "recurrence_differs_from_complaint", f"{cc} | {hpi[d.start : d.end + 10]}"
        limit = longest.high * 1.05 + 1
        for d, s, _ in parse_dates(hpi, c.admission):
            if d == c.birth or re.search(r"(末次.经|LMP)[:：\s]*$", hpi[max(0, s - 6) : s]):
                continue
            if (c.admission - d).days > limit:
                yield "illness_date_before_onset", f"{cc} | {hpi[s : s + 12]}"
            elif d > c.admission:
                yield "illness_date_after_admission", hpi[s : s + 12]
        for d, s, _ in parse_dates(c.text["auxiliary_exam"], c.admission):
            if (c.admission - d).days > limit:
                yield "exam_date_before_onset", f"{cc} | {c.text['auxiliary_exam'][s : s + 12]}"
    end = c.discharge or c.admission
    for f in ("present_illness", "auxiliary_exam", "discharge_summary", "physical_exam"):
        for d, s, _ in parse_dates(c.text[f], c.admission):
            if d > end and d != c.birth:
                yield "date_after_visit", f"{f}: {c.text[f][s : s + 12]}"
    ds = c.text["discharge_summary"]
    for d, s, e in parse_dates(ds, c.admission):
        after = ds[e : e + 5]
        if re.match(r"\s*(入院|收入)", after) and d != c.admission:
            yield "admission_date_differs", ds[s : e + 3]
        if re.match(r"\s*(出院|办理出院|好转出院|准予出院)", after) and c.discharge and d != c.discharge:
            yield "discharge_date_differs", ds[s : e + 3]
    weeks = {int(x) for x in re.findall(r"停经(\d+)周", cc + hpi)} | {
        int(x) for x in re.findall(r"现孕(\d+)周", c.text["marital_history"])
    }
    if len(weeks) > 1:
        yield "gestation_differs", str(sorted(weeks))
    if weeks:
        w = next(iter(weeks))
        for f in ("present_illness", "marital_history"):
            text = c.text[f]
            for d, s, _ in parse_dates(text, c.admission):
                if re.search(r"(末次.经|LMP)[:：\s]*$", text[max(0, s - 6) : s]):
                    if abs((c.admission - d).days / 7 - w) > 1.0:
                        yield "gestation_differs_from_lmp", f"{w}周 vs {text[s : s + 12]}"
    for d, s, _ in parse_dates(c.text["marital_history"], c.admission):
        if d > c.admission and re.search(r"(末次.经|LMP)[:：\s]*$", c.text["marital_history"][max(0, s - 6) : s]):
            yield "lmp_after_visit", c.text["marital_history"][s : s + 12]


# ---------------- allergy ----------------


def stated_allergens(c: Chart) -> tuple[list[str], list[tuple[int, int, str]]]:
    """Allergen words the history affirms, and the (field-joined) spans of those allergy clauses."""
    found, spans = [], []
    text = c.all_text
    for m in _CLAUSE.finditer(text):
        clause = m.group(0)
        if "过敏" not in clause and "皮试阳性" not in clause:
            continue
        if terms.ALLERGY_DENIAL.search(clause):
            continue
        for allergen in terms.ALLERGY_FORBIDS:
            if allergen in clause:
                found.append(allergen)
                spans.append((m.start(), m.end(), allergen))
    return found, spans


def check_allergy(c: Chart) -> Iterator[Problem]:
    allergens, spans = stated_allergens(c)
    if not allergens:
        return
    text = c.all_text
    for a, b, _ in sorted(spans, reverse=True):
        text = text[:a] + text[b:]
    for allergen in dict.fromkeys(allergens):
        words = terms.ALLERGY_FORBIDS[allergen]
        drug = next((d for d in c.drugs if any(w in d for w in words)), None)
        if drug:
            yield "allergy_drug_prescribed", f"{allergen} -> {drug}"
            continue
        w = next((w for w in words if w in text), None)
        if w:
            yield "allergy_drug_in_text", f"{allergen} -> {w}"
        if allergen == "碘造影剂":
            m = terms.CONTRAST_EXAM.search(text)
            if m:
                yield "contrast_exam_despite_allergy", m.group(0)


# ---------------- findings ----------------


def check_findings(c: Chart) -> Iterator[Problem]:
    body = "\n".join(c.text[f] for f in ("physical_exam", "auxiliary_exam", "discharge_summary"))
    dx = c.dx
    for name, finding, explain in _EXAM_RULES:
        for m in finding.finditer(body):
            if not _affirmed(body, m):
                continue
            if not explain.search(dx):
                yield "unexplained_finding", f"{name}: {m.group(0)} | {dx.strip()}"
            break
    for x in c.row.get("labs") or []:
        item, flag, value = x.get("item") or "", x.get("flag") or "", str(x.get("value") or "")
        state = "A" if (flag == "H" and not _NUM_VALUE.match(value)) else flag
        for word, direction, explain in _LAB_RULES:
            if word in item and direction == state and not explain.search(dx):
                yield "unexplained_lab", f"{item} {value} {flag} | {dx.strip()}"
                break


CHECKS: dict[str, Callable[[Chart], Iterator[Problem]]] = {
    "sex": check_sex,
    "age": check_age,
    "labs": check_labs,
    "timeline": check_timeline,
    "allergy": check_allergy,
    "findings": check_findings,
}
