"""Mixture shares of a mixed table (sft_row.v1), and restoring them after a later stage removed rows.

The mixture is drawn by `mix`, but stages after it remove rows: `kanon` quarantines the task rows of records it
cannot generalise, `validate` (with `pii: quarantine`) the records with residual identifiers. Removing rows of one
group shifts every group's share: in the default build, k-anonymity alone moved the task rows from 60% to 58.2%.
`rebalance` withholds rows of the other groups, in proportion and in a seeded order, so that the shares the table
had before the removal hold again. Withholding rows is always safe for privacy (no class grows smaller than it was
in the part of the table that stays) and the withheld rows are quarantined with a reason, so nothing is lost
silently.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from cmedins.mix.sample import largest_remainder, seeded_hash

GROUP = "source_group"


def _frame(table: pa.Table | pl.DataFrame) -> pl.DataFrame:
    df = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df


def _unit(df: pl.DataFrame, by: str) -> pl.Expr:
    """Each row's measure: its tokens, or 1 (a column, so that sums over groups count rows)."""
    if by == "tokens" and "tokens" in df.columns:
        return pl.col("tokens").cast(pl.Int64)
    return pl.repeat(1, pl.len(), dtype=pl.Int64)


def measure(table: pa.Table | pl.DataFrame, by: str = "examples") -> dict[str, int]:
    """Rows (`examples`) or approximate tokens (`tokens`) per source group."""
    df = _frame(table)
    if GROUP not in df.columns or df.height == 0:
        return {}
    agg = pl.col("tokens").cast(pl.Int64).sum() if by == "tokens" and "tokens" in df.columns else pl.len()
    return {g: int(n) for g, n in df.group_by(GROUP).agg(agg).sort(GROUP).iter_rows()}


def shares(table: pa.Table | pl.DataFrame, by: str = "examples") -> dict[str, float]:
    """Share of each source group in the table, by rows or by tokens."""
    m = measure(table, by)
    total = sum(m.values())
    return {g: n / total for g, n in m.items()} if total else {}


def _validation_cuts(df: pl.DataFrame, cuts: dict[str, int], validation_share: float) -> dict[str, int]:
    """How many of each group's cut rows come from the validation split, so that the table's validation share
    returns to `validation_share` (the removal that called for the rebalance may have taken more of one split):
    the validation rows to cut are spread over the groups in proportion to their cuts, within what each has."""
    valid = dict(df.filter(pl.col("split") == "validation").group_by(GROUP).len().iter_rows())
    final = df.height - sum(cuts.values())
    surplus = sum(valid.values()) - round(validation_share * final)
    total = sum(cuts.values())
    if total == 0:
        return {}
    want = largest_remainder({g: c / total for g, c in cuts.items()}, min(max(surplus, 0), total))
    return {g: min(want[g], cuts[g], valid.get(g, 0)) for g in cuts}


def rebalance(table: pa.Table, targets: dict[str, float], by: str, seed: int,
              validation_share: float | None = None) -> list[int]:
    """Row positions to withhold so that the table's shares return to `targets` (shares of the groups present).

    The table can keep at most T = min over groups of (what the group has) / (its target) in total: the group that
    sets T keeps all its rows and every other group is cut to its target x T. Within a group, rows are withheld
    from the splits so that the table's validation share returns to `validation_share` (by examples; otherwise in
    proportion to each split's size), lowest seeded hash of the row id first. By tokens, a group drops rows until
    its tokens fit (rows are whole: within one row of the target).
    """
    df = _frame(table).with_row_index("_pos")
    if GROUP not in df.columns or df.height == 0:
        return []
    have = measure(df, by)
    wanted = {g: s for g, s in targets.items() if s > 0 and g in have}
    if not wanted:
        return []
    norm = sum(wanted.values())
    wanted = {g: s / norm for g, s in wanted.items()}
    # the group with the least to spare keeps every row: it is the one rows were taken from, and cutting more of
    # it (task rows) could change what its records reveal
    limiting = min(wanted, key=lambda g: (have[g] / wanted[g], g))
    grand = have[limiting] / wanted[limiting]
    keep = {g: min(have[g], round(s * grand)) for g, s in wanted.items()}
    keep[limiting] = have[limiting]
    split_col = "split" if "split" in df.columns else None
    df = df.with_columns(_h=seeded_hash(seed, "rebalance", df["id"].cast(pl.String).to_list()), _m=_unit(df, by))
    cuts = {g: have[g] - keep[g] for g in wanted if have[g] > keep[g]}
    by_validation = (_validation_cuts(df, cuts, validation_share)
                     if by == "examples" and split_col and validation_share is not None else None)
    withheld: list[int] = []
    for group, rows in df.partition_by(GROUP, as_dict=True).items():
        g = group[0]
        cut = cuts.get(g, 0)
        if cut <= 0:
            continue
        parts = rows.partition_by(split_col, as_dict=True) if split_col else {("all",): rows}
        if by_validation is not None:
            part_cut = {"validation": by_validation[g], "train": cut - by_validation[g]}
        else:
            part_cut = largest_remainder({str(k[0]): p["_m"].sum() / have[g] for k, p in parts.items()}, cut)
        for key, part in sorted(parts.items(), key=lambda kv: str(kv[0][0])):
            ordered = part.sort("_h", "id").with_columns(_cum=pl.col("_m").cum_sum())
            need = part_cut.get(str(key[0]), 0)
            # the rows whose cumulative measure reaches `need`: exactly `need` rows by examples
            n = ordered.filter(pl.col("_cum") - pl.col("_m") < need).height
            withheld += ordered["_pos"].head(n).to_list()
    return sorted(withheld)
