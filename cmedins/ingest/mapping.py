"""Column mapping: which source column feeds each contract field, and which source columns are ignored."""

from __future__ import annotations

from dataclasses import dataclass

from cmedins.contracts import Contract
from cmedins.ingest.errors import cannot_read


@dataclass(frozen=True)
class ColumnMap:
    """`sources[field]` is the source column of a contract field, or None when the source has no such column."""

    sources: dict[str, str | None]
    ignored: tuple[str, ...]


def resolve_mapping(
    columns: list[str], mapping: dict[str, str], contract: Contract, label: str, *, fixed_columns: bool
) -> ColumnMap:
    """Match a file's columns to the contract.

    For tabular files (CSV header, Parquet schema, query result) a column named in the mapping that the file lacks
    is a spec error, and so is a required field with no column: every row would be quarantined for the same
    reason, which is a mapping mistake, not bad data. JSONL lines carry their own keys, so there a missing key is
    simply an empty value, checked row by row.
    """
    unknown = sorted(set(mapping) - set(contract.names))
    if unknown:
        raise cannot_read(label, f"mapping names unknown contract field(s) {', '.join(unknown)}")
    present = set(columns)
    sources: dict[str, str | None] = {}
    for f in contract.fields:
        src = mapping.get(f.name, f.name)
        if src in present:
            sources[f.name] = src
            continue
        sources[f.name] = None
        if fixed_columns and f.name in mapping:
            raise cannot_read(label, f"no column {src!r} (mapped to field {f.name})")
        if fixed_columns and f.required:
            raise cannot_read(label, f"no column for required field {f.name} (add it to the source's mapping)")
    used = {s for s in sources.values() if s is not None}
    ignored = tuple(c for c in columns if c not in used)
    return ColumnMap(sources=sources, ignored=ignored)
