"""Ingest: readers, mapping, contract checks and quarantine on small fixture files written into tmp_path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmedins.contracts import load_contract
from cmedins.ingest import IngestError, SourceSpec, read_source, source_files

CONTRACT = load_contract("record")
SECRET_TEXT = "张三丰住北京市海淀区"  # a stand-in for patient text: must never appear in a message

HEADER = [
    "record_id", "patient_id", "hospital", "department", "visit_type", "admission_date", "discharge_date",
    "patient_name", "chief_complaint", "present_illness", "labs", "diagnoses",
]


def good_row(i: int) -> dict[str, str]:
    return {
        "record_id": f"R{i:05d}",
        "patient_id": f"P{i % 7}",
        "hospital": "第一医院",
        "department": "心血管内科",
        "visit_type": "住院",
        "admission_date": "2023-03-01",
        "discharge_date": "2023/03/09",
        "patient_name": SECRET_TEXT,
        "chief_complaint": f"反复胸痛{i}天，{SECRET_TEXT}",
        "present_illness": "患者于3天前出现胸痛，\n伴气促。",
        "labs": json.dumps([{"item": "血红蛋白", "value": "98", "unit": "g/L", "reference_range": "130-175",
                             "flag": "L"}], ensure_ascii=False),
        "diagnoses": json.dumps([{"text": "高血压", "icd10_code": "I10", "icd10_name": "原发性高血压",
                                  "primary": True}], ensure_ascii=False),
    }


def write_csv(path: Path, rows: list[dict[str, str] | list[str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for r in rows:
            w.writerow([r.get(h, "") for h in HEADER] if isinstance(r, dict) else r)
    return path


def read_all(spec: SourceSpec, batch_rows: int = 1000) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    kept, quarantined, stats = [], [], {}
    for out in read_source(spec, CONTRACT, batch_rows=batch_rows):
        assert out.kept.schema.equals(CONTRACT.schema, check_metadata=True)
        kept.append(out.kept)
        quarantined.append(out.quarantined)
        for k, v in out.stats.items():
            stats[k] = stats.get(k, 0) + v
        assert out.kept.num_rows + out.quarantined.num_rows == out.rows_read
        stats["rows_read"] = stats.get("rows_read", 0) + out.rows_read
    q_schema = load_contract("quarantine").schema
    return (pa.concat_tables([CONTRACT.schema.empty_table(), *kept]),
            pa.concat_tables([q_schema.empty_table(), *quarantined]), stats)


def csv_spec(path: Path, **kw) -> SourceSpec:
    return SourceSpec.from_dict({"name": "t", "kind": "csv", "path": str(path), **kw})


def reasons(q: pa.Table) -> dict[int, tuple[str, str | None]]:
    return {r["row"]: (r["reason"], r["field"]) for r in q.to_pylist()}


def assert_no_raw_text(q: pa.Table) -> None:
    for msg in q.column("message").to_pylist():
        assert "\n" not in msg
        assert "张三" not in msg and "胸痛" not in msg and "海淀" not in msg


# ------------------------------------------------------------------------------------------------------ spec
def test_spec_validation_is_one_line() -> None:
    with pytest.raises(IngestError, match="kind must be one of"):
        SourceSpec.from_dict({"name": "x", "kind": "xlsx", "path": "a"})
    with pytest.raises(IngestError, match="needs a `query`"):
        SourceSpec.from_dict({"name": "x", "kind": "duckdb"})
    with pytest.raises(IngestError, match="unknown option"):
        SourceSpec.from_dict({"name": "x", "kind": "csv", "path": "a", "sep": ";"})
    with pytest.raises(IngestError, match="encoding"):
        SourceSpec.from_dict({"name": "x", "kind": "csv", "path": "a", "encoding": "latin-1"})
    assert SourceSpec.from_dict({"name": "x", "kind": "csv", "path": "a", "encoding": "GBK"}).encoding == "gb18030"


def test_missing_file_and_glob(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"^ingest: cannot read .*nope\.csv: no such file$"):
        list(read_source(csv_spec(tmp_path / "nope.csv"), CONTRACT))
    with pytest.raises(IngestError, match="no file matches"):
        source_files(csv_spec(tmp_path / "*.csv"))
    write_csv(tmp_path / "b.csv", [good_row(2)])
    write_csv(tmp_path / "a.csv", [good_row(1)])
    assert [p.name for p in source_files(csv_spec(tmp_path / "*.csv"))] == ["a.csv", "b.csv"]


# ------------------------------------------------------------------------------------------------------- csv
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_clean_csv_is_kept_exactly(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "v.csv", [good_row(i) for i in range(25)], encoding)
    kept, q, stats = read_all(csv_spec(path, encoding=encoding), batch_rows=10)
    assert q.num_rows == 0 and kept.num_rows == 25 == stats["rows_read"]
    first = kept.slice(0, 1).to_pylist()[0]
    assert first["chief_complaint"].startswith("反复胸痛0天")
    assert str(first["discharge_date"]) == "2023-03-09"
    assert first["present_illness"] == "患者于3天前出现胸痛，\n伴气促。"
    assert first["labs"][0]["unit"] == "g/L" and first["diagnoses"][0]["primary"] is True
    assert first["visit_type"] == "住院" and first["patient_sex"] is None


def test_each_contract_break_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    rows: list[dict | list] = [good_row(i) for i in range(1, 13)]
    rows[1]["admission_date"] = "2023-02-30"  # row 2
    rows[2]["record_id"] = rows[0]["record_id"]  # row 3
    rows[3]["discharge_date"] = "2023-02-01"  # row 4: before admission
    rows[4]["visit_type"] = "病房"  # row 5
    rows[5]["chief_complaint"] = "  "  # row 6
    rows[6]["labs"] = '[{"item": "血红蛋白", "value": ' + json.dumps(SECRET_TEXT, ensure_ascii=False)  # row 7
    rows[7] = list(rows[7].values())[:-1]  # row 8: a column short
    rows[8]["chief_complaint"] = "痛" * 2001  # row 9
    rows[9]["diagnoses"] = '[{"text": "x", "primary": "是的"}]'  # row 10: bool field given as text
    rows[10]["hospital"] = "\u3000\ufeff"  # row 11: only full-width space / BOM
    kept, q, stats = read_all(csv_spec(write_csv(tmp_path / "r.csv", rows)), batch_rows=4)
    assert reasons(q) == {
        2: ("bad_date", "admission_date"),
        3: ("duplicate_key", "record_id"),
        4: ("date_order", "discharge_date"),
        5: ("bad_enum", "visit_type"),
        6: ("missing_required", "chief_complaint"),
        7: ("wrong_type", "labs"),
        8: ("bad_columns", None),
        9: ("oversized_text", "chief_complaint"),
        10: ("wrong_type", "diagnoses"),
        11: ("missing_required", "hospital"),
    }
    assert kept.column("record_id").to_pylist() == ["R00001", "R00012"]
    assert stats["rows_read"] == 12
    assert_no_raw_text(q)
    assert q.to_pylist()[0]["message"] == "r.csv row 2, field admission_date: not a date " \
        "(YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, YYYY年M月D日 or YYYY.MM.DD)"
    assert SECRET_TEXT in q.to_pylist()[0]["payload"]  # the payload keeps the raw row (work directory only)


def test_broken_gb18030_bytes_cost_exactly_their_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gb.csv", [good_row(i) for i in range(1, 31)], "gb18030")
    data = path.read_bytes()
    lines = data.split(b"\n")
    # data rows 5 and 17 start after the header line and the embedded newline of each previous row (2 lines each)
    for row in (5, 17):
        line = 1 + (row - 1) * 2
        assert lines[line].startswith(f"R{row:05d}".encode())
        lines[line] = lines[line].replace("反复".encode("gb18030"), b"\x81\x20\xff", 1)
    path.write_bytes(b"\n".join(lines))
    kept, q, _ = read_all(csv_spec(path, encoding="gb18030"), batch_rows=8)
    assert reasons(q) == {5: ("bad_encoding", "chief_complaint"), 17: ("bad_encoding", "chief_complaint")}
    assert kept.num_rows == 28
    payload = json.loads(q.to_pylist()[0]["payload"])
    assert "\\x81" in payload["chief_complaint"]  # bad bytes are escaped, the payload stays valid UTF-8
    # The same file read as UTF-8 is refused row by row, not as a whole.
    kept, q, _ = read_all(csv_spec(path), batch_rows=8)
    assert kept.num_rows == 0 and set(r for r, _ in reasons(q).values()) == {"bad_encoding"}


def test_bom_fullwidth_spaces_and_whitespace(tmp_path: Path) -> None:
    row = good_row(1)
    row.update(record_id=" R1 ", department="\u3000心血管内科 ", visit_type=" 门诊", chief_complaint="\u3000胸痛 ")
    path = tmp_path / "bom.csv"
    write_csv(path, [row])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    kept, q, _ = read_all(csv_spec(path))
    assert q.num_rows == 0
    r = kept.to_pylist()[0]
    assert (r["record_id"], r["department"], r["visit_type"]) == ("R1", "心血管内科", "门诊")
    assert r["chief_complaint"] == "胸痛 "  # text keeps its own trailing spaces, loses the leading full-width one


def test_date_spellings(tmp_path: Path) -> None:
    spellings = ["2023-03-01", "2023/3/1", "20230301", "2023年3月1日", "2023.03.01", "2023-03-01 08:30:00"]
    rows = []
    for i, s in enumerate(spellings):
        r = good_row(i)
        r.update(admission_date=s, discharge_date="")
        rows.append(r)
    kept, q, _ = read_all(csv_spec(write_csv(tmp_path / "d.csv", rows)))
    assert q.num_rows == 0
    assert {str(d) for d in kept.column("admission_date").to_pylist()} == {"2023-03-01"}


def test_unterminated_quote_fails_the_file_in_one_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "q.csv", [good_row(1)])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('R2,P2,第一医院,心内科,门诊,2023-01-01,,"张三,胸痛,,,\nR3,P3,x,y,门诊,2023-01-01,,,胸痛,,,\n')
    with pytest.raises(IngestError) as err:
        list(read_source(csv_spec(path), CONTRACT))
    assert str(err.value) == f"ingest: cannot read {path}: not valid CSV (line 4: unterminated quote)"


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    """An empty export is usually a failed export: an error naming the file, unless the source allows it."""
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    header_only = write_csv(tmp_path / "h.csv", [])
    for path in (empty, header_only):
        with pytest.raises(IngestError, match=rf"cannot read .*{path.name}: has no data rows .*allow_empty: true"):
            read_all(csv_spec(path))
        kept, q, _ = read_all(csv_spec(path, allow_empty=True))
        assert kept.num_rows == 0 and q.num_rows == 0
    wrong_header = tmp_path / "w.csv"
    wrong_header.write_text("id,name\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no column for required field record_id"):
        list(read_source(csv_spec(wrong_header), CONTRACT))


def test_mapping_renames_columns_and_reports_ignored_ones(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    with open(path, "w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["就诊号", "患者ID", "医院", "科室", "就诊类型", "入院日期", "主诉", "备注"])
        w.writerow(["V1", "P1", "一院", "神经内科", "急诊", "2024年1月2日", "头痛2天", "无"])
    mapping = {"record_id": "就诊号", "patient_id": "患者ID", "hospital": "医院", "department": "科室",
               "visit_type": "就诊类型", "admission_date": "入院日期", "chief_complaint": "主诉"}
    spec = csv_spec(path, encoding="gb18030", delimiter=";", mapping=mapping)
    kept, q, stats = read_all(spec)
    assert q.num_rows == 0 and kept.column("department").to_pylist() == ["神经内科"]
    assert stats["ignored_column:备注"] == 1
    with pytest.raises(IngestError, match="no column '住院号'"):
        list(read_source(csv_spec(path, encoding="gb18030", delimiter=";",
                                  mapping={**mapping, "record_id": "住院号"}), CONTRACT))


# ------------------------------------------------------------------------------------- jsonl, parquet, duckdb
def test_jsonl_rows_and_line_numbers(tmp_path: Path) -> None:
    objs = [good_row(i) for i in range(1, 6)]
    for o in objs:
        o["labs"] = json.loads(o["labs"])  # native JSON lists in JSONL
    objs[1]["chief_complaint"] = {"nested": SECRET_TEXT}
    lines = [json.dumps(o, ensure_ascii=False).encode() for o in objs]
    lines.insert(2, b"")  # blank line 3
    lines[4] = lines[4][:-5]  # line 5 (objs[3]) is cut short
    lines.append("{\"record_id\": \"坏\"}".encode("gb18030"))  # line 7: not UTF-8, in record_id
    path = tmp_path / "v.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    kept, q, stats = read_all(SourceSpec.from_dict({"name": "j", "kind": "jsonl", "path": str(path)}))
    assert reasons(q) == {2: ("wrong_type", "chief_complaint"), 5: ("bad_json", None),
                          7: ("bad_encoding", "record_id")}
    assert kept.column("record_id").to_pylist() == ["R00001", "R00003", "R00005"]
    assert stats["rows_read"] == 6
    assert_no_raw_text(q)


def _typed_table(n: int) -> pa.Table:
    rows = [good_row(i) for i in range(n)]
    for r in rows:
        r["labs"] = json.loads(r["labs"])
        r["diagnoses"] = json.loads(r["diagnoses"])
    return pa.Table.from_pylist(rows)


def test_parquet_typed_and_json_columns(tmp_path: Path) -> None:
    table = _typed_table(30)
    pq.write_table(table, tmp_path / "typed.parquet")
    as_text = pa.Table.from_pylist([good_row(i) for i in range(30, 40)])
    pq.write_table(as_text, tmp_path / "text.parquet")
    spec = SourceSpec.from_dict({"name": "p", "kind": "parquet", "path": str(tmp_path / "*.parquet")})
    kept, q, stats = read_all(spec, batch_rows=7)
    assert q.num_rows == 0 and kept.num_rows == 40 == stats["rows_read"]
    assert kept.column("labs").to_pylist()[0][0]["item"] == "血红蛋白"
    # the same ids again in a second file are duplicates of the first file's rows
    pq.write_table(table.slice(0, 2), tmp_path / "zz_dup.parquet")
    kept, q, _ = read_all(spec)
    assert q.column("reason").to_pylist() == ["duplicate_key"] * 2
    assert q.column("message").to_pylist()[0] == "zz_dup.parquet row 1, field record_id: " \
        "record_id already read at typed.parquet row 1"


def test_unreadable_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(IngestError, match=r"^ingest: cannot read .*bad\.parquet: not a readable Parquet file"):
        list(read_source(SourceSpec.from_dict({"name": "p", "kind": "parquet", "path": str(path)}), CONTRACT))


def test_duckdb_query_source(tmp_path: Path) -> None:
    pq.write_table(_typed_table(12), tmp_path / "v.parquet")
    query = (f"SELECT record_id AS visit, * EXCLUDE (record_id) FROM read_parquet('{tmp_path}/v.parquet') "
             "ORDER BY visit")
    spec = SourceSpec.from_dict({"name": "q", "kind": "duckdb", "query": query, "mapping": {"record_id": "visit"}})
    assert source_files(spec) == [tmp_path / "v.parquet"]
    kept, q, _ = read_all(spec, batch_rows=5)
    assert kept.num_rows == 12 and q.num_rows == 0
    bad = SourceSpec.from_dict({"name": "q", "kind": "duckdb", "query": f"SELECT CAST('{SECRET_TEXT}' AS INT)"})
    with pytest.raises(IngestError) as err:
        list(read_source(bad, CONTRACT))
    assert "query failed" in str(err.value) and SECRET_TEXT not in str(err.value)


def test_same_input_same_output(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(50)]
    rows[10]["admission_date"] = "bad"
    path = write_csv(tmp_path / "s.csv", rows, "gb18030")
    a, qa, _ = read_all(csv_spec(path, encoding="gb18030"), batch_rows=9)
    b, qb, _ = read_all(csv_spec(path, encoding="gb18030"), batch_rows=9)
    assert a.equals(b) and qa.equals(qb)


# ------------------------------------------------------------------------- CSV fast path (DuckDB) and resume
def _spy_python_reader(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from cmedins.ingest import csv_reader as readers

    calls: list[int] = []
    original = readers._python_csv

    def spy(path, encoding, delimiter, batch_rows, skip):  # type: ignore[no-untyped-def]
        calls.append(skip)
        return original(path, encoding, delimiter, batch_rows, skip)

    monkeypatch.setattr(readers, "_python_csv", spy)
    return calls


def test_clean_utf8_csv_takes_the_duckdb_path_and_matches_the_exact_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmedins.ingest import csv_reader as readers

    rows = [good_row(i) for i in range(40)]
    rows[3]["chief_complaint"] = ""  # a quarantined row too
    path = write_csv(tmp_path / "c.csv", rows)
    calls = _spy_python_reader(monkeypatch)
    fast, fast_q, _ = read_all(csv_spec(path), batch_rows=9)
    assert calls == [] and fast.num_rows == 39
    monkeypatch.setattr(readers, "_fast_path_safe", lambda path: False)  # force the exact reader
    exact, exact_q, _ = read_all(csv_spec(path), batch_rows=9)
    assert calls == [0]
    assert fast.equals(exact) and fast_q.equals(exact_q)


def test_exact_reader_resumes_where_duckdb_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[dict | list] = [good_row(i) for i in range(1, 61)]
    rows[44] = list(rows[44].values()) + ["extra"]  # row 45: one column too many
    path = write_csv(tmp_path / "late.csv", rows)
    calls = _spy_python_reader(monkeypatch)
    kept, q, stats = read_all(csv_spec(path), batch_rows=10)
    assert len(calls) == 1 and calls[0] % 10 == 0 and calls[0] < 45  # resumed at a batch boundary before row 45
    assert reasons(q) == {45: ("bad_columns", None)}
    assert kept.column("record_id").to_pylist() == [f"R{i:05d}" for i in range(1, 61) if i != 45]
    assert stats["rows_read"] == 60


def test_odd_quotes_skip_duckdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = good_row(1)
    row["present_illness"] = "x"
    path = tmp_path / "oq.csv"
    write_csv(path, [row])
    path.write_bytes(path.read_bytes().replace(b",x,", b',x"y,'))  # a quote inside an unquoted cell is kept as is
    calls = _spy_python_reader(monkeypatch)
    kept, q, _ = read_all(csv_spec(path))
    assert calls == [0] and q.num_rows == 0 and kept.column("present_illness").to_pylist() == ['x"y']


def test_bulk_json_parsing_agrees_with_the_reference_path() -> None:
    import random

    from cmedins.ingest.nested import _from_json_text, _from_python

    rng = random.Random(3)
    good = ['[{"item":"血红蛋白","value":"98","unit":"g/L"}]', "[]", " [ ] ", '[{"item":"a","extra":{"x":[1]}}]',
            '\ufeff[{"flag":"H"}]', "", None, "[null]", '[{"item":"多行\\n转义"}]',
            '[{"item":\n"a"}]']
    bad = ['[{"item":"a","value":98}]', '{"item":"a"}', "123", '"abc"', "见化验单", '[{"item":"a"',
           '[{"item":"a"}]\n[{"item":"b"}]', '[1]}{"v":[2]', '[{"item":"a"}] x']
    cells = [rng.choice(bad) if rng.random() < 0.05 else rng.choice(good) for _ in range(3000)]
    spec = CONTRACT.field("labs")
    fast, fast_bad = _from_json_text(pa.array(cells, pa.string()), spec.arrow_type)
    ref, ref_bad = _from_python(cells, spec.arrow_type)
    assert fast_bad == ref_bad and len(ref_bad) > 50
    assert fast.equals(ref)


@pytest.mark.parametrize(("header", "what"), [
    (b"record_id,record_id,hospital\n", "the header row has empty or repeated column names"),
    (b"record_id,\xff\xfe,hospital\n", "the header row is not valid UTF-8"),
])
def test_bad_headers_fail_the_file(tmp_path: Path, header: bytes, what: str) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(header + b"R1,x,y\n")
    with pytest.raises(IngestError) as err:
        list(read_source(csv_spec(path), CONTRACT))
    assert str(err.value) == f"ingest: cannot read {path}: {what}"


def test_jsonl_values_must_have_the_contract_json_type(tmp_path: Path) -> None:
    objs = [good_row(i) for i in range(1, 5)]
    objs[0]["admission_date"] = 20230301  # a number, not a date string
    objs[1]["chief_complaint"] = 12345
    objs[2]["labs"] = "见化验单"  # a string that is not JSON
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs), encoding="utf-8")
    kept, q, _ = read_all(SourceSpec.from_dict({"name": "j", "kind": "jsonl", "path": str(path)}))
    assert reasons(q) == {1: ("wrong_type", "admission_date"), 2: ("wrong_type", "chief_complaint"),
                          3: ("wrong_type", "labs")}
    assert kept.column("labs").to_pylist()[0][0]["item"] == "血红蛋白"  # JSON text in a JSONL string is parsed


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_output_does_not_depend_on_batch_size(tmp_path: Path, encoding: str) -> None:
    rows = [good_row(i % 45) for i in range(60)]  # 15 duplicates
    rows[7]["admission_date"] = "2023-13-01"
    path = write_csv(tmp_path / "b.csv", rows, encoding)
    results = [read_all(csv_spec(path, encoding=encoding), batch_rows=n) for n in (1, 7, 1000)]
    for kept, q, stats in results[1:]:
        assert kept.equals(results[0][0]) and q.equals(results[0][1]) and stats == results[0][2]
    # 1 bad date + 14 duplicates: the later R00007 is kept, because the first one was quarantined
    assert results[0][1].num_rows == 15
