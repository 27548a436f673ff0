"""The independent audit (`benchmarks/tasks_audit.py`) finds each failure in hand-written rows, and finds none in
what the `tasks` stage builds from the hand-written records that contain those failures."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
from test_tasks_support import CARDIO, LEAKY, RESP, WRITTEN, prescribed, records_table

from cmedins.contracts import load_contract
from cmedins.parquet_io import write_table
from cmedins.stage import StageContext, collect, get_stage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from tasks_audit import audit  # noqa: E402

RECORDS = [CARDIO, RESP, LEAKY, WRITTEN,
           prescribed("9" * 32, "对青霉素过敏。", [("注射用哌拉西林钠他唑巴坦钠", "4.5g", "静脉滴注", "q8h")])]


def build_dir(tmp: Path, rows: pa.Table) -> Path:
    (tmp / "output").mkdir(parents=True)
    (tmp / "work" / "deid").mkdir(parents=True)
    write_table(records_table(RECORDS), tmp / "work" / "deid" / "kept.parquet")
    write_table(rows, tmp / "output" / "tasks.parquet")
    return tmp


def row(task: str, record: dict, query: str, answer: str, instruction: str = "指令") -> dict:
    return {"id": f"{task}{record['record_hash']}{len(answer)}", "task": task, "task_zh": task,
            "instruction": instruction, "query": query, "answer": answer,
            "messages": [{"role": "user", "content": query}, {"role": "assistant", "content": answer}],
            "language": "zh", "template_id": f"{task}.zh.1", "answer_format": "default", "source": "records",
            "source_record_hash": record["record_hash"], "patient_key": record["patient_key"],
            "department": record["department"], "deid_version": "test-1"}


def test_the_audit_finds_each_failure(tmp_path: Path) -> None:
    bad = [
        row("diagnosis", LEAKY, LEAKY["present_illness"], "出院诊断：\n1. 慢性阻塞性肺疾病急性加重（主要诊断）"),
        row("summary", WRITTEN, "主诉：突发左侧肢体无力6小时", WRITTEN["discharge_summary"]),
        row("medication", RECORDS[-1], "既往史：对青霉素过敏。", "建议：\n1. 药品：注射用哌拉西林钠他唑巴坦钠"),
        row("triage", LEAKY, LEAKY["present_illness"], "建议就诊科室：呼吸内科。"),
        row("triage", LEAKY, LEAKY["present_illness"], "建议就诊科室：呼吸内科。"),
    ]
    figures = audit(build_dir(tmp_path, pa.Table.from_pylist(bad, schema=load_contract("task_row").schema)))
    assert figures["diagnosis"]["primary_in_query"] == 1.0 and figures["diagnosis"]["admitting_phrase_in_query"] == 1
    assert figures["summary"]["fact_absent_from_query"] == 1.0
    assert set(figures["summary"]["by_kind"]) >= {"number_unit", "diagnosis", "drug", "department"}
    assert figures["placeholder_answers"] == {"summary": 1}
    assert figures["medication"]["allergy_conflicts"] == 1
    assert figures["triage"]["department_in_query"] == 1.0 and figures["extra_exact_duplicates"] == 1


def test_the_stage_output_passes_the_audit(tmp_path: Path) -> None:
    stage = get_stage("tasks")
    out = collect(stage.fn(records_table(RECORDS), stage.make_config({}), StageContext(seed=1, workdir=tmp_path,
                                                                                          secret=b"test")))
    figures = audit(build_dir(tmp_path / "b", out.kept))
    assert figures["diagnosis"]["primary_in_query"] == 0 and figures["diagnosis"]["admitting_phrase_in_query"] == 0
    assert figures["summary"]["fact_absent_from_query"] == 0 and figures["placeholder_answers"] == {}
    assert figures["medication"]["allergy_conflicts"] == 0 and figures["medication"]["cross_reactive"] == 0
    assert figures["triage"]["department_in_query"] == 0 and figures["extra_exact_duplicates"] == 0
    assert figures["patient_key_share"] == 1.0
