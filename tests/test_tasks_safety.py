"""Clinical safety of medication answers (issue 11, rule 3), driven by the reviewable files in cmedins/tasks/data/.

Each case is a hand-written record (`test_tasks_support.prescribed`) whose orders break one rule: the row must be
quarantined as `unsafe_answer` and counted under its kind; the same orders for a patient the rule does not concern
pass. A `caution` rule keeps the row and writes its note into the answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_tasks_support import AZITHROMYCIN, CEFUROXIME, PIPERACILLIN, prescribed, records_table

from cmedins.stage import StageContext, collect, get_stage
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.formats import Medication
from cmedins.tasks.rules import DATA_DIR, DATA_FILES, load_rules
from cmedins.tasks.safety import check, dose_mg, patient_of, stated_allergies


def run(rows, **cfg):
    stage = get_stage("tasks")
    config = stage.make_config({"tasks": ["medication"], **cfg})
    return collect(stage.fn(records_table(rows), config, StageContext(seed=2, workdir=Path("."), secret=b"test")))


def unsafe_kinds(record: dict) -> set[str]:
    """The kinds of unsafe_answer a record's medication row is quarantined with (empty: the row was kept)."""
    out = run([record])
    kinds = set()
    for q in out.quarantined.to_pylist():
        if q["reason"] == "unsafe_answer":
            kinds |= set(json.loads(q["payload"])["kinds"])
    assert bool(kinds) == (out.stats.get("rows:medication", 0) == 0)
    return kinds


def test_allergy_statements_and_denials() -> None:
    rules = load_rules()
    assert stated_allergies("否认药物、食物过敏史。", rules) == []
    assert stated_allergies("过敏史：否认。无已知药物过敏。青霉素皮试阴性。", rules) == []
    assert stated_allergies("对青霉素过敏，表现为皮疹；否认其他药物过敏。", rules) == [("penicillin", "青霉素")]
    assert stated_allergies("自诉对头孢类过敏。", rules) == [("cephalosporin", "头孢类")]
    assert stated_allergies("有磺胺类药物过敏史", rules)[0][0] == "sulfonamide"
    assert stated_allergies("青霉素皮试阳性", rules)[0][0] == "penicillin"
    assert stated_allergies("对碘造影剂过敏", rules)[0][0] == "iodinated_contrast"


@pytest.mark.parametrize(("history", "meds", "kinds"), [
    ("对青霉素过敏。", [PIPERACILLIN], {"allergy_penicillin"}),
    ("对青霉素过敏。", [CEFUROXIME], {"allergy_beta_lactam_cross"}),
    ("自诉对头孢类过敏。", [PIPERACILLIN], {"allergy_beta_lactam_cross"}),
    ("有阿司匹林过敏。", [("阿司匹林肠溶片", "100mg", "口服", "qd")], {"allergy_aspirin"}),
    ("有阿司匹林过敏。", [("布洛芬缓释胶囊", "0.3g", "口服", "bid")], {"allergy_nsaid_cross"}),
    ("对磺胺类过敏。", [("复方磺胺甲噁唑片", "0.96g", "口服", "bid")], {"allergy_sulfonamide"}),
    ("对碘造影剂过敏。", [("碘海醇注射液", "100ml", "静脉推注", "st")], {"allergy_contrast"}),
    ("否认药物过敏史。", [PIPERACILLIN, CEFUROXIME], set()),
    ("对青霉素过敏。", [AZITHROMYCIN], set()),
    ("对磺胺类过敏。", [("呋塞米片", "20mg", "口服", "qd")], set()),  # non-antibiotic sulfonamide: no conflict
])
def test_drug_class_allergies(history: str, meds: list, kinds: set[str]) -> None:
    assert unsafe_kinds(prescribed("a1" * 16, history, meds)) == kinds


def test_sex_and_pregnancy_contraindications() -> None:
    statin = [("阿托伐他汀钙片", "20mg", "口服", "qn")]
    pregnant = dict(patient_sex="女", patient_age=30, chief_complaint="停经32周，血压升高1周")
    assert unsafe_kinds(prescribed("b1" * 16, "", statin, **pregnant)) == {"pregnancy_contraindicated"}
    assert unsafe_kinds(prescribed("b2" * 16, "", statin, patient_sex="女", patient_age=30)) == set()
    dx_pregnant = [{"text": "妊娠期高血压", "icd10_code": "O13.x00", "icd10_name": "妊娠期高血压", "primary": True}]
    arb = [("缬沙坦胶囊", "80mg", "口服", "qd")]
    assert unsafe_kinds(prescribed("b3" * 16, "", arb, patient_sex="女", diagnoses=dx_pregnant)) == \
        {"pregnancy_contraindicated"}
    progestin = [("黄体酮注射液", "20mg", "肌内注射", "qd")]
    assert unsafe_kinds(prescribed("b4" * 16, "", progestin, patient_sex="男")) == {"sex_specific"}
    finasteride = [("非那雄胺片", "5mg", "口服", "qd")]
    assert unsafe_kinds(prescribed("b5" * 16, "", finasteride, patient_sex="女")) == {"sex_specific"}
    assert unsafe_kinds(prescribed("b6" * 16, "", finasteride, patient_sex="男")) == set()


def test_paediatric_and_geriatric_rules() -> None:
    quinolone = [("左氧氟沙星片", "0.5g", "口服", "qd")]
    assert unsafe_kinds(prescribed("c1" * 16, "", quinolone, patient_age=8)) == {"paediatric_contraindicated"}
    assert unsafe_kinds(prescribed("c2" * 16, "", quinolone, patient_age=40)) == set()
    # eye drops of the same class are not systemic
    assert unsafe_kinds(prescribed("c3" * 16, "", [("左氧氟沙星滴眼液", "1滴", "滴眼", "qid")], patient_age=8)) == set()
    aspirin = [("阿司匹林肠溶片", "100mg", "口服", "qd")]
    assert unsafe_kinds(prescribed("c4" * 16, "", aspirin, patient_age=5)) == {"paediatric_contraindicated"}
    kawasaki = [{"text": "川崎病", "icd10_code": "M30.300", "icd10_name": "川崎病", "primary": True}]
    assert unsafe_kinds(prescribed("c5" * 16, "", aspirin, patient_age=5, diagnoses=kawasaki)) == set()
    adult_dose = [("对乙酰氨基酚片", "0.5g", "口服", "prn")]
    assert unsafe_kinds(prescribed("c6" * 16, "", [("对乙酰氨基酚片", "0.65g", "口服", "prn")], patient_age=6)) == \
        {"paediatric_dose"}
    assert unsafe_kinds(prescribed("c7" * 16, "", adult_dose, patient_age=6)) == set()
    digoxin = [("地高辛片", "0.25mg", "口服", "qd")]
    assert unsafe_kinds(prescribed("c8" * 16, "", digoxin, patient_age=80)) == {"geriatric_dose"}
    assert unsafe_kinds(prescribed("c9" * 16, "", [("地高辛片", "0.125mg", "口服", "qd")], patient_age=80)) == set()
    assert unsafe_kinds(prescribed("ca" * 16, "", digoxin, patient_age=50)) == set()
    assert dose_mg("0.25mg") == 0.25 and dose_mg("0.5g") == 500 and dose_mg("100μg") == pytest.approx(0.1)


def test_diagnosis_contraindications() -> None:
    dka = [{"text": "2型糖尿病酮症酸中毒", "icd10_code": "E11.101", "icd10_name": "2型糖尿病伴有酮症酸中毒",
            "primary": True}]
    metformin = [("盐酸二甲双胍片", "0.5g", "口服", "tid")]
    assert unsafe_kinds(prescribed("d1" * 16, "", metformin, diagnoses=dka)) == {"diagnosis_contraindicated"}


def test_a_caution_keeps_the_row_and_teaches_the_caveat() -> None:
    record = prescribed("e1" * 16, "", [("阿普唑仑片", "0.4mg", "口服", "qn")], patient_age=81,
                        diagnoses=[{"text": "焦虑状态", "icd10_code": "F41.900", "icd10_name": "焦虑状态",
                                    "primary": True}])
    out = run([record])
    (row,) = out.kept.to_pylist()
    assert "阿普唑仑片属老年人应避免长期使用的苯二氮䓬类药物" in row["answer"]
    assert out.stats["caution:geriatric_caution"] == 1


def test_the_safety_note_is_composed_from_the_patients_own_facts() -> None:
    record = prescribed("e2" * 16, "对青霉素过敏。", [AZITHROMYCIN], patient_age=70,
                        diagnoses=[{"text": "社区获得性肺炎", "icd10_code": "J18.900", "icd10_name": "肺炎",
                                    "primary": True},
                                   {"text": "慢性肾脏病3期", "icd10_code": "N18.300", "icd10_name": "慢性肾脏病3期",
                                    "primary": False}])
    out = run([record])
    (row,) = out.kept.to_pylist()
    for part in ("青霉素过敏史", "70岁", "慢性肾脏病3期", "根据肾功能调整剂量"):
        assert part in row["answer"], part
    assert "阿奇霉素" in row["answer"]


def test_unsafe_rows_are_counted_by_kind_in_the_stage_stats() -> None:
    rows = [prescribed("f1" * 16, "对青霉素过敏。", [PIPERACILLIN]),
            prescribed("f2" * 16, "对青霉素过敏。", [CEFUROXIME]),
            prescribed("f3" * 16, "否认药物过敏史。", [CEFUROXIME])]
    out = run(rows)
    assert out.stats["unsafe:allergy_penicillin"] == 1 and out.stats["unsafe:allergy_beta_lactam_cross"] == 1
    assert out.stats["refused:medication:unsafe_answer"] == 2 and out.stats["rows:medication"] == 1


def test_rule_files_are_valid_and_replaceable(tmp_path: Path) -> None:
    rules = load_rules()
    assert set(rules.classes_of("注射用哌拉西林钠他唑巴坦钠")) == {"penicillins"}
    assert "aspirin" in rules.classes_of("阿司匹林肠溶片")
    for name in DATA_FILES:
        assert (DATA_DIR / name).exists()
    # a reviewed copy in rules_dir replaces the package's file: here the clinician removed the cross-reactivity rule
    text = (DATA_DIR / "allergy_rules.yaml").read_text(encoding="utf-8")
    kept = "\n".join(line for line in text.splitlines()
                     if "allergy_beta_lactam_cross" not in line)
    (tmp_path / "allergy_rules.yaml").write_text(kept, encoding="utf-8")
    relaxed = load_rules(str(tmp_path))
    p = patient_of(prescribed("g1" * 16, "对青霉素过敏。", []), relaxed)
    assert check([Medication(*CEFUROXIME)], p, relaxed) == []
    assert [f.kind for f in check([Medication(*CEFUROXIME)], p, load_rules())] == ["allergy_beta_lactam_cross"]
    stage = get_stage("tasks")
    assert (tmp_path / "allergy_rules.yaml") in stage.input_files(TasksConfig(rules_dir=str(tmp_path)))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "contraindications.yaml").write_text("age:\n  - {kind: x, class: no_such_class}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown drug class no_such_class"):
        TasksConfig(rules_dir=str(broken))
