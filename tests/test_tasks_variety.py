"""Variety, patient keys and per-task figures (issue 11, rules 4-6), on hand-written records.

A dataset where one sentence (`双下肢无水肿。`) is the query of hundreds of rows, or one instruction covers every
row, teaches the layout, not the task; rows without a patient key cannot be split without leaking.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from test_tasks_support import CARDIO, LEAKY, RESP, WRITTEN, _base, records_table

from cmedins.parquet_io import write_table
from cmedins.stage import StageContext, collect, get_stage
from cmedins.tasks import DEFAULT_TASKS
from cmedins.tasks.formats import FORMATS, parse_answer
from cmedins.tasks.report import quality
from cmedins.tasks.templates import choose, load_templates

COMMON = "双下肢无水肿。"


def run(rows, seed: int = 4, **cfg):
    stage = get_stage("tasks")
    return collect(stage.fn(records_table(rows), stage.make_config(cfg),
                                StageContext(seed=seed, workdir=Path("."), secret=b"test")))


def with_events(i: int) -> dict:
    """Record i: the sentence every record shares, and two of its own."""
    own = [f"咳嗽{i + 2}天。", f"体温{36 + i % 4}.{i % 10}℃。"]
    events = [{"section": "physical_exam", "sentence": COMMON, "subject": "水肿", "descriptors": [],
               "anatomy": ["双下肢"], "status": "否定"}]
    events += [{"section": "present_illness", "sentence": own[0], "subject": "咳嗽", "descriptors": [], "anatomy": [],
                "status": "肯定"},
               {"section": "physical_exam", "sentence": own[1], "subject": "体温", "descriptors": [own[1][2:-1]],
                "anatomy": [], "status": "肯定"}]
    return _base(record_hash=f"{i:032x}", patient_key=f"{i // 2:032x}", department="呼吸内科",
                 chief_complaint=f"咳嗽{i + 2}天", present_illness=own[0], physical_exam=own[1] + COMMON,
                 events=events)


@pytest.mark.parametrize("task", DEFAULT_TASKS)
def test_at_least_20_chinese_and_6_english_templates_covering_every_format(task: str) -> None:
    tpl = load_templates(task)
    assert len(tpl["zh"]) >= 20 and len(tpl["en"]) >= 6
    texts = [t.instruction for t in (*tpl["zh"], *tpl["en"])]
    assert len(set(texts)) == len(texts)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t.instruction) for t in tpl["zh"])
    for fmt in FORMATS[task]:  # every answer format can be asked for, in both languages
        assert any(t.format == fmt for t in tpl["zh"]) and any(t.format == fmt for t in tpl["en"]), fmt
    # PromptCBLUE layout: the 说明 / 答： part comes after the query in the user message
    after = [t for t in tpl["zh"] if t.after]
    assert after and all(t.user_message("Q").index("Q") < t.user_message("Q").index(t.after) for t in after)


def test_template_choice_is_seeded_by_record_hash_and_respects_formats() -> None:
    hashes = [f"{i:032x}" for i in range(2000)]
    picks = [choose("triage", 1, h, "", 0.1).id for h in hashes]
    assert picks == [choose("triage", 1, h, "", 0.1).id for h in hashes]
    assert picks != [choose("triage", 2, h, "", 0.1).id for h in hashes]
    zh = Counter(p for p in picks if ".zh." in p)
    assert len(zh) == len(load_templates("triage")["zh"]) and min(zh.values()) > 40
    assert all(choose("summary", 1, h, "", 0.1, formats={"default"}).format == "default" for h in hashes[:300])


def test_per_query_cap_replaces_a_shared_sentence_with_the_records_own() -> None:
    recs = [with_events(i) for i in range(30)]
    out = run(recs, tasks=["event_extraction"], event_sentences=2, query_cap={"event_extraction": 5})
    rows = out.kept.to_pylist()
    queries = Counter(r["query"] for r in rows)
    assert queries[COMMON] == 5
    assert len(rows) == 60  # every record still gives two rows: its own sentences took the common one's place
    assert out.stats["capped:event_extraction"] >= 10  # each record that reached the common sentence after the cap
    assert out.stats["top_query_rows:event_extraction"] == 5
    # rows keep record order, and within a record sentence order
    by_record = [r["source_record_hash"] for r in rows]
    assert by_record == sorted(by_record)


def test_no_row_repeats_another_word_for_word() -> None:
    twins = [RESP | {"record_hash": f"{i:032x}", "patient_key": "t" * 32} for i in range(40)]
    out = run(twins, tasks=["triage", "diagnosis_normalization"], english_fraction=0.0)
    rows = out.kept.to_pylist()
    exact = Counter((r["task"], r["instruction"], r["query"], r["answer"]) for r in rows)
    assert max(exact.values()) == 1
    # the same wording gives the same codes: only as many distinct rows as there are templates
    n_zh = len(load_templates("diagnosis_normalization")["zh"])
    assert out.stats["retemplated:diagnosis_normalization"] > 0
    assert out.stats["rows:diagnosis_normalization"] == n_zh
    assert out.stats["duplicate:diagnosis_normalization"] == 40 - n_zh


def test_every_row_carries_its_patient_key_and_a_parseable_answer() -> None:
    out = run([CARDIO, RESP, LEAKY, WRITTEN])
    rows = out.kept.to_pylist()
    keys = {r["record_hash"]: r["patient_key"] for r in (CARDIO, RESP, LEAKY, WRITTEN)}
    assert rows and all(r["patient_key"] == keys[r["source_record_hash"]] for r in rows)
    for r in rows:
        assert parse_answer(r["task"], r["answer_format"], r["answer"]) is not None
        assert r["answer_format"] in FORMATS[r["task"]]
    # a record without a patient key yields no row: a later split could not keep its visits together
    out = run([RESP | {"patient_key": ""}])
    assert out.kept.num_rows == 0 and out.quarantined.column("reason").to_pylist() == ["missing_patient_key"]


def test_answer_wording_varies_across_records() -> None:
    recs = [with_events(i) | {"diagnoses": RESP["diagnoses"], "medications": RESP["medications"],
                              "chief_complaint": f"咳嗽、咳痰{i + 2}天"} for i in range(40)]
    out = run(recs, tasks=["triage", "medication"], english_fraction=0.0)
    rows = out.kept.to_pylist()
    reasons = {r["answer"].split("理由：")[1].replace(r["query"].split("\n")[1][3:], "") for r in rows
               if r["task"] == "triage" and r["answer_format"] == "default"}
    intros = {r["answer"].split("\n")[0] for r in rows if r["task"] == "medication" and r["answer_format"] == "default"}
    assert len(reasons) >= 4 and len(intros) >= 3


def test_stage_stats_and_report_give_per_task_figures(tmp_path: Path) -> None:
    from cmedins.tasks.__main__ import main

    out = run([CARDIO, RESP, LEAKY, WRITTEN])
    s = out.stats
    for task in DEFAULT_TASKS:
        assert s[f"distinct_instructions:{task}"] >= 1 and s[f"top_query_rows:{task}"] >= 1
        assert f"distinct_answers:{task}" in s and f"templates_used:{task}" in s
    assert s["leakage_rows:diagnosis"] >= 1
    figures = quality(out.kept)
    assert figures["triage"]["rows"] == s["rows:triage"] and figures["triage"]["extra_exact_duplicates"] == 0
    assert figures["triage"]["rows_with_patient_key"] == figures["triage"]["rows"]
    # the CLI reads the build report next to the output for the leakage, grounding and safety counters
    (tmp_path / "output").mkdir()
    (tmp_path / "report").mkdir()
    write_table(out.kept, tmp_path / "output" / "tasks.parquet")
    stats = {**s, "unsafe:allergy_penicillin": 2, "ungrounded:summary:number_unit": 1}
    (tmp_path / "report" / "build_report.json").write_text(
        json.dumps({"stages": [{"name": "tasks", "stats": stats}]}), encoding="utf-8")
    assert main(["report", "--input", str(tmp_path / "output" / "tasks.parquet"), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "tasks_quality.md").read_text(encoding="utf-8")
    assert "| diagnosis |" in md and "allergy_penicillin | 2" in md and "number_unit 1" in md
    q = json.loads((tmp_path / "r" / "tasks_quality.json").read_text(encoding="utf-8"))
    assert q["stage"]["per_task"]["diagnosis"]["leakage_rows"] >= 1
    assert q["per_task"]["summary"]["top_query_share"] <= 1
