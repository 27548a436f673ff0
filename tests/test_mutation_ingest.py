"""Fast ingest checks written to kill surviving mutants (benchmarks/mutation.py): the date range's lower bound and
the exact CSV reader's batch sizes (the unit of memory, parallelism and resume)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ingest import csv_spec, good_row, read_all, reasons, write_csv

from cmedins.ingest.csv_reader import read_csv


def test_the_first_allowed_date_is_kept_and_the_day_before_is_not(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(1, 4)]
    rows[0]["admission_date"] = "1900-01-01"
    rows[1]["admission_date"] = "1899-12-31"
    kept, q, _ = read_all(csv_spec(write_csv(tmp_path / "d.csv", rows)))
    assert reasons(q) == {2: ("date_out_of_range", "admission_date")}
    assert kept.num_rows == 2


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_csv_batches_hold_exactly_batch_rows(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "b.csv", [good_row(i) for i in range(1, 8)], encoding)
    batches = list(read_csv(path, encoding, ",", 3))
    assert [len(b.rows) for b in batches] == [3, 3, 1]
    assert [r for b in batches for r in b.rows] == list(range(1, 8))


def test_a_header_with_two_other_delimiters_names_the_delimiter(tmp_path: Path) -> None:
    from cmedins.ingest import IngestError
    from cmedins.ingest.file_checks import check_file

    path = tmp_path / "s.csv"
    path.write_text("record_id;patient_id;hospital\nR1;P1;H\n", encoding="utf-8")
    with pytest.raises(IngestError, match="2 × ';'.*delimiter: \";\""):
        check_file(path, csv_spec(path))
    path.write_text("record_id;patient_id,hospital\nR1;P1,H\n", encoding="utf-8")
    check_file(path, csv_spec(path))  # one ';' is not evidence of another delimiter


def test_rechunk_cuts_exact_batches_across_reader_batches() -> None:
    import pyarrow as pa

    from cmedins.ingest.duckdb_reader import rechunk

    schema = pa.schema([("x", pa.int64())])
    batches = [pa.record_batch([pa.array(range(i * 300, (i + 1) * 300))], schema=schema) for i in range(3)]
    out = list(rechunk(pa.RecordBatchReader.from_batches(schema, batches), 400))
    assert [t.num_rows for t in out] == [400, 400, 100]
    assert pa.concat_tables(out).column("x").to_pylist() == list(range(900))


def test_every_full_width_digit_and_letter_becomes_ascii() -> None:
    """Full-width digits and letters (ＡＢ１２３４５６, as some exports write ID numbers and passports) fold to
    ASCII, all of them: a missed letter would hide an identifier from the detectors and a duplicate from dedup."""
    from collections import Counter

    from cmedins.ingest.normalize import normalize_text

    ascii_ = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    wide = "".join(chr(ord(c) + 0xFEE0) for c in ascii_)
    counts: Counter = Counter()
    assert normalize_text(f"护照{wide}号", counts) == f"护照{ascii_}号"
    assert counts["width"] == 1


def test_rejected_rows_count_towards_the_batch_size(tmp_path: Path) -> None:
    rows: list = [good_row(i) for i in range(1, 8)]
    rows[1] = ["R-short", "P1"]  # row 2: wrong column count, rejected by the reader
    path = write_csv(tmp_path / "r.csv", rows, "gb18030")
    batches = list(read_csv(path, "gb18030", ",", 3))
    assert [b.rows for b in batches] == [[1, 3], [4, 5, 6], [7]]
    assert [len(b.rejects) for b in batches] == [1, 0, 0]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_a_cell_longer_than_the_csv_modules_default_limit_is_read(tmp_path: Path, encoding: str) -> None:
    """Python's csv module refuses fields over 128 KiB by default; a long note must reach the size check at
    coercion, not fail the file."""
    long_row = {**good_row(1), "present_illness": "胸闷" * 100_000}  # 200,000 characters
    path = write_csv(tmp_path / "r.csv", [long_row, good_row(2)], encoding)
    batches = list(read_csv(path, encoding, ",", 10))
    assert [b.rows for b in batches] == [[1, 2]] and batches[0].rejects == []
