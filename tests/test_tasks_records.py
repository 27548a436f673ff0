"""The `tasks` stage on hand-written de-identified records: answers against the records' structured fields,
quarantine reasons, accounting of every record, determinism and the options of TasksConfig."""

from __future__ import annotations

import copy
import io
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_tasks_support import CARDIO, RESP, records, records_table

from cmedins.contracts import load_contract
from cmedins.parquet_io import write_table
from cmedins.stage import StageContext, collect, get_stage
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.formats import parse_answer, parse_coded, parse_diagnoses, parse_events, parse_medications
from cmedins.tasks.registry import get_task
from cmedins.tasks.templates import load_templates

CTX = StageContext(seed=11, workdir=Path("."), secret=b"test")


def run(rows=None, seed: int = 11, **cfg):
    stage = get_stage("tasks")
    table = records_table(rows)
    return collect(stage.fn(table, stage.make_config(cfg), StageContext(seed=seed, workdir=Path("."), secret=b"test")))


def by_task(out, record_hash: str) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for r in out.kept.to_pylist():
        if r["source_record_hash"] == record_hash:
            rows.setdefault(r["task"], []).append(r)
    return rows


def test_output_matches_contract_and_provenance() -> None:
    out = run()
    assert out.kept.schema.equals(load_contract("task_row").schema)
    assert out.quarantined.schema.equals(load_contract("quarantine").schema)
    hashes = {r["record_hash"] for r in records()}
    keys = {r["record_hash"]: r["patient_key"] for r in records()}
    for r in out.kept.to_pylist():
        assert r["source_record_hash"] in hashes and r["source"] == "records" and r["deid_version"] == "test-1"
        assert r["patient_key"] == keys[r["source_record_hash"]]
        assert r["template_id"].startswith(f"{r['task']}.{r['language']}.")
        assert [m["role"] for m in r["messages"]] == ["user", "assistant"]
        tpl = next(t for lang in ("zh", "en") for t in load_templates(r["task"])[lang] if t.id == r["template_id"])
        assert r["instruction"] == tpl.instruction and tpl.format == r["answer_format"]
        assert r["messages"][0]["content"] == tpl.user_message(r["query"]) and r["query"] in r["messages"][0]["content"]
        assert r["messages"][1]["content"] == r["answer"]
    assert len(set(out.kept.column("id").to_pylist())) == out.kept.num_rows


def test_answers_match_the_records_structured_fields() -> None:
    rows = by_task(run(), CARDIO["record_hash"])
    assert set(rows) == {"event_extraction", "triage", "diagnosis", "diagnosis_normalization", "medication",
                         "summary"}
    for task_rows in rows.values():  # whatever format the template asked for, the answer reads back
        for r in task_rows:
            assert parse_answer(r["task"], r["answer_format"], r["answer"]) is not None
    # the items in their default format: task 1, one row per annotated sentence, events in annotation order,
    # padded status "否定 " read as 否定
    cfg = TasksConfig()
    events = {it.query: parse_events(it.answer) for it in get_task("event_extraction").build(CARDIO, cfg)}
    assert len(events) == 2 and len(rows["event_extraction"]) == 2
    first, second = (e["sentence"] for e in CARDIO["events"][:2])
    assert [(e.subject, e.descriptors, e.anatomy, e.status) for e in events[first]] == [
        ("疼痛", ("压榨样",), ("胸骨后",), "肯定")]
    assert [(e.subject, e.status) for e in events[second]] == [("发热", "否定"), ("咳嗽", "否定")]
    # task 2: the department, with a reason from the complaint and findings (never the diagnosis)
    (tri,) = get_task("triage").build(CARDIO, cfg)
    assert tri.answer.startswith("建议就诊科室：心血管内科。\n理由：") and "心绞痛" not in tri.answer
    assert tri.query.startswith("患者信息：男，67岁\n主诉：" + CARDIO["chief_complaint"])
    # task 3: the diagnoses in the doctor's wording, primary first; the inpatient header
    (dx,) = get_task("diagnosis").build(CARDIO, cfg)
    assert parse_diagnoses(dx.answer) == [d["text"] for d in CARDIO["diagnoses"]]
    assert dx.answer.startswith("出院诊断：") and "辅助检查：" in dx.query
    # task 4: codes and names in the order of the wordings in the query
    (norm,) = get_task("diagnosis_normalization").build(CARDIO, cfg)
    assert [(c.name, c.code) for c in parse_coded(norm.answer)] == [
        (d["icd10_name"], d["icd10_code"]) for d in CARDIO["diagnoses"]]
    assert norm.query == "\n".join(f"{i}. {d['text']}" for i, d in enumerate(CARDIO["diagnoses"], 1))
    # task 5: every order with dose, route, frequency, and a safety sentence
    (med,) = get_task("medication").build(CARDIO, cfg)
    assert [m.__dict__ for m in parse_medications(med.answer)] == CARDIO["medications"]
    assert med.answer.splitlines()[-1].startswith("安全提示：")
    # task 6: the written discharge summary is the default answer and is not in the query
    (summ,) = get_task("summary").build(CARDIO, cfg)
    assert summ.answer == CARDIO["discharge_summary"] and CARDIO["discharge_summary"] not in summ.query


def test_outpatient_summary_is_composed_from_fields_the_query_shows() -> None:
    rows = by_task(run(), RESP["record_hash"])
    assert "event_extraction" not in rows  # no annotations, no rows for task 1
    (summ,) = get_task("summary").build(RESP, TasksConfig())
    assert "咳嗽、咳痰5天，发热1天" in summ.answer and "右下肺社区获得性肺炎" in summ.answer
    assert "白细胞计数 12.8×10^9/L↑" in summ.answer and "白细胞计数 12.8×10^9/L↑" in summ.query
    assert "头孢呋辛酯片 0.25g 口服 每日两次" in summ.answer
    assert "呼吸内科门诊" in summ.answer and summ.query.startswith("就诊信息：呼吸内科门诊，就诊日期：2023-05")
    (dx,) = get_task("diagnosis").build(RESP, TasksConfig())
    assert parse_diagnoses(dx.answer) == ["右下肺社区获得性肺炎"] and dx.answer.startswith("诊断：")


def test_failed_checks_go_to_quarantine_with_reasons() -> None:
    out = run()
    q = {(r["key"][:1], r["reason"], r["field"]) for r in out.quarantined.to_pylist()}
    assert q == {("c", "no_rows", None), ("d", "bad_icd10", "answer"), ("e", "query_too_long", "query")}
    placeholder = next(r for r in out.quarantined.to_pylist() if r["key"][:1] == "c")
    assert "triage:placeholder_only" in placeholder["payload"]  # a complaint that is only [姓名] triages no one
    for r in out.quarantined.to_pylist():
        assert r["stage"] == "tasks" and r["source"] == "deid" and r["message"].startswith(f"deid row {r['row']} ")
        assert "[姓名]" not in r["message"] and "上腹部" not in r["message"]
    # every record yields a row or a quarantine entry
    kept = set(out.kept.column("source_record_hash").to_pylist())
    refused = set(out.quarantined.column("key").to_pylist())
    assert {r["record_hash"] for r in records()} <= kept | refused
    assert out.stats["records_with_rows"] + out.stats["records_without_rows"] == len(records())
    assert out.inputs_used + out.inputs_quarantined == len(records())  # the runner's check
    assert out.stats["no_events"] == 4 and out.stats["rows:event_extraction"] == 2


def test_record_with_nothing_to_build_is_accounted_for() -> None:
    rec = records()[1] | {"diagnoses": None, "medications": None}
    out = run([rec], tasks=["diagnosis", "medication"])
    assert out.kept.num_rows == 0
    (q,) = out.quarantined.to_pylist()
    assert q["reason"] == "no_rows" and "diagnosis:no_diagnoses" in q["payload"]


def test_event_sentences_cap() -> None:
    one = by_task(run(event_sentences=1), CARDIO["record_hash"])["event_extraction"]
    assert len(one) == 1 and one[0]["query"] in {e["sentence"] for e in CARDIO["events"]}
    assert len(by_task(run(event_sentences=None), CARDIO["record_hash"])["event_extraction"]) == 2


def test_record_without_hash_is_refused() -> None:
    out = run([records()[0] | {"record_hash": ""}])
    assert out.kept.num_rows == 0
    assert out.quarantined.column("reason").to_pylist() == ["missing_record_hash"]


def test_byte_identical_and_seeded(tmp_path: Path) -> None:
    a, b = run(), run()
    write_table(a.kept, tmp_path / "a.parquet")
    write_table(b.kept, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    # rows come in input order: the stage reads the table slice by slice but caps and duplicates span slices
    order = [r["record_hash"] for r in records()]
    hashes = list(dict.fromkeys(a.kept.column("source_record_hash").to_pylist()))
    assert hashes == [h for h in order if h in hashes]
    other = run(seed=12)
    assert other.kept.column("template_id").to_pylist() != a.kept.column("template_id").to_pylist()


def test_weights_english_fraction_and_system_prompt() -> None:
    many = [records()[1] | {"record_hash": f"{i:032x}", "chief_complaint": f"咳嗽、咳痰{i + 1}天，发热1天"}
            for i in range(400)]
    out = run(many, tasks=["triage", "diagnosis"], weights={"triage": 0.25, "diagnosis": 2.0},
              english_fraction=0.5, system_prompt="你是一名医学助手。")
    n_tri, n_dx = out.stats["rows:triage"], out.stats["rows:diagnosis"]
    assert 60 <= n_tri <= 140 and n_dx == 800
    assert out.stats["sampled_out:triage"] == 400 - n_tri
    assert 0.4 < out.stats["lang:en"] / out.kept.num_rows < 0.6
    first = out.kept.to_pylist()[0]
    assert first["messages"][0] == {"role": "system", "content": "你是一名医学助手。"}
    # weight 2: two rows per record with distinct templates and ids
    dx = by_task(out, many[0]["record_hash"])["diagnosis"]
    assert len(dx) == 2 and dx[0]["template_id"] != dx[1]["template_id"] and dx[0]["id"] != dx[1]["id"]
    zh_only = run(many[:50], tasks=["triage"], english_fraction=0.0)
    assert set(zh_only.kept.column("language").to_pylist()) == {"zh"}


def test_bad_options_are_one_line_errors() -> None:
    stage = get_stage("tasks")
    with pytest.raises(ValueError, match="unknown option"):
        stage.make_config({"englsh_fraction": 0.2})
    with pytest.raises(ValueError, match="english_fraction"):
        stage.make_config({"english_fraction": 2})
    with pytest.raises(ValueError, match="not enabled"):
        stage.make_config({"tasks": ["triage"], "weights": {"summary": 0.5}})
    with pytest.raises(ValueError, match="unknown task 'triag'"):  # at config time, before any batch runs
        stage.make_config({"tasks": ["triag"]})
    with pytest.raises(ValueError, match="lacks required column"):
        stage.fn(pa.table({"x": [1]}), stage.make_config({}), CTX)


def test_sample_cli_prints_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from cmedins.tasks.__main__ import main

    monkeypatch.setenv("COLUMNS", "250")  # no wrapping inside the asserted strings
    path = tmp_path / "rows.parquet"
    write_table(run().kept, path)
    assert main(["sample", "--input", str(path), "--task", "triage", "-n", "20"]) == 0
    text = capsys.readouterr().out
    assert "心血管内科" in text and "[日期]" in text  # placeholders survive rich markup
    assert main(["report", "--input", str(path), "--out", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "departments.svg").read_text(encoding="utf-8").startswith("<svg")
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": [1]}), buf)
    (tmp_path / "bad.parquet").write_bytes(buf.getvalue())
    with pytest.raises(SystemExit, match="not a task_row table"):
        main(["sample", "--input", str(tmp_path / "bad.parquet")])


def test_a_plugin_task_can_be_added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lab_tpl.yaml").write_text(
        "task: lab_reading\nzh: [请解读以下检验结果。, 请说明下列检验指标是否异常。, 请解读检验单。,"
        " 这些检验结果正常吗？, 请分析检验结果。]\n",
        encoding="utf-8")
    (tmp_path / "lab_plugin.py").write_text(
        "from pathlib import Path\n"
        "from cmedins.tasks import Item, register_task\n"
        "@register_task('lab_reading', '检验解读', templates=Path(__file__).with_name('lab_tpl.yaml'))\n"
        "def build(record, config):\n"
        "    labs = [x for x in record.get('labs') or [] if x['flag'] == 'H']\n"
        "    if not labs:\n"
        "        return 'no_labs'\n"
        "    return [Item(query='；'.join(x['item'] + ' ' + x['value'] for x in labs), answer='偏高')]\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = run(tasks=["lab_reading", "triage"], plugins=["lab_plugin"], english_fraction=0.0)
    assert out.stats["rows:lab_reading"] == 2 and out.stats["skipped:lab_reading:no_labs"] == 3
    assert out.kept.column("task").to_pylist()[:2] == ["lab_reading", "triage"]


def test_task_groups_in_worker_processes_give_the_rows_of_one_pass() -> None:
    """Two workers split the tasks into groups, each its own process over every slice; the caps and the
    duplicate check span slices, the records' accounting spans groups: rows, quarantine (order included) and
    counters are those of one process."""
    from cmedins.tasks import stage as tasks_stage

    base = records()
    rows = []
    for i in range(12):  # repeated sentences (caps across slices), a record without hash, one with nothing to build
        rec = copy.deepcopy(base[i % len(base)]) | {"record_hash": f"{i:032x}", "patient_key": f"p{i}"}
        rows.append(rec)
    rows[4]["record_hash"] = ""
    rows[7] |= {"diagnoses": None, "medications": None, "events": None, "chief_complaint": ""}
    stage = get_stage("tasks")
    config = stage.make_config({"query_cap": {"event_extraction": 2}})
    one, two = (collect(stage.fn(records_table(rows), config, StageContext(seed=3, workdir=Path("."), secret=b"k",
                                                                            batch_rows=5, workers=w))) for w in (1, 2))
    assert tasks_stage.task_groups(config.tasks, 2)[0] and tasks_stage.task_groups(config.tasks, 2)[1]
    assert one.kept.equals(two.kept) and one.quarantined.equals(two.quarantined)
    assert one.stats == two.stats and one.stats["capped:event_extraction"] > 0
    assert (one.inputs_used, one.inputs_quarantined) == (two.inputs_used, two.inputs_quarantined)
    assert one.inputs_used + one.inputs_quarantined == len(rows)
    assert "missing_record_hash" in one.quarantined.column("reason").to_pylist()


def test_a_group_goes_without_only_the_costly_fields_none_of_its_tasks_reads() -> None:
    """A lane converts no `events` (or `labs`) when none of its tasks reads them (`stage._READ_BY`): every other
    built-in builder gives the same items from records without those fields; plugin tasks get every field."""
    from cmedins.tasks import stage as tasks_stage
    from cmedins.tasks.registry import DEFAULT_TASKS

    def items(name: str, rec: dict) -> object:
        got = get_task(name).build(rec, config)  # a ranked task's items come as an iterator, their answers lazily
        return got if isinstance(got, str) else [replace(item, answers=item.formats()) for item in got]

    config = TasksConfig()
    for field, readers in tasks_stage._READ_BY.items():
        for name in set(DEFAULT_TASKS) - readers:
            for rec in records():
                assert items(name, rec) == items(name, {**rec, field: None}), (name, field)
    for group in tasks_stage.task_groups(list(DEFAULT_TASKS), 2):
        assert ("events" in tasks_stage.group_skips(group, config)) == {"event_extraction", "triage"}.isdisjoint(group)
    assert tasks_stage.group_skips(list(DEFAULT_TASKS), config) == frozenset()
    assert tasks_stage.group_skips(["summary"], TasksConfig(plugins=["cmedins.tasks.summary"])) == frozenset()
