"""Tests of the synthetic hospital corpus (cmedins.synth): determinism, contract, ground truth, corruption."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REALDATA
from rapidfuzz.distance import Levenshtein

from cmedins.contracts import load_contract
from cmedins.entities import ENTITY_TYPES
from cmedins.synth import SynthError, generate
from cmedins.synth.__main__ import main
from cmedins.synth.compose import TEXT_FIELDS
from cmedins.synth.identifiers import id_checksum
from cmedins.synth.vocab_diseases import DISEASES
from cmedins.synth.vocab_drugs import DRUGS

ICD_TSV = REALDATA / "ICD10_Beijing_clinical_v601" / "DERIVED_icd10_beijing_v601.tsv"
DRUG_TXT = REALDATA / "MedicalKG_dicts_liuhuanyong" / "drug.txt"
MEDICAL_KINDS = {"lab_value", "vital", "dose", "icd_code", "drug", "herb", "eponym", "anatomy", "symptom"}
N = 3000
SEED = 20240611


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("synth")
    summary = generate(N, SEED, out, workers=2)
    recs = pq.read_table(out / "records.parquet")
    gt = {
        k: pq.read_table(out / "ground_truth" / f"{k}.parquet").to_pylist()
        for k in ("pii_spans", "duplicates", "medical_terms", "pii_free", "corruptions")
    }
    return {"out": out, "summary": summary, "table": recs, "rows": recs.to_pylist(), "gt": gt}


def _by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["record_id"]: r for r in rows}


def test_help_exits_cleanly(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert "--records" in capsys.readouterr().out


def test_same_seed_same_bytes_whatever_workers(tmp_path: Path) -> None:
    a = generate(1200, 3, tmp_path / "a", workers=1).paths
    b = generate(1200, 3, tmp_path / "b", workers=2).paths
    c = generate(1200, 4, tmp_path / "c", workers=1).paths
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key
    assert a["records"].read_bytes() != c["records"].read_bytes()


def test_records_follow_the_contract(corpus: dict) -> None:
    contract = load_contract("record")
    assert corpus["table"].schema.equals(contract.schema, check_metadata=False)
    assert corpus["table"].num_rows == N
    ids = [r["record_id"] for r in corpus["rows"]]
    assert len(set(ids)) == N
    for r in corpus["rows"]:
        for f in contract.fields:
            if f.required:
                assert r[f.name] not in (None, ""), f.name
            if f.enum and r[f.name] is not None:
                assert r[f.name] in f.enum, f.name
            if f.max_chars and r[f.name]:
                assert len(r[f.name]) <= f.max_chars
        if r["discharge_date"] is not None:
            assert r["discharge_date"] >= r["admission_date"]
        assert (r["visit_type"] == "住院") == (r["discharge_date"] is not None)
        assert re.fullmatch(r"(ZY|MZ|JZ)20\d{2}\d{7}", r["record_id"])


def test_departments_codes_and_repeat_visits(corpus: dict) -> None:
    rows = corpus["rows"]
    depts = {r["department"] for r in rows}
    codes = {d["icd10_code"] for r in rows for d in r["diagnoses"]}
    assert len(depts) >= 15
    assert len(codes) >= 150
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["department"]] = counts.get(r["department"], 0) + 1
    top, bottom = max(counts.values()), min(counts.values())
    assert top > 5 * bottom  # skewed, like the paper's Fig. 2
    patients: dict[str, int] = {}
    for r in rows:
        patients[r["patient_id"]] = patients.get(r["patient_id"], 0) + 1
    assert sum(1 for n in patients.values() if n > 1) > N * 0.05


def test_inpatient_notes_have_realistic_length(corpus: dict) -> None:
    lengths = sorted(sum(len(r[f] or "") for f in TEXT_FIELDS) for r in corpus["rows"] if r["visit_type"] == "住院")
    median = lengths[len(lengths) // 2]
    assert 600 <= median <= 3000
    out = sorted(sum(len(r[f] or "") for f in TEXT_FIELDS) for r in corpus["rows"] if r["visit_type"] == "门诊")
    assert out[len(out) // 2] < median


@pytest.mark.skipif(not ICD_TSV.exists(), reason="public ICD-10 list not available")
def test_every_code_and_name_is_in_the_real_icd10_list(corpus: dict) -> None:
    with ICD_TSV.open(encoding="utf-8") as fh:
        real = {row["code"]: row["name"] for row in csv.DictReader(fh, delimiter="\t")}
    for d in DISEASES:
        assert real.get(d.code) == d.name, d.code
    for r in corpus["rows"]:
        for dx in r["diagnoses"]:
            assert real.get(dx["icd10_code"]) == dx["icd10_name"]
        assert sum(dx["primary"] for dx in r["diagnoses"]) == 1


@pytest.mark.skipif(not DRUG_TXT.exists(), reason="public drug dictionary not available")
def test_drug_names_are_real() -> None:
    words = [w for w in DRUG_TXT.read_text(encoding="utf-8").split() if len(w) >= 4]
    known = set(words)
    hits = sum(1 for d in DRUGS if d in known or any(w in d or d in w for w in words))
    assert hits / len(DRUGS) >= 0.7


def test_pii_spans_match_text(corpus: dict) -> None:
    rows = _by_id(corpus["rows"])
    spans = corpus["gt"]["pii_spans"]
    assert len(spans) > N * 5
    types = set()
    for s in spans:
        text = rows[s["record_id"]][s["field"]]
        assert s["field"] in TEXT_FIELDS
        assert text[s["start"] : s["end"]] == s["text"]
        assert s["entity_type"] in ENTITY_TYPES
        types.add(s["entity_type"])
        if s["entity_type"] == "AGE":
            assert int(re.sub(r"\D", "", s["text"].translate(str.maketrans("０１２３４５６７８９", "0123456789")))) > 89
    for t in (
        "PERSON",
        "ID_NUMBER",
        "PHONE",
        "ADDRESS",
        "ORGANIZATION",
        "HOSPITAL",
        "DATE",
        "BIRTH_DATE",
        "AGE",
        "MEDICAL_RECORD_NO",
        "INSURANCE_NO",
    ):
        assert t in types, t


def test_identifier_forms_are_varied_and_valid(corpus: dict) -> None:
    spans = corpus["gt"]["pii_spans"]
    fw = str.maketrans("０１２３４５６７８９", "0123456789")
    ids = [re.sub(r"[\s-]", "", s["text"].translate(fw)).upper() for s in spans if s["entity_type"] == "ID_NUMBER"]
    full = [x for x in ids if len(x) == 18]
    assert full and all(id_checksum(x[:17]) == x[17] for x in full)
    assert any(x.endswith("X") for x in full)
    phones = [s["text"] for s in spans if s["entity_type"] == "PHONE"]
    assert any("+86" in p for p in phones) and any("-" in p for p in phones) and any(" " in p for p in phones)
    persons = [s["text"] for s in spans if s["entity_type"] == "PERSON"]
    assert any(p.endswith("某某") for p in persons)
    for r in corpus["rows"]:
        x = r["patient_id_number"]
        assert len(x) == 18 and id_checksum(x[:17]) == x[17]


def test_medical_terms_and_pii_free_fields(corpus: dict) -> None:
    rows = _by_id(corpus["rows"])
    terms = corpus["gt"]["medical_terms"]
    kinds = set()
    for t in terms:
        assert rows[t["record_id"]][t["field"]][t["start"] : t["end"]] == t["term"]
        kinds.add(t["kind"])
    assert kinds <= MEDICAL_KINDS
    assert {"vital", "lab_value", "drug", "dose", "symptom", "anatomy"} <= kinds
    with_pii = {(s["record_id"], s["field"]) for s in corpus["gt"]["pii_spans"]}
    free = corpus["gt"]["pii_free"]
    assert len(free) > N * 2
    for f in free:
        assert (f["record_id"], f["field"]) not in with_pii
        assert rows[f["record_id"]][f["field"]]


def test_events_are_grounded(corpus: dict) -> None:
    statuses = set()
    n = 0
    for r in corpus["rows"]:
        for f in TEXT_FIELDS:
            assert not re.search(r"[{}]|![{\u4e00-\u9fff]|%[A-Z]+%", r[f] or ""), f  # no vocabulary markup leaks
        for e in r["events"]:
            n += 1
            section_text = r[e["section"]]
            assert e["sentence"] and e["sentence"] in section_text
            assert e["subject"] in e["sentence"]
            for w in e["descriptors"] + e["anatomy"]:
                assert w in e["sentence"]
            assert e["status"] in ("肯定", "否定", "不确定")
            statuses.add(e["status"])
    assert statuses == {"肯定", "否定", "不确定"}
    assert n > N * 5


def _free_text(r: dict) -> str:
    return "\n".join(r[f] or "" for f in TEXT_FIELDS)


def test_planted_duplicates_and_their_edit_rates(corpus: dict) -> None:
    rows = _by_id(corpus["rows"])
    dups = corpus["gt"]["duplicates"]
    kinds = {d["kind"] for d in dups}
    assert kinds == {"exact", "near"}
    ops = set()
    for d in dups:
        a, b = rows[d["record_id_a"]], rows[d["record_id_b"]]
        assert a["record_id"] != b["record_id"] and a["patient_id"] == b["patient_id"]
        ta, tb = _free_text(a), _free_text(b)
        if d["kind"] == "exact":
            assert ta == tb and d["edit_rate"] == 0.0
        else:
            assert 0.01 <= d["edit_rate"] <= 0.10
            assert abs(Levenshtein.distance(ta, tb) / len(ta) - d["edit_rate"]) < 1e-5
            ops |= set(d["ops"].split(","))
    assert {"insert", "delete", "substitute", "reorder"} <= ops


def test_corrupt_rate_refused_for_parquet(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="csv or jsonl"):
        generate(10, 1, tmp_path, corrupt_rate=0.1)


def _csv_rows(path: Path, encoding: str) -> list[dict]:
    text = path.read_bytes().decode(encoding, errors="surrogateescape")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _defect_visible(kind: str, field: str, value: object, row: dict) -> bool:
    if kind == "missing_required":
        return value in (None, "")
    if kind == "bad_date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return True
        return False
    if kind == "date_order":
        return date.fromisoformat(row["discharge_date"]) < date.fromisoformat(row["admission_date"])
    if kind == "bad_encoding":
        return any(0xDC80 <= ord(ch) <= 0xDCFF for ch in str(value))
    if kind == "oversized_text":
        return len(str(value)) > (load_contract("record").field(field).max_chars or 0)
    if kind == "bad_enum":
        return value not in (load_contract("record").field(field).enum or ())
    if kind == "wrong_type":
        if field in ("labs", "diagnoses", "medications", "events"):
            try:
                return not isinstance(json.loads(value) if isinstance(value, str) else value, list)
            except json.JSONDecodeError:
                return True
        return not isinstance(value, str)
    raise AssertionError(kind)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_csv_corruption_labels_match_rows(tmp_path: Path, encoding: str) -> None:
    s = generate(600, 9, tmp_path, fmt="csv", encoding=encoding, corrupt_rate=0.1, workers=1)
    rows = _csv_rows(s.paths["records"], encoding)
    assert len(rows) == 600
    labels = pq.read_table(s.paths["corruptions"]).to_pylist()
    assert 20 <= len(labels) <= 110 and len({x["kind"] for x in labels}) >= 5
    bad = {x["row"] for x in labels}
    for x in labels:
        row = rows[x["row"] - 1]
        assert _defect_visible(x["kind"], x["field"], row[x["field"]], row), x
        if x["record_id"] is not None:
            assert row["record_id"] == x["record_id"]
    for i, row in enumerate(rows, start=1):
        if i not in bad:
            date.fromisoformat(row["admission_date"])
            assert isinstance(json.loads(row["labs"] or "[]"), list)


def test_jsonl_corruption_labels_match_rows(tmp_path: Path) -> None:
    s = generate(600, 10, tmp_path, fmt="jsonl", corrupt_rate=0.1, workers=1)
    lines = s.paths["records"].read_bytes().decode("utf-8", errors="surrogateescape").splitlines()
    rows = [json.loads(x) for x in lines]
    labels = pq.read_table(s.paths["corruptions"]).to_pylist()
    assert labels
    for x in labels:
        row = rows[x["row"] - 1]
        assert _defect_visible(x["kind"], x["field"], row.get(x["field"]), row), x


def test_cli_output_does_not_depend_on_hash_seed(tmp_path: Path) -> None:
    """Set iteration order changes with PYTHONHASHSEED; nothing in the output may depend on it."""
    import os
    import subprocess
    import sys

    outs = []
    for hs in ("1", "2"):
        out = tmp_path / hs
        env = {**os.environ, "PYTHONHASHSEED": hs}
        cmd = [
            sys.executable,
            "-m",
            "cmedins.synth",
            "--records",
            "250",
            "--seed",
            "5",
            "--out",
            str(out),
            "--format",
            "jsonl",
            "--corrupt-rate",
            "0.05",
            "--workers",
            "1",
        ]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stderr
        assert "250 records" in res.stdout
        outs.append(out)
    for name in (
        "records.jsonl",
        "ground_truth/pii_spans.parquet",
        "ground_truth/corruptions.parquet",
        "ground_truth/duplicates.parquet",
        "ground_truth/medical_terms.parquet",
    ):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_cli_bad_arguments_give_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--records", "5", "--out", str(tmp_path), "--corrupt-rate", "0.2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "csv or jsonl" in err and "Traceback" not in err


def test_show_prints_records(capsys: pytest.CaptureFixture) -> None:
    assert main(["show", "--records", "2", "--seed", "1", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "【主诉】" in out and "【现病史】" in out


def test_vocabularies_are_consistent() -> None:
    """Every drug, lab and override a profile names exists, so no record can hit a missing entry."""
    from cmedins.synth.compose import _markup
    from cmedins.synth.vocab_labs import LABS, QUALITATIVE
    from cmedins.synth.vocab_overrides import COMORBID_DRUGS, EXAMS, SIGNS, SYMPTOMS
    from cmedins.synth.vocab_overrides import DRUGS as DRUG_OVERRIDES
    from cmedins.synth.vocab_profiles import PROFILES

    codes = {d.code for d in DISEASES}
    assert len(codes) == len(DISEASES) >= 150
    for d in DISEASES:
        assert d.profile in PROFILES and d.wordings and all(d.wordings)
    for name, p in PROFILES.items():
        assert all(x in DRUGS for x in p.drugs), name
        for lab in p.labs:
            item, flag = lab.split(":")
            assert item in (QUALITATIVE if flag == "A" else LABS), lab
        for m in (*p.signs, *p.exams):
            assert "{" not in m or _markup(m)[1], m  # a finding with event words names its subject
        assert all(len(s.split("|")) == 3 for s in p.sx), name
    for table in (SYMPTOMS, SIGNS, EXAMS, DRUG_OVERRIDES, COMORBID_DRUGS):
        assert set(table) <= codes
    assert all(x in DRUGS for v in (*DRUG_OVERRIDES.values(), *COMORBID_DRUGS.values()) for x in v)
    assert all(len(s.split("|")) == 3 for v in SYMPTOMS.values() for s in v)
    assert all("{" not in m or _markup(m)[1] for v in (*SIGNS.values(), *EXAMS.values()) for m in v)
