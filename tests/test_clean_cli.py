"""`python -m cmedins.clean dedup`: end to end on JSONL and Parquet, and one clear line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_clean_helpers import edit

from cmedins.clean.cli import main

NOTE = ("患者2周前无明显诱因出现右膝关节疼痛，上下楼梯时加重，休息后可缓解，无发热、关节红肿。查体：右膝关节内侧压痛，"
        "浮髌试验阴性，麦氏征阳性。膝关节MRI示内侧半月板后角撕裂。予塞来昔布胶囊200mg qd口服，嘱减少负重活动。")


def _rows() -> list[dict]:
    return [
        {"id": "a", "text": NOTE, "source": "x"},
        {"id": "b", "text": NOTE.replace("，", ", "), "source": "y"},  # exact after normalisation
        {"id": "c", "text": edit(NOTE, 0.06, 4)[:-12], "source": "z"},  # near, shorter
        {"id": "d", "text": "完全不同的病历：患儿发热3天，咳嗽，咽部充血，扁桃体肿大。" * 3, "source": "x"},
        {"id": "e", "text": None, "source": "x"},
    ]


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_in_parquet_out(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _jsonl(tmp_path / "in.jsonl", _rows())
    code = main(["dedup", "--in", str(src), "--out", str(tmp_path / "kept.parquet"), "--removed",
                 str(tmp_path / "removed.jsonl")])
    assert code == 0
    kept = pq.read_table(tmp_path / "kept.parquet").to_pylist()
    assert [r["id"] for r in kept] == ["a", "d", "e"] and kept[0]["source"] == "x"  # every column kept
    removed = [json.loads(line) for line in (tmp_path / "removed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["duplicate_of"], r["reason"]) for r in removed] == \
        [("b", "a", "exact_duplicate"), ("c", "a", "near_duplicate")]
    assert removed[0]["similarity"] == 1.0 and 0.5 <= removed[1]["similarity"] < 1.0
    assert "kept 3, removed 2 (exact 1, near 1)" in capsys.readouterr().err


def test_parquet_in_jsonl_out_as_a_subprocess(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(_rows()), src)
    res = subprocess.run([sys.executable, "-m", "cmedins.clean", "dedup", "--in", str(src), "--out",
                          str(tmp_path / "kept.jsonl"), "--removed", str(tmp_path / "removed.parquet"), "--quiet"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    kept = [json.loads(line) for line in (tmp_path / "kept.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in kept] == ["a", "d", "e"]
    removed = pq.read_table(tmp_path / "removed.parquet")
    assert removed.column("duplicate_of").to_pylist() == ["a", "a"]


@pytest.mark.parametrize(
    ("name", "content", "args", "needle"),
    [
        ("in.jsonl", '{"id": "1", "body": "x"}\n', [], "line 1: missing field 'text'"),
        ("in.jsonl", '{"id": "1", "text": "x"}\n{"id": "1", "text": "y"}\n', [], "line 2: id repeats"),
        ("in.jsonl", '{"id": "1", "text": 5}\n', [], "is not a string"),
        ("in.jsonl", '{"id": "1", "text": "x"}\n{oops\n', [], "line 2: not valid JSON"),
        ("in.jsonl", "", [], "no rows"),
        ("in.jsonl", "\n\n", [], "no rows"),
        ("in.parquet", "PAR1 this is not parquet", [], "not a readable Parquet file"),
        ("in.csv", "id,text\n1,x\n", [], "unsupported file type"),
        ("in.jsonl", '{"id": "1", "text": "x"}\n', ["--text-column", "body"], "missing field 'body'"),
        (None, None, [], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture, name: str | None,
                                          content: str | None, args: list[str], needle: str) -> None:
    src = tmp_path / (name or "missing.jsonl")
    if content is not None:
        src.write_text(content, encoding="utf-8")
    code = main(["dedup", "--in", str(src), "--out", str(tmp_path / "k.jsonl"), "--removed", str(tmp_path / "r.jsonl"),
                 *args])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and needle in lines[0], err
    assert not (tmp_path / "k.jsonl").exists()


def test_bad_input_from_the_command_line_has_no_traceback(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    src.write_bytes(b"PAR1 not parquet")
    res = subprocess.run([sys.executable, "-m", "cmedins.clean", "dedup", "--in", str(src), "--out",
                          str(tmp_path / "k.jsonl"), "--removed", str(tmp_path / "r.jsonl")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().count("\n") == 0 and "not a readable Parquet file" in res.stderr


def test_parquet_missing_column(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ["1"], "body": ["x"]}), src)
    assert main(["dedup", "--in", str(src), "--out", str(tmp_path / "k.parquet"), "--removed",
                 str(tmp_path / "r.parquet")]) == 2
