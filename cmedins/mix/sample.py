"""The ratio-controlled mixture: which rows (and how many copies) each group contributes.

1. Every row gets a seeded hash of its id (xxhash of seed + id + copy): the order rows are taken in depends on
   nothing else (not on input order, not on a random state), so the same inputs and seed give the same mixture.
2. Within a group, rows are interleaved across strata (source x task) in proportion to their size, so any prefix of
   the group is a stratified sample of it; a group allowed to upsample gets copies 1, 2... after every original.
3. Each group's availability is capped (`caps`, the upsample factor); the output size is the largest total the
   shares allow (`total` lowers it): T = min over groups of available / share.
4. By examples, group g takes its first round(share x T) rows (largest remainder, so counts sum to T exactly); by
   tokens, it takes rows while their cumulative tokens stay within share x T (a row counts if its midpoint fits).

Everything is Polars expressions over the candidate table; only the hashes are computed in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl
import xxhash

from cmedins.stage import StageError

STRATUM = ("source_group", "source", "task")


def seeded_hash(seed: int, purpose: str, keys: list[str]) -> pl.Series:
    """xxh3-64 of (seed, purpose, key) per key: a stable pseudo-random order that follows the ids."""
    prefix = f"{seed}\x1f{purpose}\x1f"
    return pl.Series([xxhash.xxh3_64_intdigest((prefix + k).encode()) for k in keys], dtype=pl.UInt64)


@dataclass
class Mixture:
    """The selected rows (with `copy`), the input rows left out (copy 0 not selected), and per-group figures."""

    selected: pl.DataFrame
    left_out: pl.DataFrame
    total: float
    targets: dict[str, float] = field(default_factory=dict)  # share per group (normalised)
    achieved: dict[str, float] = field(default_factory=dict)
    available: dict[str, int] = field(default_factory=dict)  # rows before sampling (copies excluded)
    measure: dict[str, int] = field(default_factory=dict)  # rows or tokens taken per group


def largest_remainder(shares: dict[str, float], total: int) -> dict[str, int]:
    """Integer counts proportional to `shares` that sum to `total` exactly (ties broken by group name)."""
    raw = {g: s * total for g, s in shares.items()}
    counts = {g: math.floor(v) for g, v in raw.items()}
    rest = total - sum(counts.values())
    for g in sorted(raw, key=lambda g: (-(raw[g] - counts[g]), g))[:rest]:
        counts[g] += 1
    return counts


def mix(df: pl.DataFrame, shares: dict[str, float], by: str, seed: int, caps: dict[str, int] | None = None,
        upsample: dict[str, float] | None = None, total: int | None = None) -> Mixture:
    """Select the mixture from `df` (one row per candidate: id, source_group, source, task, tokens)."""
    caps, upsample = caps or {}, upsample or {}
    groups = sorted(shares)
    counts = dict(df.group_by("source_group").len().iter_rows())
    empty = [g for g in groups if shares[g] > 0 and not counts.get(g)]
    if empty:
        raise StageError(f"mix: group(s) {', '.join(empty)} have a target share but no rows left to mix")
    factor = {g: float(upsample.get(g, 1.0)) for g in groups}
    copies = pl.DataFrame({"source_group": groups, "_copies": [math.ceil(factor[g]) for g in groups],
                           "_limit": [min(math.floor(counts.get(g, 0) * factor[g]), caps.get(g, 1 << 62))
                                      for g in groups]})
    cand = (df.join(copies, on="source_group", how="left", maintain_order="left")
              .with_columns(copy=pl.int_ranges(0, pl.col("_copies"), dtype=pl.Int32)).explode("copy"))
    cand = cand.with_columns(_h=seeded_hash(seed, "mix", [f"{i}\x1f{c}" for i, c in
                                                          zip(cand["id"], cand["copy"], strict=True)]))
    stratum = list(STRATUM)
    cand = (cand.sort("copy", "_h", "id")
                .with_columns(_key=(pl.int_range(pl.len()).over(stratum) + 0.5) / pl.len().over(stratum))
                .sort("source_group", "_key", "_h", "id")
                .with_columns(_pos=pl.int_range(pl.len()).over("source_group"))
                .filter(pl.col("_pos") < pl.col("_limit")))
    unit = pl.lit(1, dtype=pl.Int64) if by == "examples" else pl.col("tokens").cast(pl.Int64)
    cand = cand.with_columns(_m=unit).with_columns(_cum=pl.col("_m").cum_sum().over("source_group"))
    available = dict(cand.group_by("source_group").agg(pl.col("_m").sum()).iter_rows())
    grand = min(available.get(g, 0) / s for g, s in shares.items() if s > 0)
    if total is not None:
        grand = min(grand, float(total))
    if by == "examples":
        want = largest_remainder(shares, math.floor(grand))
        take = pl.col("_pos") < pl.col("source_group").replace_strict(want, return_dtype=pl.Int64)
    else:
        want_tokens = {g: s * grand for g, s in shares.items()}
        take = (pl.col("_cum") - pl.col("_m") / 2) <= pl.col("source_group").replace_strict(
            want_tokens, return_dtype=pl.Float64)
    cand = cand.with_columns(_take=take)
    selected = cand.filter("_take")
    chosen = selected.filter(pl.col("copy") == 0).select("id")
    left_out = df.join(chosen, on="id", how="anti", maintain_order="left")
    taken = dict(selected.group_by("source_group").agg(pl.col("_m").sum()).iter_rows())
    out_total = sum(taken.values()) or 1
    return Mixture(
        selected=selected.drop("_copies", "_limit", "_h", "_key", "_pos", "_m", "_cum", "_take"),
        left_out=left_out, total=grand, targets=dict(shares),
        achieved={g: taken.get(g, 0) / out_total for g in groups},
        available={g: counts.get(g, 0) for g in groups}, measure={g: int(taken.get(g, 0)) for g in groups},
    )
