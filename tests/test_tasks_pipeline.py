"""synth -> deid -> tasks on ~300 synthetic records: answers checked against the generator's ground truth."""

from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest

from cmedins.stage import StageContext, collect, get_stage
from cmedins.tasks.formats import parse_answer
from cmedins.tasks.medication import UNSPECIFIED


def parsed(row: dict):
    """A row's answer read back in the format its template asked for."""
    value = parse_answer(row["task"], row["answer_format"], row["answer"])
    assert value is not None, (row["task"], row["answer_format"])
    return value

N = 300


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    from cmedins.synth import generate

    deid = get_stage("deid")
    tmp = tmp_path_factory.mktemp("pipeline")
    generate(N, seed=424242, out=tmp, workers=1)
    raw = pq.read_table(tmp / "records.parquet")
    ctx = StageContext(seed=5, workdir=tmp, secret=b"pipeline-test-secret")
    d = deid.fn(raw, deid.make_config({}), ctx)
    tasks = get_stage("tasks")
    out = collect(tasks.fn(d.kept, tasks.make_config({}), ctx))
    return raw, d, out


def _aligned(raw, d) -> list[tuple[dict, dict]]:
    """Pairs (raw record, de-identified record): deid keeps input order and may quarantine some records."""
    dropped = {r["row"] for r in d.quarantined.to_pylist()}
    raws = [r for i, r in enumerate(raw.to_pylist(), start=1) if i not in dropped]
    deids = d.kept.to_pylist()
    assert len(raws) == len(deids)
    return list(zip(raws, deids, strict=True))


def test_all_six_tasks_with_sensible_counts(built) -> None:
    raw, d, out = built
    counts = Counter(out.kept.column("task").to_pylist())
    assert set(counts) == {"event_extraction", "triage", "diagnosis", "diagnosis_normalization", "medication",
                           "summary"}
    n = d.kept.num_rows
    assert counts["triage"] >= 0.9 * n and counts["diagnosis"] >= 0.8 * n and counts["summary"] >= 0.8 * n
    assert out.stats["records_with_rows"] + out.stats["records_without_rows"] == n
    assert out.stats.get("quarantined:bad_record", 0) == 0
    hashes = set(d.kept.column("record_hash").to_pylist())
    assert set(out.kept.column("source_record_hash").to_pylist()) <= hashes


def test_answers_match_ground_truth(built) -> None:
    raw, d, out = built
    rows: dict[tuple[str, str], list[dict]] = {}
    for r in out.kept.to_pylist():
        rows.setdefault((r["source_record_hash"], r["task"]), []).append(r)
    checked = Counter()
    verbatim = total = 0
    for truth, rec in _aligned(raw, d):
        h = rec["record_hash"]
        dx = [x for x in truth["diagnoses"] or [] if (x["text"] or "").strip()]
        for r in rows.get((h, "triage"), []):
            assert parsed(r) == truth["department"]
            checked["triage"] += 1
        for r in rows.get((h, "diagnosis"), []):
            got = parsed(r)
            # wordings pass through the de-identifier, which may (rarely) put a placeholder into one; the
            # primary diagnosis is listed first
            assert len(got) == len(dx)
            order = sorted(dx, key=lambda x: not x["primary"]) if any(x["primary"] for x in dx) else dx
            verbatim += sum(g == x["text"].strip() for g, x in zip(got, order, strict=True))
            total += len(dx)
            checked["diagnosis"] += 1
        for r in rows.get((h, "diagnosis_normalization"), []):
            coded = parsed(r)
            assert [(c.name, c.code) for c in coded] == [(x["icd10_name"], x["icd10_code"]) for x in dx
                                                          if x["icd10_code"] and x["icd10_name"]]
            checked["norm"] += 1
        for r in rows.get((h, "medication"), []):
            meds = [(m.drug, m.dose, m.route, m.frequency) for m in parsed(r)]
            assert meds == [tuple((m[k] or "").strip() or UNSPECIFIED for k in ("drug", "dose", "route", "frequency"))
                            for m in truth["medications"] if (m["drug"] or "").strip()]
            checked["medication"] += 1
        truth_events = {(e["subject"].strip(), (e["status"] or "").strip() or "肯定") for e in truth["events"] or []
                        if (e["subject"] or "").strip()}
        got = {(e.subject, e.status) for r in rows.get((h, "event_extraction"), []) for e in parsed(r)}
        if got:
            assert got <= truth_events  # a sentence may be quarantined, an event never invented
            checked["events"] += 1
    assert min(checked.values()) > 10 and len(checked) == 5
    assert verbatim >= 0.95 * total
