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

from cmedins.contracts import TEXT_FIELDS, load_contract
from cmedins.entities import ENTITY_TYPES
from cmedins.synth import SynthError, generate
from cmedins.synth.__main__ import main
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
    from cmedins.synth.compose.writer import _markup
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


# ---------- clinical-finding events: every annotated sentence is annotated completely and correctly ----------

_FINDING_WORDS = (
    *("呼吸音", "啰音", "压痛", "反跳痛", "杂音", "水肿", "肿大"),
    *("阳性", "肠鸣音", "墨菲征", "畸形", "充血", "黄染"),
)
_NEG_CUE = re.compile(r"无|未见|未闻及|未触及|未扪及|未引出|否认|阴性|不伴|未诉")
_UNC_CUE = re.compile(r"可能|待排|考虑|疑似|怀疑|可疑|排除|待复核|不除外|？|\?")
_NOT_DESCRIPTORS = {"阴性", "未见", "未见明显", "未引出", "未触及", "未闻及", "无", "可能", "待排"}


def _event_tuples(r: dict) -> dict[str, set[tuple]]:
    out: dict[str, set[tuple]] = {}
    for e in r["events"]:
        key = (e["subject"], tuple(e["descriptors"]), tuple(e["anatomy"]), e["status"])
        out.setdefault(e["sentence"], set()).add(key)
    return out


def test_system_exam_sentences_state_every_finding(corpus: dict) -> None:
    """The two sampled failures: 呼吸音清 left out; 墨菲征 given 全腹 and 阴性; 反跳痛 and 肝脾 left out."""
    seen = {"呼吸音": 0, "墨菲征": 0, "反跳痛": 0, "肝脾": 0}
    for r in corpus["rows"]:
        for sentence, evs in _event_tuples(r).items():
            by_subject = {e[0]: e for e in evs}
            if "双肺呼吸音清" in sentence:
                seen["呼吸音"] += 1
                assert by_subject["呼吸音"][1:] == (("清",), ("双肺",), "肯定")
            if "墨菲征阴性" in sentence:
                seen["墨菲征"] += 1
                assert by_subject["墨菲征"][1:] == ((), (), "否定")
            if "无压痛及反跳痛" in sentence or "无压痛、反跳痛" in sentence:
                seen["反跳痛"] += 1
                assert by_subject["反跳痛"][3] == by_subject["压痛"][3] == "否定"
            if "肝脾肋下未触及" in sentence or "肝脾未触及" in sentence:
                seen["肝脾"] += 1
                assert by_subject["肝脾"][3] == "否定"
    assert all(n > 20 for n in seen.values()), seen


def test_annotated_sentences_cover_every_generated_phrase() -> None:
    """Over ~500 drafts (near-duplicate copies included), each annotated sentence has one event per subject the
    generator wrote, every descriptor and anatomy piece belongs to an event, no finding word is left in the plain
    prose, and the status agrees with the negation / uncertainty cue words."""
    from cmedins.synth.chunk import ChunkBuilder

    drafts, _ = ChunkBuilder(SEED, 0, 500).drafts(500)
    checked = 0
    for d in drafts:
        by_sentence: dict[int, tuple] = {}
        for e in d.events:
            by_sentence.setdefault(id(e.sentence), (e.sentence, []))[1].append(e)
        for s, evs in by_sentence.values():
            checked += 1
            tagged = {t: {p[0] for p in s.pieces if p[1] == t} for t in ("Es", "Ed", "Ea")}
            assert tagged["Es"] == {e.subject for e in evs}, s.text
            assert tagged["Ed"] == {w for e in evs for w in e.descriptors}, s.text
            assert tagged["Ea"] == {w for e in evs for w in e.anatomy}, s.text
            assert not {w for e in evs for w in e.descriptors} & _NOT_DESCRIPTORS, s.text
            plain = "".join(p[0] for p in s.pieces if p[1] is None)
            assert not [w for w in _FINDING_WORDS if w in plain], s.text
            cue = re.sub("无明显诱因|无诱因", "", plain)
            statuses = {e.status for e in evs}
            assert bool(_NEG_CUE.search(cue)) == ("否定" in statuses), s.text
            assert bool(_UNC_CUE.search(plain)) == ("不确定" in statuses), s.text
    assert checked > 500 * 8


def test_near_duplicate_copies_keep_only_unedited_annotations(corpus: dict) -> None:
    rows = _by_id(corpus["rows"])
    dropped = 0
    for d in corpus["gt"]["duplicates"]:
        a, b = _event_tuples(rows[d["record_id_a"]]), _event_tuples(rows[d["record_id_b"]])
        if d["kind"] == "exact":
            assert a == b
            continue
        for sentence, evs in b.items():
            assert a.get(sentence) == evs  # an edited sentence would differ from every original one
        dropped += len(a) - len(b)
    assert dropped > 0


def test_markup_assigns_modifiers_to_their_own_finding() -> None:
    from cmedins.synth.text import MarkupError, parse_markup
    from cmedins.synth.vocab_overrides import EXAMS, SIGNS
    from cmedins.synth.vocab_phrases import SYSTEM_EXAM
    from cmedins.synth.vocab_profiles import PROFILES

    _, fs = parse_markup("{s:胸廓}{d:对称}，{a*:双肺}{s:呼吸音}{d:清}，未闻及{s!:干湿性啰音}")
    assert [(f.subject, f.descriptors, f.anatomy, f.status) for f in fs] == [
        ("胸廓", ("对称",), (), "肯定"),
        ("呼吸音", ("清",), ("双肺",), "肯定"),
        ("干湿性啰音", (), ("双肺",), "否定"),
    ]
    _, fs = parse_markup("{a:全腹}无{s!:压痛}及{s!:反跳痛}，{s!:墨菲征}阴性")
    assert [(f.subject, f.anatomy) for f in fs] == [("压痛", ("全腹",)), ("反跳痛", ("全腹",)), ("墨菲征", ())]
    with pytest.raises(MarkupError):
        parse_markup("{a:双肺}{d:纹理增多}，{a:右下肺}{s:斑片影}")  # a modifier with no finding of its own
    every = [m for p in PROFILES.values() for m in (*p.signs, *p.exams)]
    every += [m for v in (*SIGNS.values(), *EXAMS.values()) for m in v]
    every += [m for _, forms in SYSTEM_EXAM for m in forms]
    for m in every:
        _, fs = parse_markup(m.replace("%PR%", "80"))
        assert not {w for f in fs for w in f.descriptors} & _NOT_DESCRIPTORS, m


# The content of a 200-record corpus for a fixed seed: a refactor of the generator must not change a single record or
# ground-truth span. Hashing rows (not parquet bytes) keeps the pin independent of the pyarrow version. Update these
# only for an intended change of the generator, and say so. Last intended change: clinically constrained corpus
# (per-disease findings, one timeline per visit, word-preserving near-duplicate edits; issue 18).
PINNED_CORPUS = {
    "records.parquet": "726437f729cac827eb7cf621a9cda0120a14e69323b07034497727240a15ed9b",
    "ground_truth/pii_spans.parquet": "a9dcd9fb62f913aea2441ed5e059feb8cf7f8d746cec013ffd7730921cf14f97",
    "ground_truth/duplicates.parquet": "b4b18de526127242c859057aeec86e6eda325bcccab18e03eba3938bcd726071",
    "ground_truth/medical_terms.parquet": "b5c1e639314bbec689ba7fc3cb07a6ab6fa381d28666f48e8d35380642eec64b",
}


def _rows_sha256(path: Path) -> str:
    import hashlib
    import json

    rows = pq.read_table(path).to_pylist()
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def test_pinned_corpus_content(tmp_path: Path) -> None:
    generate(200, 11, tmp_path, workers=1)
    assert {name: _rows_sha256(tmp_path / name) for name in PINNED_CORPUS} == PINNED_CORPUS
