"""The synthetic corpus reads as plausible medicine: the project's own audit (`python -m cmedins.synth check`) finds
nothing in a generated corpus, and it does find each family of problem when one is planted.

The audit's rules (cmedins/synth/plausibility) are written apart from the generator's tables; these tests run it on
5,000 records of a seed no other test uses, and on hand-written records that each break one rule.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest

from cmedins.synth import generate
from cmedins.synth.__main__ import main
from cmedins.synth.labtext import glueable, lab_text
from cmedins.synth.plausibility import FAMILIES, audit, audit_dir
from cmedins.synth.plausibility.dupes import garbled_edits
from cmedins.synth.timeline import make_timeline

AUDIT_SEED = 4242


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("plausible")
    generate(5000, AUDIT_SEED, out, workers=2)
    return audit_dir(out, keep=5)


def test_generated_corpus_has_no_violation_in_any_family(audited) -> None:
    assert audited.records == 5000 and audited.near_pairs > 100
    found = {fam: audited.counts[fam] for fam in FAMILIES if audited.counts[fam]}
    assert not found, (found, {k: v for k, v in audited.examples.items()})


def test_findings_point_to_a_diagnosis(audited) -> None:
    """For an examination finding, its most frequent primary diagnosis covers most of the records that show it."""
    assert audited.specificity["finding_specificity (primary)"] >= 0.7


def test_check_cli_prints_families_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    generate(300, 7, tmp_path, workers=1)
    assert main(["check", "--in", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert all(fam in out for fam in FAMILIES) and "total violations 0" in out
    assert main(["check", "--in", str(tmp_path / "missing")]) == 2


# ---------- the audit finds each family when a record breaks it ----------


def _lab(item: str, value: str, unit: str, ref: str, flag: str) -> dict:
    return {"item": item, "value": value, "unit": unit, "reference_range": ref, "flag": flag}


def _record(**over) -> dict:
    base = {
        "record_id": "ZY0000001",
        "patient_sex": "女",
        "patient_birth_date": date(1990, 3, 1),
        "admission_date": date(2023, 5, 10),
        "discharge_date": date(2023, 5, 18),
        "chief_complaint": "咳嗽5天，加重2天",
        "present_illness": "5天前受凉后出现咳嗽，伴咳痰。2天前上述症状加重。",
        "past_history": "否认药物过敏史。",
        "personal_history": "否认吸烟、饮酒史。",
        "marital_history": "26岁结婚，育1子。",
        "family_history": "父母体健。",
        "physical_exam": "右下肺可闻及湿啰音。",
        "auxiliary_exam": "胸部CT示右下肺斑片状渗出影。",
        "discharge_summary": "",
        "diagnoses": [{"text": "肺炎", "icd10_code": "J18.901", "icd10_name": "肺炎", "primary": True}],
        "medications": [{"drug": "注射用头孢曲松钠", "dose": "2g", "route": "静脉滴注", "frequency": "qd"}],
        "labs": [_lab("白细胞计数", "12.30", "×10^9/L", "3.5-9.5", "H")],
        "events": [],
    }
    base.update(over)
    return base


def _kinds(row: dict) -> set[str]:
    rep = audit([row])
    return {k for fam in rep.counts.values() for k in fam}


def test_a_plausible_record_passes() -> None:
    assert _kinds(_record()) == set()


HCG = _lab("血β-人绒毛膜促性腺激素", "3000.0", "mIU/mL", "<5", "H")


@pytest.mark.parametrize(
    ("over", "kind"),
    [
        ({"labs": [_lab("前列腺特异性抗原", "9.1", "ng/mL", "<4", "H")]}, "psa_in_female"),
        ({"physical_exam": "直肠指检前列腺II度增大。"}, "prostate_or_male_finding_in_female"),
        ({"patient_sex": "男", "marital_history": "月经史：13 5/28。"}, "female_finding_in_male"),
        ({"patient_birth_date": date(1960, 1, 1), "chief_complaint": "月经量增多3月"}, "menstrual_complaint_at_55plus"),
        ({"patient_birth_date": date(1966, 1, 1), "chief_complaint": "停经8周，阴道流血1天"}, "pregnancy_at_50plus"),
        (
            {"patient_birth_date": date(1965, 1, 1), "labs": [HCG]},
            "hcg_raised_at_age_extreme",
        ),
        ({"patient_birth_date": date(1962, 1, 1), "auxiliary_exam": "彩超示附件区包块，异位妊娠待排。"},
         "ectopic_workup_at_age_extreme"),
        ({"auxiliary_exam": "糖类抗原12582.0U/mL。"}, "lab_value_glued_to_name"),
        ({"labs": [_lab("钾", "3.10", "mmol/L", "3.5-5.3", "N")]}, "lab_flag_inconsistent"),
        ({"chief_complaint": "畏寒、气促1天，再发6天"}, "complaint_recurrence_not_shorter"),
        ({"present_illness": "10天前受凉后出现咳嗽。"}, "illness_time_beyond_complaint"),
        ({"present_illness": "5天前出现咳嗽。4天前上述症状加重。"}, "recurrence_differs_from_complaint"),
        ({"present_illness": "5天前出现咳嗽。2023-03-01曾就诊于外院。"}, "illness_date_before_onset"),
        ({"past_history": "对青霉素过敏。"}, "allergy_drug_prescribed"),
        ({"auxiliary_exam": "腹部CT示阑尾增粗。"}, "unexplained_finding"),
        ({"auxiliary_exam": "乳腺彩超示左乳低回声结节BI-RADS 4a类。"}, "unexplained_finding"),
        ({"labs": [_lab("甲胎蛋白", "880.0", "ng/mL", "<7", "H")]}, "unexplained_lab"),
    ],
)
def test_each_family_is_detected(over: dict, kind: str) -> None:
    assert kind in _kinds(_record(**over))


def test_garbled_near_duplicate_edits_are_detected() -> None:
    a = "患者3天前受凉后出现咳嗽，伴咳痰。症状逐渐加重，影响日常生活。"
    assert list(garbled_edits(a, a.replace("咳嗽", "咳的嗽")))  # a character pushed into a word
    assert list(garbled_edits(a, a.replace("症状逐渐", "症逐渐")))  # part of a word deleted
    assert list(garbled_edits(a, a.replace("患者", "的者")))  # a word's character swapped for an unrelated one
    assert not list(garbled_edits(a, a.replace("患者", "病人")))  # a synonym
    assert not list(garbled_edits(a, a.replace("症状", "证状")))  # an IME slip of the same pinyin
    assert not list(garbled_edits(a, a.replace("影响日常生活。", "影响日常生活，较前好转。")))  # a clause added
    assert not list(garbled_edits(a, a.replace("，影响日常生活", "")))  # a clause dropped


def test_planted_near_duplicates_keep_words_whole(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    generate(1500, 31, tmp_path, workers=1)
    rows = {r["record_id"]: r for r in pq.read_table(tmp_path / "records.parquet").to_pylist()}
    dups = [d for d in pq.read_table(tmp_path / "ground_truth/duplicates.parquet").to_pylist() if d["kind"] == "near"]
    assert len(dups) >= 40
    ops = set()
    for d in dups:
        assert 0.01 <= d["edit_rate"] <= 0.10
        ops |= set(d["ops"].split(","))
        a, b = rows[d["record_id_a"]], rows[d["record_id_b"]]
        assert b["chief_complaint"] == a["chief_complaint"]  # quoted elsewhere verbatim; copies leave it
        for f in ("present_illness", "past_history", "physical_exam", "auxiliary_exam", "discharge_summary"):
            assert not list(garbled_edits(a[f] or "", b[f] or "")), (f, a[f], b[f])
    assert {"insert", "delete", "substitute", "reorder", "redate"} <= ops


# ---------- the generator's building blocks ----------


def test_lab_names_ending_in_digits_are_separated_from_values() -> None:
    rng = random.Random(0)
    lab = {"item": "糖类抗原125", "value": "82.0", "unit": "U/mL", "reference_range": "<35", "flag": "H"}
    seen = set()
    for name in ("糖类抗原125", "CA125", "补体C3", "FT4", "PaO2"):
        assert not glueable(name)
        for _ in range(60):
            text = lab_text(rng, name, lab)
            assert not re.search(re.escape(name) + r"\d", text), text
            seen.add(text.replace(name, "NAME"))
    assert len(seen) >= 5  # several house styles: space, colon, reference range, arrow
    assert glueable("血红蛋白")


def test_timeline_change_is_shorter_than_the_course() -> None:
    rng = random.Random(1)
    adm = date(2023, 6, 1)
    for _ in range(2000):
        tl = make_timeline(rng, adm, ("天", "周", "月", "年"), chronic_ok=rng.random() < 0.5, age=60, age_days=21900)
        if tl.change is not None:
            assert tl.change[1].days < tl.course.days
        assert tl.allows("近3月下降约6kg") == (tl.course.days >= 90)
    newborn = make_timeline(rng, adm, ("天",), chronic_ok=False, age=0, age_days=5)
    assert newborn.course.days <= 4


def test_repeat_visit_copies_move_their_dates() -> None:
    from cmedins.synth.identifiers import shift_date_surface

    ref = date(2021, 5, 20)
    assert shift_date_surface("2021年5月9日", 30, ref) == "2021年6月8日"
    assert shift_date_surface("2021-05-09 08:05", 30, ref) == "2021-06-08 08:05"
    assert shift_date_surface("１２月３０日", 30, ref) == "１月２９日"
    assert shift_date_surface("术后", 30, ref) is None


def test_edit_vocabulary_keeps_words_whole() -> None:
    import logging

    import jieba

    from cmedins.synth.plausibility.dupes import homophones
    from cmedins.synth.vocab_edits import DROPPABLE, QUALIFIERS, SYNONYMS, TYPOS

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    words = [w for pair in SYNONYMS for w in pair] + list(QUALIFIERS) + list(DROPPABLE)
    assert all(jieba.dt.FREQ.get(w, 0) > 0 for w in words), [w for w in words if not jieba.dt.FREQ.get(w)]
    assert all(homophones(a, b) for a, b in TYPOS.items())
    assert not set(TYPOS) & set("无未否不没非认敏")  # a slip never turns a negation round or hides an allergy


def test_clinical_tables_cover_every_diagnosis() -> None:
    from cmedins.synth.compose.writer import _markup
    from cmedins.synth.vocab_clinical import CLINICAL, COMORBID
    from cmedins.synth.vocab_constraints import ALLERGIES
    from cmedins.synth.vocab_diseases import COMORBIDITIES, DISEASES
    from cmedins.synth.vocab_drugs import DRUGS
    from cmedins.synth.vocab_labs import LABS, QUALITATIVE
    from cmedins.synth.vocab_overrides import EXAMS, SIGNS

    codes = {d.code for d in DISEASES}
    assert set(CLINICAL) == codes and set(COMORBID) == set(COMORBIDITIES)
    for code, c in CLINICAL.items():
        assert c.signs is not None or code in SIGNS, code
        assert c.exams is not None or code in EXAMS, code
    for c in (*CLINICAL.values(), *COMORBID.values()):
        for item, flag in c.labs:
            assert flag in "HLAN" and item in (QUALITATIVE if flag == "A" else {**LABS, **QUALITATIVE}), item
        for m in (*(c.signs or ()), *(c.exams or ())):
            assert _markup(m)[1], m
        assert all(len(s.split("|")) == 3 for s in c.sx or ())
    names = list(DRUGS)
    for allergen, (drug_words, _) in ALLERGIES.items():
        assert any(w in n for w in drug_words for n in names), allergen  # every allergy rules out some drug


def test_a_drug_allergy_is_never_prescribed() -> None:
    """Allergy and prescriptions agree over a whole chunk (the audit checks it too, by its own keyword lists)."""
    from cmedins.synth.chunk import build_chunk
    from cmedins.synth.vocab_constraints import ALLERGIES

    res = build_chunk(99, 0, 1000, 1000, 0)
    stated = 0
    for r in res.records:
        m = re.search(r"(?:对|自诉对|有)(\S+?)过敏", r["past_history"] or "")
        if not m or m.group(1) not in ALLERGIES:
            continue
        stated += 1
        bad, _ = ALLERGIES[m.group(1)]
        for med in r["medications"]:
            assert not any(w in med["drug"] for w in bad), (m.group(1), med["drug"])
    assert stated > 100


def test_lasting_history_is_the_same_at_every_visit() -> None:
    """Allergy and chronic conditions belong to the patient: a returning patient's records agree on them."""
    from cmedins.synth.chunk import build_chunk

    res = build_chunk(5, 0, 1000, 1000, 0)
    by_patient: dict[str, list[dict]] = {}
    for r in res.records:
        by_patient.setdefault(r["patient_id"], []).append(r)
    repeat = [rs for rs in by_patient.values() if len(rs) > 1]
    assert len(repeat) > 30
    for rs in repeat:
        stated = {re.search(r"(?:对|有)([^，。；]{1,6})过敏", r["past_history"] or "") for r in rs}
        assert len({m.group(1) if m else None for m in stated}) == 1, [r["past_history"] for r in rs]
