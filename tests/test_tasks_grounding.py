"""Grounding (issue 11, rule 2): every fact an answer states is in its query, and no answer holds a placeholder.

The record `test_tasks_support.WRITTEN` carries a doctor's discharge summary with a follow-up lab value, a `[日期]`
placeholder and a department the query never shows; the checker's own cases are written out below.
"""

from __future__ import annotations

import json
from pathlib import Path

from test_tasks_support import CARDIO, RESP, WRITTEN, records_table

from cmedins.stage import StageContext, collect, get_stage
from cmedins.tasks.build import Collector, Origin
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.formats import parse_answer
from cmedins.tasks.grounding import Lexicon, drug_core, text_facts, trim
from cmedins.tasks.registry import Item, get_task
from cmedins.tasks.rules import load_rules


def run(rows, **cfg):
    stage = get_stage("tasks")
    return collect(stage.fn(records_table(rows), stage.make_config(cfg), StageContext(seed=5, workdir=Path("."),
                                                                                         secret=b"test")))


def lexicon(*records: dict) -> Lexicon:
    return Lexicon.from_records(records or (CARDIO, RESP, WRITTEN), load_rules())


def test_facts_are_normalised_numbers_and_dates() -> None:
    nums, dates = text_facts("2020年3月5日入院，复查同型半胱氨酸 13.80μmol/L，予0.50g 口服 q8h，共3天，71岁")
    assert nums == {"13.8|μmol/l", "0.5|g", "3|天", "71|岁"}  # q8h is a frequency, not 8 hours
    assert dates == {"2020", "2020-3-5"}
    assert text_facts("于2019出院，3月5日复诊")[1] == {"2019", "3-5"}
    assert drug_core("注射用头孢曲松钠") == "头孢曲松" and drug_core("盐酸二甲双胍片") == "二甲双胍"
    assert drug_core("氯化钾缓释片") == "氯化钾"


def test_each_kind_of_fact_missing_from_the_query_is_found() -> None:
    lex = lexicon()
    query = "就诊信息：心血管内科住院，入院日期：2023\n诊断：冠心病 不稳定型心绞痛\n用药：阿司匹林肠溶片 100mg 口服 qd"
    assert lex.ungrounded("患者于2023年入院，予阿司匹林 100mg 口服，于心血管内科治疗。", query) == []
    got = lex.ungrounded("入院第3天复查肌钙蛋白 0.52ng/mL，于2022年转入神经内科，加用头孢呋辛酯片，合并肺炎。",
                         query)
    assert {k for k, _ in got} == {"number_unit", "date", "department", "drug", "diagnosis"}
    # a diagnosis under another of its names is the same fact: synonyms, ICD name, abbreviations
    assert lex.ungrounded("既往冠状动脉粥样硬化性心脏病。", "诊断：冠心病") == []
    assert lex.ungrounded("既往CHD。", "诊断：冠心病") == []
    # a longer wording in the query grounds a shorter name inside it
    assert lex.ungrounded("不稳定型心绞痛。", "诊断：冠心病 不稳定型心绞痛") == []
    # the task's prediction is exempt: triage names its department, medication its drugs
    assert lex.ungrounded("建议就诊科室：神经内科。", "主诉：头晕", exempt=("神经内科",)) == []


def test_written_summary_loses_the_sentences_the_query_cannot_support() -> None:
    it = get_task("summary").build(WRITTEN, TasksConfig())[0]
    assert it.trim and it.key == "written"
    text, dropped = trim(it.answer, it.query, lexicon(WRITTEN))
    assert dropped == 2  # the follow-up value; the discharge date placeholder and the transfer share a sentence
    assert "18.2" not in text and "[日期]" not in text and "康复医学科" not in text
    assert text == "患者因突发左侧肢体无力6小时入院。予阿司匹林肠溶片 100mg 口服 qd治疗后好转。出院诊断：脑梗死。"


def test_summary_rows_state_only_what_their_query_states() -> None:
    out = run([CARDIO, RESP, WRITTEN], english_fraction=0.0)
    rows = [r for r in out.kept.to_pylist() if r["task"] == "summary"]
    assert len(rows) == 3
    lex = lexicon()
    for r in rows:
        assert lex.ungrounded(r["answer"], r["query"]) == [], r["answer"]
        assert "[" not in r["answer"]
    # the visit line gives the department, dates and visit type the summaries mention
    written = next(r for r in rows if r["source_record_hash"] == WRITTEN["record_hash"])
    assert written["query"].startswith("就诊信息：神经内科住院，入院日期：2023，出院日期：2023\n")
    assert out.stats["trimmed_sentences:summary"] >= 2


def test_composed_summaries_come_in_three_grounded_shapes() -> None:
    (it,) = get_task("summary").build(RESP, TasksConfig())
    formats = it.formats()
    assert set(formats) == {"default", "structured", "brief"}
    assert formats["structured"].startswith("【一般情况】34岁女性，呼吸内科门诊\n【主诉】咳嗽、咳痰5天，发热1天")
    assert "诊断为右下肺社区获得性肺炎" in formats["brief"] and formats["brief"].count("。") == 1
    lex = lexicon()
    for text in formats.values():
        assert lex.ungrounded(text, it.query) == [], text


def test_an_ungrounded_or_placeholder_answer_is_quarantined_by_kind() -> None:
    out = Collector(TasksConfig(), seed=1, lexicon=lexicon())
    origin = Origin("records", "deid", 7, "c" * 32, patient_key="p" * 32)
    spec = get_task("summary")
    bad = Item(query="主诉：胸痛3天\n诊断：冠心病", answer="患者因胸痛3天入院，复查肌钙蛋白 0.52ng/mL，诊断冠心病。")
    placeholder = Item(query="主诉：胸痛3天", answer="患者因胸痛3天于[日期]入院。")
    good = Item(query="主诉：胸痛3天\n诊断：冠心病", answer="患者因胸痛3天入院，诊断冠心病。")
    assert out.emit(spec, [bad, placeholder, good], origin, 1) == 1
    reasons = [q["reason"] for q in out.quarantine]
    assert reasons == ["ungrounded_answer", "placeholder_in_answer"]
    assert out.stats["ungrounded:summary:number_unit"] == 1
    assert json.loads(out.quarantine[0]["payload"])["facts"] == ["number_unit"]


def test_structured_answers_parse_back_in_every_format() -> None:
    for task in ("triage", "diagnosis", "diagnosis_normalization", "medication"):
        (it,) = get_task(task).build(CARDIO, TasksConfig())
        for fmt, text in it.formats().items():
            value = parse_answer(task, fmt, text)
            assert value is not None, (task, fmt)
            if task == "diagnosis_normalization":
                assert [c.code for c in value] == list(it.icd10)
            else:
                assert value == it.expect, (task, fmt)
            assert lexicon().ungrounded(text, it.query, it.target) == [], (task, fmt, text)
