"""`python -m cmedins.deid` on JSONL and Parquet files: output rows, report, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.deid.cli import main

ROWS = [
    {"id": "a1", "text": "患者张建国，男，45岁，电话13812345678，住院号：ZY20230001234。", "extra": 1},
    {"id": "a2", "text": "BP 160/90mmHg，予黄芪30g。", "extra": 2},
    {"id": "a3", "text": None, "extra": 3},
]


def _write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_jsonl_roundtrip_and_report(tmp_path):
    src, dst, rep = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "r.json"
    _write_jsonl(src, ROWS)
    assert main(["--in", str(src), "--out", str(dst), "--report", str(rep), "--quiet", "--workers", "1"]) == 0
    out = [json.loads(x) for x in dst.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in out] == ["a1", "a2", "a3"] and [r["extra"] for r in out] == [1, 2, 3]
    assert "张建国" not in out[0]["text"] and "13812345678" not in out[0]["text"]
    assert out[1]["text"] == ROWS[1]["text"] and out[2]["text"] is None
    report = json.loads(rep.read_text(encoding="utf-8"))
    assert report["entities"] == {"MEDICAL_RECORD_NO": 1, "PERSON": 1, "PHONE": 1}
    assert "张建国" not in rep.read_text(encoding="utf-8")


def test_parquet_with_text_column(tmp_path):
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.table({"rid": ["x", "y"], "note": ["联系人：王小明 电话0571-88886666", "无特殊"]}), src)
    assert main(["--in", str(src), "--out", str(dst), "--text-column", "note", "--id-column", "rid", "--quiet"]) == 0
    out = pq.read_table(dst).to_pylist()
    assert out[0]["rid"] == "x" and "王小明" not in out[0]["note"] and "88886666" not in out[0]["note"]
    assert out[1]["note"] == "无特殊"


def _err(tmp_path, content: str, *extra: str) -> tuple[int, str]:
    src = tmp_path / "bad.jsonl"
    src.write_text(content, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "cmedins.deid", "--in", str(src), "--out", str(tmp_path / "o.jsonl"),
                           *extra], capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stderr.strip()


def test_bad_json_is_one_line(tmp_path):
    rc, err = _err(tmp_path, '{"id": 1, "text": "张三"}\n{"id": 2, "text": "李四电话13800138000"\n')
    assert rc == 2 and err == "error: bad.jsonl: line 2: not valid JSON"
    assert "Traceback" not in err and "13800138000" not in err


def test_missing_field_is_one_line(tmp_path):
    rc, err = _err(tmp_path, '{"id": 1, "body": "x"}\n')
    assert rc == 2 and err == "error: bad.jsonl: line 1: missing field 'text'"
    rc, err = _err(tmp_path, '{"text": "x"}\n')
    assert rc == 2 and err == "error: bad.jsonl: line 1: missing field 'id'"


def test_help():
    proc = subprocess.run([sys.executable, "-m", "cmedins.deid", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--text-column" in proc.stdout
