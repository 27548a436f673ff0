"""Train / validation splits, grouped (no patient, record or dialogue on both sides) and stratified.

A model validated on a patient it trained on looks better than it is: one patient's visits share diagnoses and
wording, and one visit yields six task rows. So the unit of assignment is the `group_key` (patient key for task
rows, the dialogue or conversation id for external rows), never the row. Each group is put in the stratum of its
rows (source x group x task, or source x group x `*` when its rows span several tasks); within a stratum, groups
are taken in seeded-hash order and go to validation while the validation rows stay nearest `fraction` of the
stratum's rows. Upsampled copies and the pieces of a split dialogue share their group, so they follow it.

`leakage` proves it afterwards over every key the rows carry: group, record and original id must each appear in
one split only.
"""

from __future__ import annotations

import polars as pl

from cmedins.mix.sample import seeded_hash

SPLITS = ("train", "validation")


def assign_splits(df: pl.DataFrame, fraction: float, seed: int) -> pl.DataFrame:
    """`df` with a `split` column (train | validation)."""
    groups = (df.group_by("group_key")
                .agg(pl.len().alias("_n"), pl.col("source").min().alias("_source"),
                     pl.col("source_group").min().alias("_sg"), pl.col("task").n_unique().alias("_tasks"),
                     pl.col("task").min().alias("_task"))
                .with_columns(_stratum=pl.concat_str(
                    "_source", "_sg", pl.when(pl.col("_tasks") == 1).then(pl.col("_task").fill_null("-"))
                    .otherwise(pl.lit("*")), separator="/")))
    groups = groups.with_columns(_h=seeded_hash(seed, "split", groups["group_key"].to_list()))
    groups = (groups.sort("_stratum", "_h", "group_key")
                    .with_columns(_before=pl.col("_n").cum_sum().over("_stratum") - pl.col("_n"),
                                  _rows=pl.col("_n").sum().over("_stratum"))
                    .with_columns(split=pl.when(pl.col("_before") + pl.col("_n") / 2 < fraction * pl.col("_rows"))
                                  .then(pl.lit("validation")).otherwise(pl.lit("train"))))
    return df.join(groups.select("group_key", "split"), on="group_key", how="left", maintain_order="left")


LEAK_KEYS: dict[str, pl.Expr] = {
    "group_key": pl.col("group_key"),  # patient (task rows), dialogue / conversation (external rows)
    "record_key": pl.col("record_key"),  # the source record or source row
    "original_id": pl.concat_str("source", "original_id", separator="\x1f"),  # an id is unique within its source
}


def leakage(df: pl.DataFrame) -> dict[str, int]:
    """Per key: how many distinct non-null values occur in both splits (all must be 0)."""
    out = {}
    for name, key in LEAK_KEYS.items():
        both = (df.select(key.alias("_k"), "split").drop_nulls("_k").unique()
                  .group_by("_k").len().filter(pl.col("len") > 1))
        out[name] = both.height
    return out


def cross_split_duplicates(df: pl.DataFrame, key: str = "_text") -> int:
    """Distinct conversation texts found in both splits under different groups: not leakage by the grouping, but
    what decontamination (the clean stage) should look at; reported, not enforced. `key`: a column that is equal
    for equal texts (the stage's 64-bit text key, so the texts need not be held)."""
    both = df.select(key, "split").unique().group_by(key).len().filter(pl.col("len") > 1)
    return both.height


def validation_shares(df: pl.DataFrame) -> dict[str, float]:
    """Validation fraction per stratum (source / task, or source / group for rows without a task)."""
    label = pl.concat_str("source", pl.coalesce("task", "source_group"), separator="/")
    per = (df.group_by(label.alias("stratum"))
             .agg(((pl.col("split") == "validation").sum() / pl.len()).alias("v")).sort("stratum"))
    return dict(per.iter_rows())
