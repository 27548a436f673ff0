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


# -- seed-6 survivors (2026-11-30) ---------------------------------------------------------------------------------


def test_scalar_fields_of_a_contract_are_coerced_from_text() -> None:
    """Kills coerce.py `spec.type == "bool"` -> `> "bool"` and `if_else(is_true, True, ...)` -> `False`: a source
    read against a contract with bool / int32 fields (record.v1 has none at the top level) gets true/false from
    the accepted spellings and integers from digits; anything else is a wrong type."""
    import pyarrow as pa

    from cmedins.contracts import Contract, FieldSpec
    from cmedins.ingest.coerce import coerce_batch
    from cmedins.ingest.mapping import ColumnMap

    contract = Contract("probe", 1, (FieldSpec("flag", "bool"), FieldSpec("n", "int32")))
    columns = {"flag": pa.array(["yes", "否", "maybe", None, " TRUE "]), "n": pa.array(["12", "3", "x", None, "-7"])}
    arrays, fails = coerce_batch(columns, 5, ColumnMap({"flag": "flag", "n": "n"}, ()), contract)
    assert [a.to_pylist() for a in arrays] == [[True, False, None, None, True], [12, 3, None, None, -7]]
    assert fails.first.tolist() == [-1, -1, 0, -1, -1] and fails.kinds == [("wrong_type", "flag", "not a bool value")]


def test_a_reject_and_a_row_fill_a_batch_of_two(tmp_path: Path) -> None:
    """Kills csv_reader.py `len(good) + len(rejects) >= batch_rows` -> `^`: a batch of the exact reader holds
    `batch_rows` rows read, kept and rejected together (1 ^ 1 is 0, not 2)."""
    rows: list = [good_row(i) for i in range(1, 6)]
    rows[1] = ["R-short", "P1"]  # row 2: wrong column count
    path = write_csv(tmp_path / "r.csv", rows, "gb18030")
    batches = list(read_csv(path, "gb18030", ",", 2))
    assert [b.rows for b in batches] == [[1], [3, 4], [5]]
    assert [len(b.rejects) for b in batches] == [1, 0, 0]


def test_a_large_crlf_file_takes_the_fast_path(tmp_path: Path) -> None:
    """Kills csv_reader.py `crs == crlfs` -> `crs is crlfs`: equal counts above 256 are different int objects,
    and a CRLF file of a few hundred lines must still go to DuckDB, not to the slow exact reader."""
    from cmedins.ingest.csv_reader import _fast_path_safe

    path = write_csv(tmp_path / "w.csv", [good_row(i) for i in range(1, 301)])  # csv.writer ends lines with CRLF
    assert path.read_bytes().count(b"\r\n") > 300
    assert _fast_path_safe(path)
    path.write_bytes(path.read_bytes() + b"x\ry\r\n")
    assert not _fast_path_safe(path)  # a lone CR: the exact reader


def test_a_crlf_split_between_two_16_mib_reads_is_one_line_end(tmp_path: Path) -> None:
    """Kills csv_reader.py `last == b"\\r"` -> `last < b"\\r"` in `_fast_path_safe` (which reads 16 MiB at a time):
    a CR ending one read and an LF starting the next are one CRLF; an LF ending one read and an LF starting the
    next are no CR at all."""
    from cmedins.ingest.csv_reader import _fast_path_safe

    path = tmp_path / "big.csv"
    body = b"a" * ((1 << 24) - 1)
    path.write_bytes(body + b"\r\nb\r\n")
    assert _fast_path_safe(path)
    path.write_bytes(body + b"\n\nb\n")
    assert _fast_path_safe(path)


def test_quoted_line_breaks_stay_on_the_fast_path_from_three_columns() -> None:
    """Kills csv_reader.py `ncols < 3` -> `ncols == 3` in `_may_hold_swallowed_rows`: with three or more columns
    only a line break followed by a whole row's worth of delimiters sends the file to the exact reader; with
    fewer columns (too few delimiters to tell) any line break does."""
    import pyarrow as pa

    from cmedins.ingest.csv_reader import _may_hold_swallowed_rows
    from cmedins.ingest.raw import RawBatch

    def batch(*cells: str) -> RawBatch:
        return RawBatch("s", [1], {f"c{i}": pa.array([c]) for i, c in enumerate(cells)}, lambda i: "{}")

    assert not _may_hold_swallowed_rows(batch("胸痛\n3天", "b", "c"), ",")
    assert _may_hold_swallowed_rows(batch("胸痛\nR2,P2,H", "b", "c"), ",")
    assert _may_hold_swallowed_rows(batch("胸痛\n3天", "b"), ",")
    assert _may_hold_swallowed_rows(batch("胸痛\n3天"), ",")
    assert not _may_hold_swallowed_rows(batch("胸痛3天", "b"), ",")


def test_a_duckdb_error_is_cut_at_200_characters() -> None:
    """Kills duckdb_reader.py `[:200]` -> `[:201]`: the error's first line, quoted literals blanked, at most 200
    characters."""
    from cmedins.ingest.duckdb_reader import _duckdb_error

    assert _duckdb_error(ValueError("x" * 300 + "\nsecond line")) == "x" * 200
    assert _duckdb_error(ValueError("Could not convert '张三' to INT32")) == "Could not convert '…' to INT32"
    assert _duckdb_error(ValueError("")) == "ValueError"


def test_the_complete_last_line_of_a_short_file_is_evidence_of_its_encoding(tmp_path: Path) -> None:
    """Kills file_checks.py `len(head) == _SAMPLE` -> `<=`: only a sample cut at _SAMPLE bytes may end in half a
    line; a shorter file's last line (no final newline) is whole and counts towards the three lines needed."""
    from cmedins.ingest import IngestError
    from cmedins.ingest.file_checks import check_file

    path = tmp_path / "g.csv"
    path.write_bytes("record_id,hospital\nR1,第一医院\nR2,第二医院\nR3,第三医院".encode("gb18030"))
    with pytest.raises(IngestError, match="not UTF-8: it reads as GB18030"):
        check_file(path, csv_spec(path))


def test_a_source_read_from_yaml_gets_the_csv_checks(tmp_path: Path) -> None:
    """Kills file_checks.py `spec.kind == "csv"` -> `is`: a recipe's kind comes from YAML, a string equal to but
    not the same object as the literal "csv", and its header must still be checked for the delimiter."""
    import yaml

    from cmedins.ingest import IngestError, SourceSpec
    from cmedins.ingest.file_checks import check_file

    path = tmp_path / "s.csv"
    path.write_text("record_id;patient_id;hospital\nR1;P1;H\n", encoding="utf-8")
    spec = SourceSpec.from_dict(yaml.safe_load(f"name: s\nkind: csv\npath: {path}\n"))
    with pytest.raises(IngestError, match="delimiter: \";\""):
        check_file(path, spec)


# -- seed-7 survivors (2026-12-01) ---------------------------------------------------------------------------------


def test_json_numbers_and_booleans_fill_the_fields_of_their_own_type() -> None:
    """Kills coerce.py `isinstance(v, bool) and bool not in accept` -> `or` and the spelled-out value
    (`"true"/"false" if isinstance(v, bool) else repr(v)` -> `if not isinstance`): in a JSONL source a JSON number
    fills an int field and a JSON boolean a bool field, whatever else the column holds; a boolean is no number, a
    number no boolean."""
    from cmedins.contracts import Contract, FieldSpec
    from cmedins.ingest.coerce import coerce_batch
    from cmedins.ingest.mapping import ColumnMap

    contract = Contract("probe", 1, (FieldSpec("flag", "bool"), FieldSpec("n", "int32")))
    columns = {"flag": [True, "no", False, 3, None], "n": [12, "3", True, 1.5, 0]}  # JSONL columns: Python lists
    arrays, fails = coerce_batch(columns, 5, ColumnMap({"flag": "flag", "n": "n"}, ()), contract)
    assert [a.to_pylist() for a in arrays] == [[True, False, False, None, None], [12, 3, None, None, 0]]
    assert fails.first.tolist() == [-1, -1, 1, 0, -1]
    assert sorted(fails.kinds) == [("wrong_type", "flag", "not a bool value"), ("wrong_type", "n", "not a int32 value")]


def test_crlfs_after_one_split_between_two_16_mib_reads_are_each_counted_once(tmp_path: Path) -> None:
    """Kills csv_reader.py `chunk.count(b"\\r\\n") + (split CRLF)` -> `<<` in `_fast_path_safe`: the CRLF split
    between two reads adds one to the CRLFs of the second read (0 or 2 of them here, where doubling is wrong)."""
    from cmedins.ingest.csv_reader import _fast_path_safe

    path = tmp_path / "big.csv"
    body = b"a" * ((1 << 24) - 1)
    for tail in (b"\r\nb", b"\r\nb\r\nc\r\n"):
        path.write_bytes(body + tail)
        assert _fast_path_safe(path), tail
    path.write_bytes(body + b"\r\nb\rc\r\n")
    assert not _fast_path_safe(path)  # a lone CR after the split one


def test_a_jsonl_file_that_cannot_be_opened_is_one_ingest_error(tmp_path: Path) -> None:
    """Kills jsonl_reader.py `except OSError` -> another exception: a missing or unreadable JSONL file ends the
    read with the standard `ingest: cannot read <file>: ...` line, not a Python traceback."""
    from cmedins.ingest import IngestError
    from cmedins.ingest.jsonl_reader import read_jsonl

    with pytest.raises(IngestError, match="cannot read .*missing.jsonl"):
        list(read_jsonl(tmp_path / "missing.jsonl", 10))


def test_a_nested_json_cell_with_blanks_at_either_end_is_read(tmp_path: Path) -> None:
    """Kills nested.py `value[-1] in _BLANK` -> `value[~1]` in `_decode`: a JSON list cell is trimmed when it starts
    or ends with a blank (a space, an ideographic space, a line break), so `["a"] ` is the list, not a bad row."""
    from cmedins.contracts import FieldSpec
    from cmedins.ingest.nested import coerce_list_column

    spec = FieldSpec("tags", "list<string>")
    values = ['["a"] ', '["b"]\u3000', ' ["c"]', '["d"]\n', '["e"]', "x", "  ", None]
    arr, bad = coerce_list_column(values, spec)
    assert arr.to_pylist() == [["a"], ["b"], ["c"], ["d"], ["e"], None, None, None]
    assert bad == [5]
