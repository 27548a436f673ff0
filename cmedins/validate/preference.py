"""The gate's checks of the preference table (dpo_row.v1) that the `preference` stage wrote beside the sft rows.

Per pair: the prompt and each answer form a conversation trl can train on (prompt ends with the user, one assistant
message each), chosen differs from rejected, the independent residual identifier scan finds nothing in any text,
and an in-distribution prompt comes from a record of the train split (never validation, never a record this gate
quarantined). With `pii: quarantine`, pairs with findings or from quarantined records are withheld (counted); the
rest must pass. The checked table is written to `work/validate/dpo.parquet`, which `publish` releases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.parquet_io import write_table
from cmedins.validate import buildinfo
from cmedins.validate.rows import messages_problem, residual_findings

DPO_FILE = "dpo.parquet"


def preference_table(work: Path) -> Path | None:
    """The preference stage's table when that stage ran in this build (current code version)."""
    path = work / "preference" / DPO_FILE
    return path if "preference" in buildinfo.manifests(work) and path.is_file() else None


def _texts(df: pl.DataFrame) -> list[str]:
    joined = [pl.col(c).list.eval(pl.element().struct.field("content")).list.join("\n")
              for c in ("prompt", "chosen", "rejected")]
    return df.select(pl.concat_str(joined, separator="\n").alias("t"))["t"].to_list()


def checks(dpo: pl.DataFrame, sft: pa.Table, dates_shifted: bool) -> pl.DataFrame:
    """One row per pair: id and the per-pair check columns."""
    split_of = pl.from_arrow(sft.select(["record_key", "split"]))
    assert isinstance(split_of, pl.DataFrame)
    train = set(split_of.filter(pl.col("split") == "train")["record_key"].to_list())
    validation = set(split_of.filter(pl.col("split") == "validation")["record_key"].to_list())
    problems = []
    for r in dpo.select("prompt", "chosen", "rejected").iter_rows(named=True):
        worst = None
        for answer in ("chosen", "rejected"):
            conv = (r["prompt"] or []) + (r[answer] or [])
            worst = worst or messages_problem([m["role"] for m in conv], [m["content"] for m in conv])
            if len(r[answer] or []) != 1:
                worst = worst or "answer_not_one_message"
        problems.append(worst)
    found = residual_findings(_texts(dpo), dates_shifted=dates_shifted)
    return dpo.select(
        pl.col("id"),
        pl.Series("_problem", problems, dtype=pl.String),
        (pl.col("chosen").list.eval(pl.element().struct.field("content")).list.join("\n")
         != pl.col("rejected").list.eval(pl.element().struct.field("content")).list.join("\n"))
        .cast(pl.Int8).alias("_distinct"),
        pl.Series("_pii", [n for n, _ in found], dtype=pl.Int64),
        pl.Series("_pii_kinds", [k for _, k in found], dtype=pl.String),
        pl.when(pl.col("distribution") == "in")
        .then(pl.col("record_key").is_in(sorted(validation)).cast(pl.Int8)).otherwise(0).alias("_from_validation"),
        pl.when(pl.col("distribution") == "in")
        .then((~pl.col("record_key").is_in(sorted(train))).cast(pl.Int8)).otherwise(0).alias("_not_published"),
    )


def check(work: Path, sft: pa.Table, *, dates_shifted: bool, withhold: bool,
          stats: dict[str, int]) -> tuple[pd.DataFrame, list[Any], Path] | None:
    """The `dpo` suite (frame, expectations) and where the checked table goes; None without a preference stage.

    `sft`: the rows the gate passes, so a pair from a record the gate quarantined counts as `_not_published`."""
    from cmedins.validate.suites import expectation

    source = preference_table(work)
    if source is None:
        return None
    dpo = pl.read_parquet(source)
    checked = checks(dpo, sft, dates_shifted)
    if withhold:
        bad = (checked["_pii"] > 0) | (checked["_not_published"] == 1)
        stats["dpo_withheld:residual_pii"] = int((checked["_pii"] > 0).sum())
        stats["dpo_withheld:record_not_published"] = int(((checked["_not_published"] == 1)
                                                          & (checked["_pii"] == 0)).sum())
        dpo, checked = dpo.filter(~bad), checked.filter(~bad)
    stats["dpo_rows"] = dpo.height
    out = work / "validate" / DPO_FILE
    write_table(dpo.to_arrow().cast(pq.read_schema(source)), out)
    frame = checked.with_columns(pl.col("_problem").is_null().cast(pl.Int8).alias("_well_formed")).to_pandas()
    suite = [
        expectation("ExpectColumnValuesToBeInSet", "dpo_well_formed",
                    "dpo: prompt ends with the user, chosen and rejected are one assistant message each",
                    column="_well_formed", value_set=[1]),
        expectation("ExpectColumnValuesToBeInSet", "dpo_distinct", "dpo: chosen differs from rejected",
                    column="_distinct", value_set=[1]),
        expectation("ExpectColumnValuesToBeInSet", "dpo_residual_pii",
                    "dpo: no identifier found by the independent residual scan", column="_pii", value_set=[0]),
        expectation("ExpectColumnValuesToBeInSet", "dpo_no_validation_prompt",
                    "dpo: no in-distribution prompt from a record of the validation split",
                    column="_from_validation", value_set=[0]),
        expectation("ExpectColumnValuesToBeInSet", "dpo_published_record",
                    "dpo: every in-distribution prompt from a record published in the train split",
                    column="_not_published", value_set=[0]),
    ]
    return frame, suite, out
