"""Fast ingest checks written to kill surviving mutants (benchmarks/mutation.py): the date range's lower bound, the
exact CSV reader's batch sizes (the unit of memory, parallelism and resume), line ends, delimiters, empty files,
byte-order marks and long nested lines."""

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


def test_batch_rows_below_one_is_refused(tmp_path: Path) -> None:
    from cmedins.ingest import IngestError

    path = write_csv(tmp_path / "a.csv", [good_row(1)])
    with pytest.raises(IngestError, match="batch_rows must be at least 1"):
        read_all(csv_spec(path), batch_rows=0)
    assert read_all(csv_spec(path), batch_rows=1)[0].num_rows == 1


def test_a_csv_with_old_mac_line_ends_reads_every_row(tmp_path: Path) -> None:
    rows = [{**good_row(i), "present_illness": "胸痛3天。"} for i in range(1, 4)]  # no line break inside a cell
    path = write_csv(tmp_path / "m.csv", rows)
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))  # CR alone ends each line
    kept, q, _ = read_all(csv_spec(path))
    assert kept.num_rows == 3 and q.num_rows == 0
    assert kept.column("record_id").to_pylist() == ["R00001", "R00002", "R00003"]


def test_a_header_only_file_allowed_to_be_empty_still_has_its_columns_checked(tmp_path: Path) -> None:
    from cmedins.ingest import IngestError

    path = write_csv(tmp_path / "h.csv", [])
    kept, q, _ = read_all(csv_spec(path, allow_empty=True))
    assert kept.num_rows == 0 and q.num_rows == 0
    path.write_text("record_id,patient_id\n", encoding="utf-8")  # the contract's other columns are missing
    with pytest.raises(IngestError, match="hospital"):
        read_all(csv_spec(path, allow_empty=True))


@pytest.mark.parametrize("delimiter", [";;", ""])
def test_a_delimiter_must_be_one_character(delimiter: str) -> None:
    from cmedins.ingest import IngestError

    with pytest.raises(IngestError, match="delimiter must be one character"):
        csv_spec(Path("x.csv"), delimiter=delimiter)


def test_a_byte_order_mark_at_the_start_of_any_jsonl_line_is_dropped(tmp_path: Path) -> None:
    """Two exports joined with `cat` carry a BOM at the start of the second one's first line too."""
    import json

    from cmedins.ingest import SourceSpec

    rows = [good_row(1), good_row(2)]
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"".join(b"\xef\xbb\xbf" + json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows))
    kept, q, _ = read_all(SourceSpec.from_dict({"name": "j", "kind": "jsonl", "path": str(path)}))
    assert kept.column("record_id").to_pylist() == ["R00001", "R00002"] and q.num_rows == 0


def test_the_ingest_stage_checks_each_source_when_its_config_is_built() -> None:
    from cmedins.ingest import IngestError
    from cmedins.ingest.stage import IngestConfig

    config = IngestConfig(sources=[{"name": "a", "kind": "csv", "path": "x.csv", "delimiter": ";"}])
    assert [(s.name, s.delimiter) for s in config.specs()] == [("a", ";")]
    with pytest.raises(IngestError):
        IngestConfig(sources=[{"name": "a", "kind": "xls", "path": "x.xls"}])


def test_a_nested_value_on_a_line_longer_than_arrows_default_block_is_parsed() -> None:
    """Arrow's JSON reader refuses a line that straddles two blocks: the block must hold the longest line."""
    import json

    import pyarrow as pa

    from cmedins.ingest.nested import _parse_lines

    target = pa.list_(pa.string())
    line = json.dumps({"v": ["胸闷气短" * 50] * 8_000}, ensure_ascii=False)  # about 4.8 MB, over 4 MiB
    parsed = _parse_lines(pa.array([line, line, '{"v": ["a"]}']), target, 3)
    assert parsed is not None and len(parsed[1]) == 8_000 and parsed[2].as_py() == ["a"]


def test_an_empty_parquet_file_allowed_to_be_empty_still_reports_its_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from test_ingest import HEADER

    from cmedins.ingest import IngestError, SourceSpec

    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({h: pa.array([], pa.string()) for h in HEADER}), path)
    spec = {"name": "p", "kind": "parquet", "path": str(path), "allow_empty": True}
    kept, q, _ = read_all(SourceSpec.from_dict(spec))
    assert kept.num_rows == 0 and q.num_rows == 0
    pq.write_table(pa.table({"record_id": pa.array([], pa.string())}), path)
    with pytest.raises(IngestError, match="patient_id"):
        read_all(SourceSpec.from_dict(spec))
