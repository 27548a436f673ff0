"""Answer formats read back to their values; templates are plentiful and chosen stably."""

from __future__ import annotations

from collections import Counter

import pytest

from cmedins.tasks import DEFAULT_TASKS
from cmedins.tasks.checks import check_item, placeholder_only
from cmedins.tasks.formats import (
    Coded,
    Event,
    Medication,
    format_coded,
    format_diagnoses,
    format_events,
    format_medications,
    format_triage,
    parse_coded,
    parse_diagnoses,
    parse_events,
    parse_medications,
    parse_triage,
)
from cmedins.tasks.registry import Item
from cmedins.tasks.templates import choose, load_templates


def test_event_format_is_the_papers_fig3_style_and_round_trips() -> None:
    events = [Event("骨髓抑制", (), (), "否定"), Event("疼痛", ("隐痛", "持续性"), ("双侧胸部",), "肯定")]
    text = format_events(events)
    assert text.startswith("主体词:骨髓抑制,描述词:无,解剖部位:无,发生状态:否定;主体词:疼痛,描述词:隐痛，持续性")
    assert parse_events(text) == events
    assert parse_events("主体词:疼痛,发生状态:肯定") is None


def test_other_formats_round_trip() -> None:
    assert parse_triage(format_triage("心血管内科", "考虑冠心病。")) == "心血管内科"
    assert parse_triage(format_triage("儿科", None)) == "儿科"
    assert parse_diagnoses(format_diagnoses("诊断", ["肺炎", "高血压"], 0)) == ["肺炎", "高血压"]
    coded = [Coded("原发性高血压", "I10.x00"), Coded("特发性(原发性)高血压", "I10")]
    assert parse_coded(format_coded(coded)) == coded and parse_coded(format_coded(coded[:1])) == coded[:1]
    meds = [Medication("阿司匹林肠溶片", "100mg", "口服", "每日一次")]
    assert parse_medications(format_medications("建议用药如下：", meds, "遵医嘱。")) == meds
    assert parse_medications("建议用药如下：\n1. 阿司匹林") is None


def test_checks() -> None:
    kw = dict(extraction=True, max_query=50, max_answer=500, min_overlap=0.5)
    ev = Event("咳嗽", (), (), "否定")
    ok = Item("无发热，无咳嗽。", format_events([ev]), events=(ev,))
    assert check_item("event_extraction", ok, **kw) is None
    far = Event("骨折", (), (), "否定")
    assert check_item("event_extraction", Item("无发热。", format_events([far]), events=(far,)), **kw) == (
        "ungrounded", "answer")
    bad = Event("咳嗽", (), (), "阳性")
    assert check_item("x", Item("咳嗽", format_events([bad]), events=(bad,)), **kw)[0] == "bad_status"
    assert check_item("x", Item("诊断", "标准名称：肺炎，ICD-10编码：J18-9", icd10=("J18-9",)), **kw)[0] == "bad_icd10"
    assert check_item("x", Item("q" * 51, "a"), **kw) == ("query_too_long", "query")
    assert check_item("x", Item("q", "  "), **kw) == ("empty_answer", "answer")
    assert check_item("x", Item("q", "[姓名]，[电话]"), **kw) == ("placeholder_only", "answer")
    assert placeholder_only("主诉：[姓名]\n现病史：[日期]") and not placeholder_only("主诉：[日期]起咳嗽")


@pytest.mark.parametrize("task", DEFAULT_TASKS)
def test_templates_are_plentiful_and_distinct(task: str) -> None:
    tpl = load_templates(task)
    assert len(tpl["zh"]) >= 20 and len(tpl["en"]) >= 6
    assert len({t.instruction for t in tpl["zh"]}) == len(tpl["zh"])
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t.instruction) for t in tpl["zh"])


def test_template_choice_is_stable_spread_and_seeded() -> None:
    hashes = [f"{i:032x}" for i in range(3000)]
    picks = [choose("triage", 1, h, "", 0.1).id for h in hashes]
    assert picks == [choose("triage", 1, h, "", 0.1).id for h in hashes]
    counts = Counter(picks)
    zh = [c for k, c in counts.items() if ".zh." in k]
    assert len(zh) == len(load_templates("triage")["zh"]) and min(zh) > 60  # every zh template used, evenly
    en = sum(c for k, c in counts.items() if ".en." in k)
    assert 200 < en < 400  # english_fraction 0.1
    assert picks != [choose("triage", 2, h, "", 0.1).id for h in hashes]


def test_summary_answers_lose_record_keeping_sentences() -> None:
    from cmedins.tasks.record_text import strip_admin

    text = "病人[姓名]，女，63岁，因腰痛入院。\n治疗后好转。\n上级医师 [姓名] 经治医师:[姓名]。\n医保号：[医保号]。"
    assert strip_admin(text) == "病人，女，63岁，因腰痛入院。\n治疗后好转。"
    assert strip_admin("[姓名]，男，23岁，因发热入院。家属电话[电话]。") == "患者，男，23岁，因发热入院。"
    text = ("定期复查，挂[姓名]处复查。\n护士[姓名]已交代注意事项。\n主治医生:[姓名]；记录者：[姓名]\n"
            "门诊随访，于[姓名]门诊复诊。")
    assert strip_admin(text) == "定期复查。\n门诊随访。"
