"""End to end: no identifier of the synthetic corpus's ground truth reaches the build's output.

This is the property users care about most, checked on the published table itself rather than on the
de-identifier's own spans: every identifier value planted in the raw records is searched for verbatim.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import write_recipe

from cmedins.build import main
from cmedins.deid.detect_names import masked_common
from cmedins.entities import STRUCTURED_TYPES


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("privacy")
    recipe = write_recipe(tmp / "recipe.yaml", ner=True, sources=[{"name": "synthetic", "kind": "synthetic",
                                                                    "records": 600, "seed": 97}], batch_rows=300)
    assert main([str(recipe), "--out", str(tmp / "out"), "--quiet"]) == 0
    return tmp / "out"


def _published_text(out: Path) -> str:
    """Every value of the build's output table and of the task rows, as JSON text (whatever the last stage is)."""
    import json

    tables = [pq.read_table(p) for p in sorted((out / "output").glob("*.parquet"))]
    tables.append(pq.read_table(out / "work" / "tasks" / "kept.parquet"))
    return "\n".join(json.dumps(row, ensure_ascii=False, default=str) for t in tables for row in t.to_pylist())


def test_no_planted_identifier_reaches_the_output(build: Path) -> None:
    spans = pq.read_table(build / "work" / "sources" / "synthetic" / "ground_truth" / "pii_spans.parquet").to_pylist()
    published = _published_text(build)
    strict = {*STRUCTURED_TYPES, "ADDRESS", "ORGANIZATION", "PASSPORT", "SOCIAL_ACCOUNT", "URL", "IP_ADDRESS"}
    values = {(s["entity_type"], s["text"]) for s in spans if s["entity_type"] in strict and len(s["text"]) >= 4}
    assert len(values) > 500
    assert sorted(t for t, v in values if v in published) == []  # types only: never print the values
    # a masked name with a common surname (张某) stays by default (DeidConfig.keep_masked_names): not an identifier
    names = {s["text"] for s in spans if s["entity_type"] == "PERSON" and len(s["text"]) >= 2
             and not masked_common(s["text"])}
    leaked = sum(1 for n in names if n in published)
    assert leaked <= 0.01 * len(names), f"{leaked} of {len(names)} planted names found in the output"


def test_record_keys_and_patient_block_never_reach_the_output(build: Path) -> None:
    raw = pq.read_table(build / "work" / "ingest" / "kept.parquet",
                        columns=["record_id", "patient_id", "patient_id_number", "patient_phone", "patient_mrn"])
    published = _published_text(build)
    values = {v for col in raw.columns for v in col.to_pylist() if v and len(v) >= 6}
    assert len(values) > 1000
    assert sum(1 for v in values if v in published) == 0
    out = pq.read_table(build / "work" / "tasks" / "kept.parquet")
    assert all(len(h) == 32 for h in out.column("source_record_hash").to_pylist())


def test_every_planted_identifier_type_is_gone_from_every_deidentified_text(build: Path) -> None:
    """Every free-text field of the deid output (what every later stage and the published dataset draw from), not
    only the sections that tasks quote: each planted identifier, looked up in its own record's own field after the
    documented ingest normalisation. E-mails, ages over 89 and dates are checked like every other type."""
    from cmedins.contracts import TEXT_FIELDS
    from cmedins.ingest.normalize import normalize_text
    from cmedins.secret import build_secret, keyed_hash

    sources = build / "work" / "sources" / "synthetic"
    spans = pq.read_table(sources / "ground_truth" / "pii_spans.parquet").to_pylist()
    raw = pq.read_table(sources / "records.parquet", columns=["record_id", "hospital", "patient_name"]).to_pylist()
    patient_name = {r["record_id"]: r["patient_name"] for r in raw}
    secret = build_secret()
    record_hash = {r["record_id"]: keyed_hash(secret, r["hospital"] or "", r["record_id"]) for r in raw}
    deid = {r["record_hash"]: r for r in pq.read_table(build / "work" / "deid" / "kept.parquet").to_pylist()}
    planted: dict[str, int] = {}
    leaked: dict[str, int] = {}
    for s in spans:
        value = normalize_text(s["text"]).strip()
        record = deid.get(record_hash[s["record_id"]])
        short = len(value) < {"PERSON": 2, "AGE": 3}.get(s["entity_type"], 5)  # a bare surname, 北京市, 1-12
        # a masked name with a common surname stays by default, unless it is the patient's own (record-aware)
        kept_mask = s["entity_type"] == "PERSON" and masked_common(value) and \
            not (patient_name.get(s["record_id"]) or "").startswith(value[0])
        if record is None or s["field"] not in TEXT_FIELDS or short or kept_mask:
            continue
        planted[s["entity_type"]] = planted.get(s["entity_type"], 0) + 1
        if value in (record[s["field"]] or "").replace("90岁以上", ""):
            leaked[s["entity_type"]] = leaked.get(s["entity_type"], 0) + 1
    assert {"EMAIL", "AGE", "DATE", "BIRTH_DATE", "PHONE", "ID_NUMBER", "ADDRESS", "PERSON"} <= set(planted)
    persons = leaked.pop("PERSON", 0)
    assert persons <= 0.01 * planted["PERSON"], f"{persons} of {planted['PERSON']} planted names left"
    assert leaked == {}, f"identifier types left in de-identified text (counts): {leaked}"
