"""Hostile exports: every family of bad input a hospital export brings is repaired (and counted), quarantined with a
reason, or refused with one line naming the file; never a crash, a silent loss or a silent corruption."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_ingest import CONTRACT, HEADER, assert_no_raw_text, csv_spec, good_row, read_all, reasons, write_csv

from cmedins.ingest import IngestError, SourceSpec


def jsonl_spec(path: Path, **kw) -> SourceSpec:
    return SourceSpec.from_dict({"name": "t", "kind": "jsonl", "path": str(path), **kw})


def _json_row(i: int) -> dict:
    row = good_row(i)
    row["labs"], row["diagnoses"] = json.loads(row["labs"]), json.loads(row["diagnoses"])
    return row


# ------------------------------------------------------------------------------------------------ crashes
def test_escaped_lone_surrogates_in_jsonl_are_repaired_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    lines = [json.dumps(_json_row(i), ensure_ascii=False) for i in range(3)]
    lines[0] = lines[0].replace("反复胸痛", "反复\\ud83d胸痛")  # top-level string
    lines[1] = lines[1].replace('"高血压"', '"高血压\\udc00"')  # nested field
    lines[2] = lines[2].replace("反复胸痛", "反复\\ud83d\\ude00胸痛")  # a proper pair: one emoji, nothing to repair
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept, q, stats = read_all(jsonl_spec(path))
    assert q.num_rows == 0 and kept.num_rows == 3
    rows = kept.to_pylist()
    assert rows[0]["chief_complaint"].startswith("反复\ufffd胸痛")
    assert rows[1]["diagnoses"][0]["text"] == "高血压\ufffd"
    assert rows[2]["chief_complaint"].startswith("反复\U0001f600胸痛")
    assert stats["normalised:surrogate"] == 2


# -------------------------------------------------------------------------------------- CSV structure
def test_a_stray_quote_pair_never_merges_rows_silently(tmp_path: Path) -> None:
    """One quote opens a cell in row 2, another closes a cell in row 4: the rows between are not swallowed into one
    field; every physical line is accounted for (read 5 = kept 2 + quarantined 3)."""
    rows = [{**good_row(i), "present_illness": "胸痛三天，伴气促。", "labs": "", "diagnoses": ""} for i in range(5)]
    path = write_csv(tmp_path / "q.csv", rows)
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[2] = lines[2].replace("第一医院", '"第一医院', 1)  # data row 2 (line 3)
    lines[4] = lines[4].replace("第一医院", '第一医院"', 1)  # data row 4 (line 5)
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    kept, q, stats = read_all(csv_spec(path))
    assert stats["rows_read"] == 5 and kept.num_rows + q.num_rows == 5
    assert kept.column("record_id").to_pylist() == ["R00000", "R00004"]
    assert {r["reason"] for r in q.to_pylist()} == {"csv_structure"}
    assert sorted(reasons(q)) == [2, 3, 4]
    assert "a quote opened on line 3 closes on line 5" in q.column("message")[0].as_py()
    assert_no_raw_text(q)


def test_a_stray_quote_that_breaks_the_csv_grammar_costs_only_its_lines(tmp_path: Path) -> None:
    rows = [{**good_row(i), "present_illness": "胸痛三天，伴气促。"} for i in range(5)]  # labs, diagnoses: quoted JSON
    path = write_csv(tmp_path / "g.csv", rows)
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[2] = lines[2].replace("第一医院", '"第一医院', 1)
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    kept, q, stats = read_all(csv_spec(path))
    assert stats["rows_read"] == 5 and kept.column("record_id").to_pylist() == ["R00000", "R00002", "R00003",
                                                                                "R00004"]
    assert reasons(q) == {2: ("csv_structure", None)} and "not valid CSV at line 3" in q.column("message")[0].as_py()


def test_quoted_cells_with_line_breaks_are_kept(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(6)]
    rows[2]["present_illness"] = "第一行，\n第二行：体温36.5℃，脉搏80次/分。\n第三行"
    kept, q, _ = read_all(csv_spec(write_csv(tmp_path / "m.csv", rows)))
    assert q.num_rows == 0 and kept.num_rows == 6
    assert kept.column("present_illness")[2].as_py() == rows[2]["present_illness"]


def test_a_lone_cr_inside_an_unquoted_cell_is_a_line_break_not_a_new_row(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(4)]
    rows[3]["chief_complaint"] = ""  # quarantined: its row number must not shift
    path = tmp_path / "cr.csv"
    text = "\n".join([",".join(HEADER)] + [",".join(
        (r[h].replace("\n", "") if h != "labs" and h != "diagnoses" else '"' + r[h].replace('"', '""') + '"')
        for h in HEADER) for r in rows]) + "\n"
    text = text.replace("反复胸痛1天", "反复胸痛\r1天", 1)
    path.write_bytes(text.encode("utf-8"))
    kept, q, stats = read_all(csv_spec(path))
    assert stats["rows_read"] == 4 and kept.num_rows == 3
    assert kept.column("chief_complaint")[1].as_py().startswith("反复胸痛\n1天")
    assert reasons(q) == {4: ("missing_required", "chief_complaint")}
    assert stats["normalised:line_break"] >= 1


# ------------------------------------------------------------------------------------------- privacy
def test_invisible_and_full_width_characters_never_hide_an_identifier_or_a_duplicate(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(3)]
    rows[0]["chief_complaint"] = "联系电话138\u200b0013\u20608000，胸痛"
    rows[1]["record_id"] = "R\u200b00000"  # the same id as row 0 behind a zero-width space
    rows[2]["record_id"] = "Ｒ０００００"  # and in full width
    kept, q, stats = read_all(csv_spec(write_csv(tmp_path / "z.csv", rows)))
    assert kept.column("chief_complaint")[0].as_py() == "联系电话13800138000，胸痛"
    assert reasons(q) == {2: ("duplicate_key", "record_id"), 3: ("duplicate_key", "record_id")}
    assert stats["normalised:invisible"] == 2 and stats["normalised:width"] == 1


def test_control_characters_html_and_invisible_only_sections(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(3)]
    rows[0]["present_illness"] = "患者\x00胸痛\x1b[31m三天\x1b[0m，<br>伴气促&nbsp;。<b>加重</b>"
    rows[1]["present_illness"] = "\u200b\u200c\ufeff"  # only invisible characters: missing, not content
    rows[2]["chief_complaint"] = "\u200b \u3000"  # a required field that is empty after normalisation
    kept, q, stats = read_all(csv_spec(write_csv(tmp_path / "h.csv", rows)))
    assert kept.column("present_illness").to_pylist() == ["患者胸痛三天，\n伴气促 。加重", None]
    assert reasons(q) == {3: ("missing_required", "chief_complaint")}
    assert stats["normalised:html"] == 1 and stats["normalised:control"] == 1


# ------------------------------------------------------------------------------------------- contract
def test_float_id_columns_are_converted_exactly_or_refused(tmp_path: Path) -> None:
    base = [good_row(i) for i in range(3)]
    table = pa.table({h: [r[h] for r in base] for h in HEADER})
    table = table.set_column(HEADER.index("record_id"), "record_id", pa.array([20220104729.0, None, 1.5]))
    pq.write_table(table, tmp_path / "f.parquet")
    spec = SourceSpec.from_dict({"name": "t", "kind": "parquet", "path": str(tmp_path / "f.parquet")})
    kept, q, stats = read_all(spec)
    assert kept.column("record_id").to_pylist() == ["20220104729"]
    assert reasons(q) == {2: ("missing_required", "record_id"), 3: ("wrong_type", "record_id")}
    assert stats["float_as_integer:record_id"] == 1


def test_dates_out_of_range_birth_after_admission_and_bad_icd10_codes(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(6)]
    rows[0]["admission_date"] = "1899-12-31"
    rows[1].update(admission_date="2999-01-01", discharge_date="")
    rows[2]["diagnoses"] = json.dumps([{"text": "高血压", "icd10_code": "高血压I10", "icd10_name": "x"}],
                                      ensure_ascii=False)
    rows[3]["diagnoses"] = json.dumps([{"text": "x", "icd10_code": "A01.003+G01*"},
                                       {"text": "y", "icd10_code": "E11.900x001"}], ensure_ascii=False)
    header = [*HEADER, "patient_birth_date"]
    rows[4]["patient_birth_date"] = "2023-05-01"  # after admission (2023-03-01)
    path = tmp_path / "d.csv"
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([[r.get(h, "") for h in header] for r in rows])
    kept, q, _ = read_all(csv_spec(path))
    assert reasons(q) == {1: ("date_out_of_range", "admission_date"), 2: ("date_out_of_range", "admission_date"),
                          3: ("bad_icd10", "diagnoses"), 5: ("date_order", "patient_birth_date")}
    kept_pinned, q_pinned, _ = read_all(csv_spec(path, max_date="3000-01-01"))
    assert 2 not in reasons(q_pinned)


def test_every_string_field_has_a_size_limit() -> None:
    for f in CONTRACT.fields:
        if f.type == "string":
            assert f.max_chars, f"{f.name} has no max_chars"


def test_an_oversized_address_is_quarantined(tmp_path: Path) -> None:
    rows = [good_row(i) for i in range(2)]
    header = [*HEADER, "patient_address"]
    rows[1]["patient_address"] = "北京市" * 200_000
    import csv

    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([[r.get(h, "") for h in header] for r in rows])
    _, q, _ = read_all(csv_spec(path))
    assert reasons(q) == {2: ("oversized_text", "patient_address")}


# ------------------------------------------------------------------------------------------ file level
@pytest.mark.parametrize("case", ["gzip", "gb18030_as_utf8", "utf8_as_gb18030", "json_array", "tabs", "not_parquet"])
def test_files_of_the_wrong_kind_fail_with_one_line_naming_the_file(tmp_path: Path, case: str) -> None:
    rows = [good_row(i) for i in range(5)]
    if case == "gzip":
        path = write_csv(tmp_path / "x.csv", rows)
        path.write_bytes(gzip.compress(path.read_bytes()))
        spec, needle = csv_spec(path), "gzip-compressed; decompress it first"
    elif case == "gb18030_as_utf8":
        spec, needle = csv_spec(write_csv(tmp_path / "x.csv", rows, "gb18030")), "not UTF-8: it reads as GB18030"
    elif case == "utf8_as_gb18030":
        spec, needle = csv_spec(write_csv(tmp_path / "x.csv", rows), encoding="gb18030"), "reads as UTF-8"
    elif case == "json_array":
        path = tmp_path / "x.jsonl"
        path.write_text(json.dumps([_json_row(i) for i in range(3)], ensure_ascii=False), encoding="utf-8")
        spec, needle = jsonl_spec(path), "a JSON array, not JSON Lines"
    elif case == "tabs":
        path = tmp_path / "x.csv"
        path.write_text("\t".join(HEADER) + "\n" + "\t".join(good_row(0)[h].replace("\n", "") for h in HEADER) + "\n",
                        encoding="utf-8")
        spec, needle = csv_spec(path), 'set delimiter: "\\t"'
    else:
        path = tmp_path / "x.parquet"
        path.write_text("record_id\nR1\n", encoding="utf-8")
        spec, needle = SourceSpec.from_dict({"name": "t", "kind": "parquet", "path": str(path)}), "not a Parquet file"
    with pytest.raises(IngestError) as err:
        read_all(spec)
    msg = str(err.value)
    assert needle in msg and "\n" not in msg and msg.startswith(f"ingest: cannot read {spec.path}")


def test_one_bad_row_in_a_utf8_file_is_still_a_row_level_problem(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", [good_row(i) for i in range(6)])
    data = path.read_bytes().replace("反复胸痛2天".encode(), "反复胸痛2天".encode("gb18030"), 1)
    path.write_bytes(data)
    kept, q, _ = read_all(csv_spec(path))
    assert kept.num_rows == 5 and reasons(q) == {3: ("bad_encoding", "chief_complaint")}
