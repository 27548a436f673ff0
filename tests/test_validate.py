"""The validation gate on hand-written rows: each per-row check on the failure it exists for, k-anonymity's
generalisation and its independent re-check, and the gate's one-line verdict (rule, rows, ids, never text)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from cmedins.contracts import load_contract
from cmedins.stage import StageContext, StageError
from cmedins.validate.kanon import anonymise, band, mapping, published_classes
from cmedins.validate.rows import messages_problem, primary_diagnosis, row_checks, stated_allergy_classes
from cmedins.validate.stage import ValidateConfig, ValidationFailed, validate_stage

PHONE = "13912345678"


def task_rows(rows: list[dict]) -> pa.Table:
    """task_row.v1 rows from short dicts (task, query, answer, optional id/department/record/patient)."""
    out = []
    for i, r in enumerate(rows):
        instruction = r.get("instruction", "请回答。")
        out.append({
            "id": r.get("id", f"row{i:04d}"), "task": r["task"], "task_zh": "任务", "instruction": instruction,
            "query": r["query"], "answer": r["answer"],
            "messages": r.get("messages", [{"role": "user", "content": f"{instruction}\n{r['query']}"},
                                           {"role": "assistant", "content": r["answer"]}]),
            "language": "zh", "template_id": f"{r['task']}.zh.1", "answer_format": "default", "source": "records",
            "source_record_hash": r.get("record", f"rec{i:04d}"), "patient_key": r.get("patient", f"pat{i:04d}"),
            "department": r.get("department", "心血管内科"), "deid_version": "test"})
    schema = load_contract("task_row").schema
    return pa.Table.from_pylist(out, schema=schema)


def checks(rows: list[dict]) -> list[dict]:
    return row_checks(task_rows(rows)).to_pylist()


@pytest.mark.parametrize(("roles", "problem"), [
    (["user", "assistant"], None),
    (["system", "user", "assistant", "user", "assistant"], None),
    ([], "empty"),
    (["user", "bot"], "bad_role"),
    (["user", "system", "assistant"], "system_not_first"),
    (["user", "user", "assistant"], "not_alternating"),
    (["user"], "no_answer"),
    (["assistant", "user", "assistant"], "not_alternating"),
])
def test_messages_problem(roles: list[str], problem: str | None) -> None:
    assert messages_problem(roles, ["x"] * len(roles)) == problem
    if roles and problem is None:
        assert messages_problem(roles, ["x"] * (len(roles) - 1) + [" "]) == "empty_content"


def test_each_row_check_flags_the_failure_it_exists_for() -> None:
    rows = [
        {"task": "triage", "query": "主诉：胸痛2天", "answer": "建议就诊科室：心血管内科。"},  # clean
        {"task": "triage", "query": "主诉：胸痛2天", "answer": f"建议就诊科室：心血管内科。电话{PHONE}"},
        {"task": "summary", "query": "主诉：胸痛2天", "answer": "患者于[日期]出院。"},
        {"task": "diagnosis", "query": "门诊以“冠心病”收入院。", "answer": "诊断：\n1. 冠心病（主要诊断）"},
        {"task": "triage", "query": "拟收入心血管内科。", "answer": "建议就诊科室：心血管内科。"},
        {"task": "summary", "query": "主诉：胸痛2天", "answer": "肌钙蛋白 0.8ng/mL，2021年出院。"},
        {"task": "medication", "query": "既往史：对青霉素过敏。",
         "answer": "1. 药品：头孢曲松钠，剂量：1g\n安全提示：患者有青霉素过敏史。"},
        {"task": "medication", "query": "既往史：对阿司匹林过敏。",
         "answer": "1. 药品：氯吡格雷，剂量：75mg\n安全提示：患者有阿司匹林过敏史，已避开相关药物。"},
        {"task": "diagnosis_normalization", "query": "高血压", "answer": "标准名称：原发性高血压，ICD-10编码：I10xx11"},
        {"task": "diagnosis_normalization", "query": "高血压", "answer": "标准名称：原发性高血压，ICD-10编码：I1O"},
    ]
    c = checks(rows)
    assert c[0]["_chk_pii"] == 0 and c[0]["_chk_leak"] is False and c[0]["_chk_messages"] is None
    assert c[1]["_chk_pii"] > 0 and "mobile" in c[1]["_chk_pii_kinds"]
    assert c[2]["_chk_placeholder"] is True
    assert c[3]["_chk_leak"] is True  # the primary diagnosis is quoted in the query
    assert c[4]["_chk_leak"] is True  # the department is named in the query
    assert c[5]["_chk_ungrounded"] is True  # a lab value and a year the query does not hold
    assert c[6]["_chk_unsafe"] is True  # cephalosporin for a penicillin allergy (cross-reactivity)
    assert c[7]["_chk_unsafe"] is False  # the allergy is only named in the warning
    assert c[8]["_chk_icd10"] is False and c[9]["_chk_icd10"] is True
    assert c[0]["_chk_unsafe"] is None and c[0]["_chk_icd10"] is None  # rules of other tasks do not apply


def test_answer_readers_take_every_layout() -> None:
    assert primary_diagnosis('{"主要诊断": "肺炎", "其他诊断": []}') == "肺炎"
    assert primary_diagnosis("出院诊断：\n1. 高血压\n2. 冠心病（主要诊断）") == "冠心病"
    assert primary_diagnosis("诊断：肺炎；高血压") == "肺炎"
    assert stated_allergy_classes("否认药物、食物过敏史。") == set()
    assert stated_allergy_classes("有磺胺类药物过敏史，对碘造影剂过敏") == {"sulfonamide", "iodinated_contrast"}


def test_kanon_generalises_then_suppresses_and_rewrites_every_age() -> None:
    rows = []
    for i in range(10):  # ten women aged 70..79 in one department: an exact age identifies each
        age = 70 + i
        rows.append({"task": "summary", "query": f"患者信息：女，{age}岁\n主诉：胸痛", "record": f"r{i}",
                     "patient": f"p{i}", "answer": f"患者{age}岁，属老年人，65岁以上慎用；3岁时哮喘。"})
    rows.append({"task": "summary", "query": "患者信息：男，92岁\n主诉：胸痛", "record": "old", "patient": "pold",
                 "answer": "90岁及以上男性患者，于2020年入院。"})
    res = anonymise(task_rows(rows), k=5)
    assert res.suppressed_rows == [10]  # the only man: no level gives him a class of five
    assert res.levels["age_5y"] == 10 and res.levels["suppressed"] == 1
    out = res.table.to_pylist()
    assert out[0]["query"] == "患者信息：女，70-74岁\n主诉：胸痛"
    assert out[7]["query"] == "患者信息：女，75-79岁\n主诉：胸痛"
    assert out[0]["answer"] == "患者70-74岁，属老年人，65岁以上慎用；3岁时哮喘。"  # thresholds and past ages stay
    assert out[0]["messages"][0]["content"].endswith("患者信息：女，70-74岁\n主诉：胸痛")
    kept = res.table.filter(pa.array([i != 10 for i in range(11)]))
    assert published_classes(kept)["class_size"].min() >= 5


def test_kanon_level_texts_and_top_coding() -> None:
    assert [band(71, 1), band(71, 5), band(85, 20), band(93, 5)] == ["71岁", "70-74岁", "80-89岁", "90岁以上"]
    m = mapping(["71岁", "1岁", "92岁", "90岁及以上", "65岁以上", "3岁时"], ["于2020年入院"], 3)
    assert m == {"于2020年入院": "入院", "90岁及以上": "90岁以上", "71岁": "70-79岁", "92岁": "90岁以上",
                 "1岁": "0-9岁"}
    assert "于2020年入院" not in mapping([], ["于2020年入院"], 1)  # the year stays at levels that keep it


def test_published_classes_sees_two_stated_ages() -> None:
    rows = [{"task": "summary", "answer": "无", "record": f"r{i}", "patient": f"p{i}",
             "query": f"患者信息：女，70-79岁\n现病史：患者[姓名]，女，{'55' if i == 0 else '70-79'}岁"}
            for i in range(5)]
    classes = published_classes(task_rows(rows)).sort("record")
    assert classes["class_size"].to_list() == [1, 4, 4, 4, 4]  # r0 states two ages: a class of its own


def _ctx(tmp_path: Path) -> StageContext:
    workdir = tmp_path / "out" / "work" / "validate"
    workdir.mkdir(parents=True)
    return StageContext(seed=7, workdir=workdir, secret=b"test")


def _clean_rows(n: int = 40) -> list[dict]:
    return [{"task": "triage", "query": f"主诉：胸痛{i % 5 + 1}天", "answer": "建议就诊科室：心血管内科。",
             "record": f"r{i}", "patient": f"p{i}", "id": f"id{i:04d}"} for i in range(n)]


def test_gate_passes_clean_rows_through_without_check_columns(tmp_path: Path) -> None:
    table = task_rows(_clean_rows())
    out = validate_stage(table, ValidateConfig(k=1, min_validation_share=0.0, max_validation_share=0.5),
                         _ctx(tmp_path))
    assert out.kept.equals(table)
    summary = json.loads((tmp_path / "out" / "work" / "validate" / "validation.json").read_text())
    assert summary["passed"] and summary["failed"] == 0 and summary["evaluated"] > 25


def test_gate_stops_on_an_identifier_and_a_broken_row_naming_rule_rows_and_ids(tmp_path: Path) -> None:
    rows = _clean_rows()
    rows[3]["answer"] = f"建议就诊科室：心血管内科。家属电话{PHONE}"
    rows[5]["messages"] = [{"role": "assistant", "content": "你好"}, {"role": "user", "content": "主诉：头痛"}]
    rows[7]["task"] = "不是任务 张三"
    with pytest.raises(ValidationFailed) as err:
        validate_stage(task_rows(rows), ValidateConfig(k=1, min_validation_share=0.0, max_validation_share=0.5),
                       _ctx(tmp_path))
    message = str(err.value)
    assert isinstance(err.value, StageError) and "\n" not in message
    assert "[residual_pii]: 1 of 40 rows, e.g. id0003" in message
    assert "[messages_well_formed]: 1 of 40 rows, e.g. id0005" in message
    assert "[enum:task]: 1 of 40 rows, e.g. id0007" in message
    assert "nothing published" in message and "work/validate/validation.md" in message
    for text in (message, (tmp_path / "out" / "work" / "validate" / "validation.json").read_text()):
        assert PHONE not in text and "张三" not in text and "头痛" not in text  # ids and counts, never text


def test_pii_quarantine_withholds_the_whole_record(tmp_path: Path) -> None:
    rows = _clean_rows()
    rows[3]["answer"] = f"家属电话{PHONE}"
    rows[4]["record"] = rows[3]["record"]
    out = validate_stage(task_rows(rows), ValidateConfig(k=1, pii="quarantine", min_validation_share=0.0,
                                                         max_validation_share=0.5), _ctx(tmp_path))
    assert out.kept.num_rows == 38
    q = out.quarantined.to_pylist()
    assert [r["row"] for r in q] == [4, 5] and {r["reason"] for r in q} == {"residual_pii"}
    assert all(PHONE not in r["message"] for r in q)


def test_quality_thresholds_are_per_task_shares(tmp_path: Path) -> None:
    rows = _clean_rows(40)
    rows[0]["query"] = "拟收入心血管内科。"  # 1 of 40 triage rows leaks: 2.5% > 2%
    config = ValidateConfig(k=1, min_validation_share=0.0, max_validation_share=0.5)
    with pytest.raises(ValidationFailed, match=r"quality:leak\]: 1 of 40 rows"):
        validate_stage(task_rows(rows), config, _ctx(tmp_path))
    relaxed = ValidateConfig(k=1, min_validation_share=0.0, max_validation_share=0.5, max_share={"leak": 0.05})
    assert validate_stage(task_rows(rows), relaxed, _ctx(tmp_path / "again")).kept.num_rows == 40


def test_config_rejects_unknown_rules() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        ValidateConfig(max_share={"typo": 0.1})
