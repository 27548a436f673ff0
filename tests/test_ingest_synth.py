"""Acceptance: a synthetic GB18030 CSV export with 5 % corrupted rows quarantines exactly those rows.

Uses `cmedins.synth.generate` and its ground truth (`ground_truth/corruptions.parquet`: row, record_id, kind,
field); skipped until the synthetic corpus exists.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmedins.contracts import load_contract
from cmedins.ingest import SourceSpec, read_source

synth = pytest.importorskip("cmedins.synth")
generate = getattr(synth, "generate", None)


@pytest.mark.skipif(generate is None, reason="cmedins.synth.generate is not there yet")
@pytest.mark.parametrize(("fmt", "encoding"), [("csv", "gb18030"), ("csv", "utf-8"), ("jsonl", "utf-8")])
def test_corrupted_rows_are_exactly_the_quarantined_rows(tmp_path: Path, fmt: str, encoding: str) -> None:
    generate(2000, 5, tmp_path, corrupt_rate=0.05, fmt=fmt, encoding=encoding)
    truth = pq.read_table(tmp_path / "ground_truth" / "corruptions.parquet").to_pylist()
    spec = SourceSpec.from_dict({"name": "synthetic", "kind": fmt, "path": str(tmp_path / f"records.{fmt}"),
                                 "encoding": encoding})
    outs = list(read_source(spec, load_contract("record"), batch_rows=500))
    q = pa.concat_tables([o.quarantined for o in outs])
    read = sum(o.rows_read for o in outs)
    assert read == sum(o.kept.num_rows for o in outs) + q.num_rows
    expected_rows = sorted(t["row"] for t in truth)
    got = {r["row"]: (r["reason"], r["field"]) for r in q.to_pylist()}
    assert sorted(got) == expected_rows, {
        "missed": [t for t in truth if t["row"] not in got][:5],
        "extra": [(r, got[r]) for r in sorted(set(got) - set(expected_rows))][:5],
    }
    assert 0.03 * read < len(got) < 0.07 * read
    # the reason code and the field agree with the generator's label for every corrupted row
    assert {t["row"]: (t["kind"], t["field"]) for t in truth} == got
