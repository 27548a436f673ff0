"""Train/validation splits: the table's own `split` column (the `mix` stage writes one), else a deterministic
90/10 split by patient.

By patient (`patient_key`), not by row: one patient's visits and one visit's six tasks share diagnoses and text,
so a row split would put near-copies of validation rows into training. Without a patient key the record
(`source_record_hash`) is the group, then the row. The choice is a keyed hash of (build seed, group), so it does
not depend on row order, batch size or which other rows exist: a patient stays in the same split across versions.
The gate (`validate`) and the publisher call the same function, so what is checked is what is written.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

FALLBACK_VALIDATION_SHARE = 0.1
GROUP_COLUMNS = ("patient_key", "group_key", "source_record_hash", "id")


def group_column(table: pa.Table) -> str | None:
    """The column rows are grouped by for splitting."""
    return next((c for c in GROUP_COLUMNS if c in table.column_names), None)


def group_keys(table: pa.Table) -> list[str]:
    name = group_column(table)
    if name is None:
        return [str(i) for i in range(table.num_rows)]
    return [str(v) for v in table.column(name).to_pylist()]


def split_of(group: str, seed: int, share: float = FALLBACK_VALIDATION_SHARE) -> str:
    """`validation` for about `share` of groups, else `train`; the same group always gets the same split."""
    digest = hashlib.blake2b(f"{seed}\x1f{group}".encode(), digest_size=8).digest()
    return "validation" if int.from_bytes(digest, "big") < share * 2**64 else "train"


def assign_splits(table: pa.Table, seed: int) -> list[str]:
    """Each row's split: its `split` column when the table has one, else by its group's hash."""
    if "split" in table.column_names:
        return [str(v) for v in table.column("split").to_pylist()]
    cache: dict[str, str] = {}
    out = []
    for g in group_keys(table):
        if g not in cache:
            cache[g] = split_of(g, seed)
        out.append(cache[g])
    return out
