"""Leakage control (issue 11, rule 1): the diagnosis and triage queries never give their answer away.

Every test runs on hand-written records (`test_tasks_support.LEAKY`) whose history states the diagnosis the way
real notes do: an admitting diagnosis (`门诊以“…”收入我科`), a referral diagnosis under an abbreviation
(`诊断为“慢阻肺”`), an abbreviation in an imaging report (`考虑COPD改变`) and the department (`来我院呼吸内科就诊`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_tasks_support import CARDIO, LEAKY, records_table

from cmedins.stage import StageContext, collect, get_stage
from cmedins.tasks.build import Collector, Origin
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.leakage import control, targets_for
from cmedins.tasks.registry import Item, get_task
from cmedins.tasks.rules import load_rules

# Every way LEAKY's query could name its primary diagnosis (慢性阻塞性肺疾病急性加重), or triage's department.
PRIMARY_NAMES = ("慢阻肺", "慢性阻塞性肺", "COPD", "急性加重")


def run(rows, **cfg):
    stage = get_stage("tasks")
    return collect(stage.fn(records_table(rows), stage.make_config(cfg),
                                StageContext(seed=3, workdir=Path("."), secret=b"test")))


def item(task: str, record: dict, **cfg) -> Item:
    (it,) = get_task(task).build(record, TasksConfig(**cfg))
    return it


def test_diagnosis_query_loses_every_statement_of_its_answer() -> None:
    it = item("diagnosis", LEAKY)
    assert not any(n in it.query for n in PRIMARY_NAMES), it.query
    assert "以“" not in it.query and "诊断为" not in it.query
    # the rest of each sentence stays, and so does the evidence: symptoms, signs, the comorbidity history
    assert "为求进一步诊治。" in it.query and "长期吸入噻托溴铵" in it.query
    assert "桶状胸" in it.query and "PaCO2 52mmHg" in it.query
    assert "高血压病史10年" in it.query  # a secondary diagnosis named as history is evidence, not a copy
    assert it.leak_terms and dict(it.counters)["leakage_rows:diagnosis"] == 1


def test_scope_all_also_removes_secondary_diagnoses_named_anywhere() -> None:
    it = item("diagnosis", LEAKY, leakage_scope="all")
    assert "高血压" not in it.query and "规律服用氨氯地平" in it.query


def test_sentence_and_mask_modes() -> None:
    dropped = item("diagnosis", LEAKY, leakage="sentence").query
    assert "为求进一步诊治" not in dropped and "3天前受凉后气促加重" in dropped
    masked = item("diagnosis", LEAKY, leakage="mask", leakage_mask="××").query
    assert "门诊以“××”收入我科" in masked and not any(n in masked for n in PRIMARY_NAMES)
    assert "诊断为“××”" in masked
    kept = item("diagnosis", LEAKY, leakage="off")
    assert "以“慢性阻塞性肺疾病急性加重”收入我科" in kept.query and kept.leak_terms == ()


def test_clause_drop_keeps_sentences_well_formed() -> None:
    targets = targets_for([{"text": "肺炎", "icd10_name": "肺炎", "primary": True}], 0, load_rules(), "primary")
    text = "患者受凉后发热、咳嗽，于外院诊断为肺炎，予头孢治疗3天无好转。今来我院，门诊以“肺炎”收入院。"
    assert control(text, targets, "clause", "××") == ("患者受凉后发热、咳嗽，予头孢治疗3天无好转。今来我院。", 2)
    # a diagnosis quoted after a diagnostic verb goes even when misspelt: it is a doctor's diagnosis of this illness
    text = "为求诊治，门诊拟“肺部感染炎”收入院。"
    assert control(text, targets, "clause", "××")[0] == "为求诊治。"


def test_triage_query_names_neither_department_nor_diagnosis() -> None:
    it = item("triage", LEAKY)
    assert "呼吸内科" not in it.query and "我科" not in it.query
    assert not any(n in it.query for n in PRIMARY_NAMES)
    assert it.query.startswith("患者信息：男，72岁\n主诉：反复咳嗽、咳痰20年，气促加重3天")
    assert "呼吸内科" in it.leak_terms


def test_triage_reason_is_composed_from_the_query_not_the_diagnosis() -> None:
    out = run([LEAKY, CARDIO])
    rows = [r for r in out.kept.to_pylist() if r["task"] == "triage"]
    assert len(rows) == 2
    for r in rows:
        rec = LEAKY if r["source_record_hash"] == LEAKY["record_hash"] else CARDIO
        for d in rec["diagnoses"]:
            assert d["text"] not in r["answer"] and d["icd10_name"] not in r["answer"]
        assert rec["department"] in r["answer"]
    for rec in (LEAKY, CARDIO):
        it = item("triage", rec)
        reason = it.answer.split("理由：", 1)[1]
        assert all(q in it.query for q in re.findall(r"“([^”]+)”", reason))  # what it quotes, the query says
        # it cites the record's own complaint or findings (a piece of at least 4 characters of the query)
        assert any(reason[i:i + 4] in it.query for i in range(len(reason) - 3)), reason


def test_a_row_whose_answer_is_still_in_its_query_is_quarantined() -> None:
    """What masking cannot reach (a plugin's query, a name in the patient line) is caught by the check."""
    out = Collector(TasksConfig(), seed=1)
    origin = Origin("records", "deid", 1, "a" * 32, patient_key="p" * 32)
    spec = get_task("diagnosis")
    leaky = Item(query="主诉：胸痛3天\n既往史：冠心病史5年", answer="诊断：\n1. 冠心病", leak_terms=("冠心病", "CHD"),
                 expect=["冠心病"], target=("冠心病",))
    clean = Item(query="主诉：胸痛3天", answer="诊断：\n1. 冠心病", leak_terms=("冠心病", "CHD"), expect=["冠心病"],
                 target=("冠心病",))
    assert out.emit(spec, [leaky], origin, 1) == 0 and out.emit(spec, [clean], origin, 1) == 1
    (q,) = out.quarantine
    assert q["reason"] == "answer_in_query" and out.stats["leakage_quarantined:diagnosis"] == 1
    # an abbreviation counts as the answer too, as a whole word only
    assert out.emit(spec, [Item(query="主诉：CHD 5年", answer="诊断：\n1. 冠心病", leak_terms=("CHD",),
                                expect=["冠心病"], target=("冠心病",))], origin, 1) == 0
    assert out.emit(spec, [Item(query="主诉：CHDX升高", answer="诊断：\n1. 冠心病。", leak_terms=("CHD",),
                                expect=["冠心病。"], target=("冠心病。",))], origin, 1) == 1


def test_stage_counts_leakage_per_task() -> None:
    out = run([LEAKY])
    assert out.stats["leakage_rows:diagnosis"] == 1 and out.stats["leakage_rows:triage"] == 1
    assert out.stats["leakage_clauses:diagnosis"] >= 3
    dx = next(r for r in out.kept.to_pylist() if r["task"] == "diagnosis")
    assert not any(n in dx["query"] for n in PRIMARY_NAMES)


def test_bad_leakage_options_fail_early() -> None:
    with pytest.raises(ValueError, match="leakage must be one of"):
        TasksConfig(leakage="hide")
    with pytest.raises(ValueError, match="leakage_scope"):
        TasksConfig(leakage_scope="some")
