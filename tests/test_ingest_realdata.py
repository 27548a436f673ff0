"""Ingest on a real GB18030 export: the Toyhom Chinese medical dialogue CSV (7,644 rows, embedded newlines).

The file is read in place from ../shared/realdata (never copied into the repo); the derived exports are written
to tmp_path.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import REALDATA

from cmedins.contracts import load_contract
from cmedins.ingest import IngestError, SourceSpec, read_source
from cmedins.ingest.csv_reader import read_csv

TOYHOM = REALDATA / "Toyhom_Chinese_medical_dialogue" / "样例_内科5000-6000.csv"
CONTRACT = load_contract("record")

pytestmark = pytest.mark.skipif(not TOYHOM.exists(), reason="../shared/realdata is not present")


def test_raw_reader_counts_match_the_source_card() -> None:
    rows, departments = 0, Counter()
    for batch in read_csv(TOYHOM, "gb18030", ",", 2000):
        assert not batch.rejects
        rows += batch.rows_read
        departments.update(batch.columns["department"].to_pylist())
    assert rows == 7644  # SOURCE.txt: 7644 data rows, 7 with embedded newlines
    assert departments["肝病科"] == 3121 and departments["风湿免疫科"] == 18


def test_unmapped_export_fails_with_one_clear_line() -> None:
    spec = SourceSpec.from_dict({"name": "toyhom", "kind": "csv", "path": str(TOYHOM), "encoding": "gb18030",
                                 "mapping": {"chief_complaint": "title", "present_illness": "ask"}})
    with pytest.raises(IngestError) as err:
        list(read_source(spec, CONTRACT))
    assert str(err.value) == ("ingest: cannot read 样例_内科5000-6000.csv: no column for required field record_id "
                              "(add it to the source's mapping)")


CORRUPTIONS = ("bad_encoding", "bad_date", "missing_required", "bad_columns", "bad_enum", "duplicate_key")


def _export_with_corruptions(path: Path, rate: float, seed: int) -> dict[int, str]:
    """A hospital-style GB18030 export built from the real rows; returns {row: reason} of the corrupted rows."""
    rng = random.Random(seed)
    header = ["就诊号", "患者ID", "医院", "科室", "就诊类型", "就诊日期", "主诉", "现病史", "医生回复"]
    expected: dict[int, str] = {}
    lines: list[bytes] = [(",".join(header) + "\n").encode("gb18030")]
    with open(TOYHOM, encoding="gb18030", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row_no, (dept, title, ask, answer) in enumerate(reader, start=1):
            cells = [f"V{row_no:06d}", f"P{row_no % 997:04d}", "示例医院", dept, "门诊",
                     f"2023-{row_no % 12 + 1:02d}-{row_no % 28 + 1:02d}", title, ask, answer]
            kind = rng.choice(CORRUPTIONS) if rng.random() < rate and row_no > 1 else None
            if kind == "bad_date":
                cells[5] = "2023-02-30"
            elif kind == "missing_required":
                cells[6] = ""
            elif kind == "bad_columns":
                cells = cells[:-1]
            elif kind == "bad_enum":
                cells[4] = "住院部"
            elif kind == "duplicate_key":
                cells[0] = "V000001"
            buf = _csv_line(cells).encode("gb18030")
            if kind == "bad_encoding":
                cut = buf.index("示例医院".encode("gb18030")) + 1  # break the trail byte of a double-byte character
                buf = buf[:cut] + b"\xff" + buf[cut + 1:]
            if kind:
                expected[row_no] = kind
            lines.append(buf)
    path.write_bytes(b"".join(lines))
    return expected


def _csv_line(cells: list[str]) -> str:
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def test_gb18030_export_with_5_percent_corrupted_rows(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    expected = _export_with_corruptions(path, 0.05, seed=11)
    assert 300 < len(expected) < 470
    mapping = {"record_id": "就诊号", "patient_id": "患者ID", "hospital": "医院", "department": "科室",
               "visit_type": "就诊类型", "admission_date": "就诊日期", "chief_complaint": "主诉",
               "present_illness": "现病史"}
    spec = SourceSpec.from_dict({"name": "export", "kind": "csv", "path": str(path), "encoding": "gb18030",
                                 "mapping": mapping})
    kept, quarantined, read = [], [], 0
    for out in read_source(spec, CONTRACT, batch_rows=1500):
        kept.append(out.kept)
        quarantined.append(out.quarantined)
        read += out.rows_read
    q = pa.concat_tables(quarantined)
    got = {r["row"]: r["reason"] for r in q.to_pylist()}
    assert got == expected
    assert read == 7644 == sum(t.num_rows for t in kept) + q.num_rows
    for msg in q.column("message").to_pylist():
        assert msg.startswith("visits.csv row ") and "\n" not in msg
        assert "示例" not in msg and "V0" not in msg  # names file/row/field only, never a value
