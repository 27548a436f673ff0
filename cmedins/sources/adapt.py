"""Load one source into a Polars frame of adapted examples, plus the rows it could not read.

Each example keeps its provenance: the source name, the file and line it came from, a running row number (the
unit the mixture accounts for: a source row is published, or quarantined with a reason), its original id and
category, its licence, and the keys the split groups by (`group_key`: the dialogue, conversation or patient id;
`record_key`: the source row).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cmedins.sources.embedded import write_embedded
from cmedins.sources.formats import AdaptError, adapt
from cmedins.sources.readers import read_rows
from cmedins.sources.spec import SourceSpec

MESSAGES = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
EXAMPLE_SCHEMA = {
    "source": pl.String, "file": pl.String, "line": pl.Int64, "row": pl.Int64, "sub": pl.Int32,
    "original_id": pl.String, "category": pl.String, "tools": pl.String, "messages": MESSAGES,
    "user_turns": pl.Int32, "source_group": pl.String, "group_key": pl.String, "record_key": pl.String,
    "licence": pl.String,
}


@dataclass
class LoadedSource:
    """A source's examples (EXAMPLE_SCHEMA), the rows it refused (dicts for quarantine), and its counters."""

    spec: SourceSpec
    examples: pl.DataFrame
    rejects: list[dict] = field(default_factory=list)
    rows_read: int = 0
    cleaned: Counter = field(default_factory=Counter)


def source_files(spec: SourceSpec) -> list[Path]:
    """The files that change this source's rows (for the stage's cache key)."""
    return spec.files()


def load_source(spec: SourceSpec, workdir: Path, seed: int) -> LoadedSource:
    """Read and adapt every row of `spec`; generated sources are first written under `workdir/embedded/`."""
    files = None
    if spec.generate is not None:
        files = [write_embedded(spec.generate, spec.rows, spec.seed if spec.seed is not None else seed,
                                workdir / "embedded", spec.name)]
    out = LoadedSource(spec, pl.DataFrame(schema=EXAMPLE_SCHEMA))
    records: list[dict] = []
    for row_no, raw in enumerate(read_rows(spec, files), 1):
        out.rows_read += 1
        where = {"source": spec.name, "file": raw.file, "line": raw.line, "row": row_no}
        if raw.problem is not None:
            out.rejects.append({**where, "sub": 0, "reason": "unreadable_row", "field": None,
                                "message": f"{raw.file} {raw.problem}", "payload": None})
            continue
        try:
            examples = adapt(raw.value, spec, out.cleaned)
        except AdaptError as exc:
            out.rejects.append({**where, "sub": 0, "reason": exc.reason, "field": exc.field,
                                "message": f"{raw.file} line {raw.line}: {exc}", "payload": _payload(raw.value)})
            continue
        group_value = _scalar(raw.value, spec.group_field) if spec.group_field else None
        for sub, ex in enumerate(examples):
            group = group_value or ex.group_id or ex.original_id or f"#{row_no}"
            records.append({
                **where, "sub": sub, "original_id": ex.original_id, "category": ex.category, "tools": ex.tools,
                "messages": [{"role": r, "content": c} for r, c in ex.messages], "user_turns": ex.user_turns,
                "source_group": spec.group_of(ex.category, ex.user_turns), "group_key": f"{spec.name}:{group}",
                "record_key": f"{spec.name}:#{row_no}", "licence": spec.licence,
            })
    if records:
        out.examples = pl.DataFrame(records, schema=EXAMPLE_SCHEMA)
    return out


def _scalar(value: object, name: str | None) -> str | None:
    if not name or not isinstance(value, dict):
        return None
    v = value.get(name)
    return None if v is None or isinstance(v, dict | list) or str(v).strip() == "" else str(v).strip()


def _payload(value: object) -> str | None:
    """The refused row for a human to inspect (quarantine, work directory only)."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return None
