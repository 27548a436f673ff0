"""Ingest: read a hospital export (Parquet, CSV in UTF-8 or GB18030, JSONL, a DuckDB query) onto the record contract.

`read_source` streams batches whose `kept` table matches the contract's Arrow schema exactly and whose
`quarantined` table holds every refused row with a reason code and a one-line message naming file, row and field
(never a value). Every row read is either kept or quarantined. A source that cannot be read at all raises
`IngestError` with one line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

import numpy as np
import pyarrow as pa

from cmedins.contracts import Contract
from cmedins.ingest.coerce import coerce_batch
from cmedins.ingest.errors import DUPLICATE_KEY, REASONS, IngestError, row_message
from cmedins.ingest.mapping import ColumnMap, resolve_mapping
from cmedins.ingest.raw import RawBatch
from cmedins.ingest.readers import iter_raw
from cmedins.ingest.spec import SourceSpec, source_files
from cmedins.stage import StageOutput, quarantine_rows, reject

KEY_FIELD = "record_id"

__all__ = ["REASONS", "IngestError", "SourceSpec", "read_source", "source_files"]


def read_source(spec: SourceSpec, contract: Contract, batch_rows: int = 10_000) -> Iterator[StageOutput]:
    """Stream `spec` as StageOutputs of at most `batch_rows` rows read each.

    Duplicate record_ids are refused across the whole source (all files of a glob); the first occurrence that
    passes every other check is kept. Ignored source columns are counted once per source in
    stats[`ignored_column:<name>`].
    """
    if batch_rows < 1:
        raise IngestError(f"ingest: source {spec.name!r}: batch_rows must be at least 1")
    seen: dict[str, tuple[str, int]] = {}
    reported: set[str] = set()
    max_date = date.fromisoformat(spec.max_date) if spec.max_date else date.today()
    cmap: ColumnMap | None = None
    current_source: str | None = None
    for raw in iter_raw(spec, batch_rows):
        if raw.source != current_source or not raw.fixed_columns:
            label = raw.source if spec.kind != "duckdb" else f"source {spec.name}"
            cmap = resolve_mapping(list(raw.columns), spec.mapping, contract, label, fixed_columns=raw.fixed_columns)
            current_source = raw.source
        assert cmap is not None
        stats: dict[str, int] = {}
        for name in cmap.ignored:
            if name not in reported:
                reported.add(name)
                stats[f"ignored_column:{name}"] = 1
        if raw.rows_read or stats:
            yield _check(raw, cmap, contract, seen, stats, max_date)


def _check(raw: RawBatch, cmap: ColumnMap, contract: Contract, seen: dict[str, tuple[str, int]],
           stats: dict[str, int], max_date: date) -> StageOutput:
    n = len(raw.rows)
    counts: Counter = Counter(raw.normalised)
    arrays, fails = coerce_batch(raw.columns, n, cmap, contract, counts, max_date)
    for kind, count in sorted(counts.items()):
        if count:
            stats[kind if ":" in kind else f"normalised:{kind}"] = count
    if KEY_FIELD in contract.names:
        keys = arrays[contract.names.index(KEY_FIELD)].to_pylist()
        ok = fails.ok
        dups: list[int] = []
        for i in np.flatnonzero(ok).tolist():
            key = keys[i]
            if key in seen:
                dups.append(i)
            else:
                seen[key] = (raw.source, raw.rows[i])
        for i in dups:
            first_source, first_row = seen[keys[i]]
            where = f"row {first_row}" if first_source == raw.source else f"{first_source} row {first_row}"
            fails.add([i], DUPLICATE_KEY, KEY_FIELD, f"{KEY_FIELD} already read at {where}")
    table = pa.Table.from_arrays(arrays, schema=contract.schema)
    keep = fails.ok
    kept = table.filter(pa.array(keep)) if not keep.all() else table
    rejects: list[dict] = []
    for early in raw.rejects:
        reject(rejects, stats, **early)
    for i in np.flatnonzero(~keep).tolist():
        reason, field, what = fails.kinds[fails.first[i]]
        row = raw.rows[i]
        reject(rejects, stats, stage="ingest", source=raw.source, row=row, reason=reason, field=field,
               message=row_message(raw.source, row, field, what), payload=raw.payload(i))
    rejects.sort(key=lambda r: r["row"])
    return StageOutput(kept=kept, quarantined=quarantine_rows(rejects), stats=stats, rows_read=raw.rows_read)
