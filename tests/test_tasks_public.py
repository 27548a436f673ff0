"""The public annotated sources run through `tasks_public`: real CHIP-CDEE, CHIP-CDN and the ICD-10 list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REALDATA

from cmedins.contracts import load_contract
from cmedins.stage import StageContext, get_stage
from cmedins.tasks import TasksConfig
from cmedins.tasks.formats import format_events, parse_answer
from cmedins.tasks.icd10 import load_icd10, valid_code
from cmedins.tasks.public import entry_hash

CDEE = REALDATA / "CHIP-CDEE"
CDN = REALDATA / "CBLUE_CHIP-CDN"
ICD = REALDATA / "ICD10_Beijing_clinical_v601" / "DERIVED_icd10_beijing_v601.tsv"

pytestmark = pytest.mark.skipif(not REALDATA.exists(), reason="../shared/realdata is not present")


def _ctx(tmp_path: Path) -> StageContext:
    return StageContext(seed=3, workdir=tmp_path, secret=b"test")


def _run(tmp_path: Path, **cfg):
    stage = get_stage("tasks_public")
    config = stage.make_config(cfg)
    return stage, config, stage.fn(load_contract("task_row").schema.empty_table(), config, _ctx(tmp_path))


def test_icd10_list_loads_and_codes_are_valid() -> None:
    icd = load_icd10(ICD)
    assert icd.rows == 40474
    assert icd.skipped == 1  # the stray `N N` row of the derived TSV
    assert icd.by_name["高血压"] == "I10xx02"
    assert icd.by_name["霍乱"] == "A00.901"  # most specific of A00 / A00.901
    assert all(valid_code(c) for c in icd.by_name.values())
    assert not valid_code("E11-9") and not valid_code("高血压") and not valid_code("I1")


def test_cdee_rows_match_annotations(tmp_path: Path) -> None:
    path = CDEE / "CHIP-CDEE_train.json"
    stage, config, out = _run(tmp_path, tasks=["event_extraction"], cdee_paths=[str(path)], english_fraction=0.0)
    assert stage.input_files(config) == [path]
    entries = json.loads(path.read_text(encoding="utf-8"))
    by_hash = {entry_hash("chip-cdee", e): e for e in entries}
    rows = out.kept.to_pylist()
    assert len(rows) + out.quarantined.num_rows == len(entries)
    assert len(rows) > 0.9 * len(entries)
    assert set(out.quarantined.column("reason").to_pylist()) <= {"ungrounded", "unparseable"}
    status = {"": "肯定", "否定": "否定", "不确定": "不确定"}
    for row in rows:
        entry = by_hash[row["source_record_hash"]]
        assert row["query"] == entry["text"].strip()
        parsed = parse_answer("event_extraction", row["answer_format"], row["answer"])
        assert [e.subject for e in parsed] == [e["core_name"].strip() for e in entry["event"]]
        assert [e.status for e in parsed] == [status[e["tendency"].strip()] for e in entry["event"]]
        # values are stripped: some carry trailing spaces (`肺门淋巴结 `)
        assert [list(e.anatomy) for e in parsed] == [[a.strip() for a in e["anatomy_list"]] for e in entry["event"]]
        assert row["messages"][-1] == {"role": "assistant", "content": row["answer"]}
    # the entry whose tendency is "不确定 " (trailing space) comes out as 不确定, not as a bad status
    quirky = entries[760]
    assert quirky["event"][1]["tendency"] == "不确定 "
    row = next(r for r in rows if r["source_record_hash"] == entry_hash("chip-cdee", quirky))
    events = parse_answer("event_extraction", row["answer_format"], row["answer"])
    assert "主体词:小叶癌,描述词:无,解剖部位:右乳,发生状态:不确定" in format_events(events)
    # public entries carry no patient: each row is its own split group
    assert all(r["patient_key"] == r["source_record_hash"] for r in rows)


def test_cdee_unlabelled_test_split_is_quarantined(tmp_path: Path) -> None:
    _, _, out = _run(tmp_path, tasks=["event_extraction"], cdee_paths=[str(CDEE / "CHIP-CDEE_test.json")])
    assert out.kept.num_rows == 0
    assert out.quarantined.num_rows == 514
    assert set(out.quarantined.column("reason").to_pylist()) == {"no_events"}
    assert out.stats["no_events"] == 514 and out.stats["entries:CHIP-CDEE_test.json"] == 514
    q = out.quarantined.to_pylist()[0]
    assert q["source"] == "CHIP-CDEE_test.json" and q["row"] == 1 and q["stage"] == "tasks"


def test_cdn_rows_are_coded_from_the_icd_list(tmp_path: Path) -> None:
    path = CDN / "CHIP-CDN_train.json"
    _, _, out = _run(tmp_path, tasks=["diagnosis_normalization"], cdn_paths=[str(path)], icd10_path=str(ICD),
                     public_limit=1500)
    icd = load_icd10(ICD)
    entries = json.loads(path.read_text(encoding="utf-8"))[:1500]
    by_hash = {entry_hash("chip-cdn", e): e for e in entries}
    rows = out.kept.to_pylist()
    assert len(rows) + out.quarantined.num_rows == 1500
    assert set(out.quarantined.column("reason").to_pylist()) == {"unknown_icd10_name"}
    multi = 0
    for row in rows:
        entry = by_hash[row["source_record_hash"]]
        names = list(dict.fromkeys(x.strip() for x in entry["normalized_result"].split("##") if x.strip()))
        coded = parse_answer("diagnosis_normalization", row["answer_format"], row["answer"])
        assert [c.name for c in coded] == names
        assert [c.code for c in coded] == [icd.by_name[n] for n in names]
        multi += len(coded) > 1
        assert "\ufeff" not in row["query"]
    assert multi > 300  # `##`-joined targets give numbered multi-line answers
    bom = next(r for r in rows if r["source_record_hash"] == entry_hash("chip-cdn", entries[472]))
    assert bom["query"] == "自身免疫性胃炎" and "K29" in bom["answer"]
    # a quarantine message names file, row and field, never the diagnosis text
    for q in out.quarantined.to_pylist():
        assert q["source"] == "CHIP-CDN_train.json" and q["field"] == "normalized_result"
        assert by_hash[q["key"]]["text"] not in q["message"]


def test_cdn_unlabelled_and_bad_files(tmp_path: Path) -> None:
    _, _, out = _run(tmp_path, tasks=["diagnosis_normalization"], cdn_paths=[str(CDN / "CHIP-CDN_test.json")],
                     icd10_path=str(ICD), public_limit=50)
    assert out.kept.num_rows == 0 and set(out.quarantined.column("reason").to_pylist()) == {"no_label"}
    bad = tmp_path / "bad.json"
    bad.write_text('{"text": "x"', encoding="utf-8")
    with pytest.raises(ValueError, match=r"^bad\.json: not valid UTF-8 JSON"):
        _run(tmp_path, tasks=["event_extraction"], cdee_paths=[str(bad)])
    with pytest.raises(ValueError, match="needs icd10_path"):
        TasksConfig(cdn_paths=["x.json"])


def test_public_build_is_deterministic(tmp_path: Path) -> None:
    cfg = dict(cdee_paths=[str(CDEE / "CHIP-CDEE_dev.json")], cdn_paths=[str(CDN / "CHIP-CDN_dev.json")],
               icd10_path=str(ICD), public_limit=200)
    a = _run(tmp_path, **cfg)[2]
    b = _run(tmp_path, **cfg)[2]
    assert a.kept.equals(b.kept) and a.quarantined.equals(b.quarantined)
    assert set(a.kept.column("source").to_pylist()) == {"chip-cdee", "chip-cdn"}
    assert a.kept.schema.equals(load_contract("task_row").schema)


def test_public_rows_follow_the_upstream_task_rows(tmp_path: Path) -> None:
    """In a recipe `tasks_public` runs after `tasks`: it keeps every upstream row, in order, then adds its own."""
    _, _, first = _run(tmp_path, tasks=["event_extraction"], cdee_paths=[str(CDEE / "CHIP-CDEE_dev.json")])
    upstream = first.kept.slice(0, 5)
    stage = get_stage("tasks_public")
    config = stage.make_config({"tasks": ["diagnosis_normalization"], "cdn_paths": [str(CDN / "CHIP-CDN_dev.json")],
                                "icd10_path": str(ICD)})
    out = stage.fn(upstream, config, _ctx(tmp_path))
    assert out.kept.slice(0, 5).to_pylist() == upstream.to_pylist()
    assert out.kept.num_rows > 5 and set(out.kept.column("task").to_pylist()[5:]) == {"diagnosis_normalization"}
    assert out.stats["passed_through"] == 5 and out.inputs_used == 5
