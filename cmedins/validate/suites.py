"""Great Expectations suites for a publishable table, derived from its contract (`schemas/`) and the gate's rules.

Great Expectations runs over a *check frame*: row ids, enum columns, lengths and the `_chk_*` columns of
`rows.py` — never over raw text, so no value of a patient's text can reach the result, the report or a log. Its
result is still trimmed to row ids (`sanitised`) before it is written, in case an enum column held garbage.

Suites:
- `schema`: the table's columns are exactly its contract's (when the contract is known);
- `rows`: ids present and unique; required fields present and non-empty; enum fields in their sets; lengths within
  bounds; messages well-formed; no residual identifier; the instruction-quality rules within their thresholds;
  splits in {train, validation}, the validation share in bounds, no group (patient) in two splits; every record in
  a k-anonymity class of at least k;
- `accounting`: every stage of the build accounts for each of its input rows, and records read = records
  published + records quarantined (from the stages' manifests).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa

from cmedins.contracts import Contract
from cmedins.validate.rows import PREFIX, RULES

SPLITS = ("train", "validation")
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
RULE_LABELS = {
    "placeholder": "answers hold no de-identification placeholder",
    "leak": "answer not readable in the query (diagnosis, triage)",
    "ungrounded": "summary states only facts of the query",
    "unsafe": "no drug of a class the patient is allergic to",
    "icd10": "ICD-10 codes well-formed",
}


@dataclass(frozen=True)
class Limits:
    """The gate's thresholds (the `validate` stage config carries them)."""

    max_user_chars: int = 20_000
    max_answer_chars: int = 8_000
    max_share: dict[str, float] = field(default_factory=dict)  # quality rule -> largest share of its task's rows
    validation_share: tuple[float, float] = (0.05, 0.2)
    k: int = 5
    sources: tuple[str, ...] = ()  # allowed `source` values; empty: any


@dataclass
class Failure:
    """One failed expectation, in words a person can act on: which rule, how many rows, which row ids."""

    suite: str
    rule: str
    label: str
    unexpected: int | None
    total: int | None
    examples: list[str]
    detail: str = ""

    def line(self) -> str:
        rows = "" if self.unexpected is None else f": {self.unexpected:,} of {self.total:,} rows"
        eg = f", e.g. {', '.join(self.examples)}" if self.examples else ""
        return f"{self.label} [{self.rule}]{rows}{self.detail}{eg}"


def check_frame(table: pa.Table, contract: Contract | None, *, splits: list[str], groups: list[str],
                kclass: list[int | None]) -> pd.DataFrame:
    """The columns the `rows` suite reads: ids, enums, lengths, check columns, split, group splits, class size."""
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    cols: list[pl.Expr] = [pl.col("id").cast(pl.String) if "id" in df.columns else pl.lit(None, pl.String).alias("id")]
    if contract is not None:
        for f in contract.fields:
            if f.name not in df.columns or f.name == "id":
                continue
            if f.enum:
                cols.append(pl.col(f.name).cast(pl.String))
            if f.type == "string":
                cols.append(pl.col(f.name).str.len_chars().cast(pl.Int64).alias(f"_len_{f.name}"))
            elif f.type.startswith("list"):
                cols.append(pl.col(f.name).list.len().cast(pl.Int64).alias(f"_len_{f.name}"))
    if "source" in df.columns and not any(c.meta.output_name() == "source" for c in cols):
        cols.append(pl.col("source").cast(pl.String))
    cols += [pl.col(c) for c in df.columns if c.startswith(PREFIX) and c not in (f"{PREFIX}digest",)]
    frame = df.select(cols).with_columns(
        pl.Series("_split", splits, dtype=pl.String),
        pl.Series("_group", groups, dtype=pl.String),
        pl.Series("_kclass", kclass, dtype=pl.Int64),
    ).with_columns(
        (pl.col("_split") == "validation").cast(pl.Int8).alias("_is_validation"),
        pl.col("_split").n_unique().over("_group").cast(pl.Int64).alias("_group_splits"),
    ).drop("_group")
    return frame.to_pandas()


def expectation(cls_name: str, rule: str, label: str, **kwargs: Any) -> Any:
    import great_expectations.expectations as gxe

    return getattr(gxe, cls_name)(meta={"rule": rule, "label": label}, **kwargs)


def row_expectations(frame: pd.DataFrame, contract: Contract | None, limits: Limits) -> list[Any]:
    """The `rows` suite, from the contract's fields and the rules."""
    e = expectation
    ex = [
        e("ExpectTableRowCountToBeBetween", "not_empty", "the table has rows", min_value=1),
        e("ExpectColumnValuesToNotBeNull", "id_present", "every row has an id", column="id"),
        e("ExpectColumnValuesToBeUnique", "id_unique", "row ids are unique", column="id"),
    ]
    if contract is not None:
        for f in contract.fields:
            length = f"_len_{f.name}"
            if f.required and length in frame.columns:
                ex.append(e("ExpectColumnValuesToNotBeNull", f"required:{f.name}", f"{f.name} is present",
                            column=length))
                ex.append(e("ExpectColumnValuesToBeBetween", f"non_empty:{f.name}", f"{f.name} is not empty",
                            column=length, min_value=1))
            if f.enum and f.name in frame.columns:
                ex.append(e("ExpectColumnValuesToBeInSet", f"enum:{f.name}", f"{f.name} in {list(f.enum)}",
                            column=f.name, value_set=list(f.enum)))
            if f.max_chars and length in frame.columns:
                ex.append(e("ExpectColumnValuesToBeBetween", f"max_chars:{f.name}",
                            f"{f.name} at most {f.max_chars} characters", column=length, max_value=f.max_chars))
    if limits.sources and "source" in frame.columns:
        ex.append(e("ExpectColumnValuesToBeInSet", "enum:source", f"source in {list(limits.sources)}",
                    column="source", value_set=list(limits.sources)))
    c = PREFIX
    ex += [
        e("ExpectColumnValuesToBeNull", "messages_well_formed",
          "messages: optional system, then user/assistant alternating, ending with the assistant, none empty",
          column=f"{c}messages"),
        e("ExpectColumnValuesToBeBetween", "user_length", f"user text 1..{limits.max_user_chars} characters",
          column=f"{c}user_chars", min_value=1, max_value=limits.max_user_chars),
        e("ExpectColumnValuesToBeBetween", "answer_length", f"answer 1..{limits.max_answer_chars} characters",
          column=f"{c}answer_chars", min_value=1, max_value=limits.max_answer_chars),
        e("ExpectColumnValuesToBeInSet", "residual_pii", "no identifier found by the independent residual scan",
          column=f"{c}pii", value_set=[0]),
    ]
    for rule in RULES:
        share = float(limits.max_share.get(rule, 0.0))
        kwargs: dict[str, Any] = {"mostly": round(1.0 - share, 6)} if share > 0 else {}
        label = RULE_LABELS[rule] + (f" (at most {share:.1%} of rows)" if share > 0 else "")
        ex.append(e("ExpectColumnValuesToBeInSet", f"quality:{rule}", label, column=f"{c}{rule}",
                    value_set=[False], **kwargs))
    lo, hi = limits.validation_share
    ex += [
        e("ExpectColumnValuesToBeInSet", "split_values", f"split in {list(SPLITS)}", column="_split",
          value_set=list(SPLITS)),
        e("ExpectColumnMeanToBeBetween", "split_share", f"validation share within {lo:.0%}..{hi:.0%}",
          column="_is_validation", min_value=lo, max_value=hi),
        e("ExpectColumnValuesToBeInSet", "split_leakage", "no patient / group in two splits",
          column="_group_splits", value_set=[1]),
        e("ExpectColumnValuesToBeBetween", "k_anonymity",
          f"every record in a class of at least k={limits.k} individuals over its quasi-identifiers",
          column="_kclass", min_value=limits.k),
    ]
    return ex


def _silence() -> None:
    """GX logs and draws progress bars on stderr; the build owns the console."""
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.ERROR)


def run_suites(frames: dict[str, tuple[pd.DataFrame, list[Any], str]]) -> dict[str, Any]:
    """Run each suite (name -> (frame, expectations, id column)) in one ephemeral context; returns the results'
    JSON by suite. Ephemeral, in-memory stores, no data-docs site, analytics off: nothing is written to disk and
    nothing is sent anywhere."""
    _silence()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
    context = gx.get_context(mode="ephemeral", project_config=config)
    source = context.data_sources.add_pandas("cmedins")
    out: dict[str, Any] = {}
    for name, (frame, expectations, id_column) in frames.items():
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        vd = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        fmt = {**RESULT_FORMAT, "unexpected_index_column_names": [id_column]} if len(frame.columns) else RESULT_FORMAT
        out[name] = vd.run(batch_parameters={"dataframe": frame}, result_format=fmt).to_json_dict()
    return out


def sanitised(results: dict[str, Any], id_columns: dict[str, str]) -> dict[str, Any]:
    """The results with every cell value dropped except row ids (and the observed value of table-level
    expectations, a number), and without run ids, times or uuids: what may go into the build report, the same
    bytes for the same rows."""
    drop = {"partial_unexpected_list", "partial_unexpected_counts", "unexpected_list", "unexpected_index_query",
            "details"}
    clean: dict[str, Any] = {}
    for suite, res in results.items():
        res = dict(res)
        # run ids, times and uuids would make two builds' results differ: keep the GX version only
        res["meta"] = {"great_expectations_version": (res.get("meta") or {}).get("great_expectations_version")}
        res.pop("id", None)
        items = []
        for r in res.get("results", []):
            r = dict(r)
            r["expectation_config"] = {k: v for k, v in (r.get("expectation_config") or {}).items() if k != "id"}
            result = {k: v for k, v in (r.get("result") or {}).items() if k not in drop}
            id_col = id_columns.get(suite, "id")
            if "partial_unexpected_index_list" in result:
                result["partial_unexpected_index_list"] = [
                    {id_col: item.get(id_col)} if isinstance(item, dict) else item
                    for item in result["partial_unexpected_index_list"]]
            if isinstance(result.get("observed_value"), str | list | dict):
                result["observed_value"] = None if not isinstance(result["observed_value"], list) else [
                    v for v in result["observed_value"] if isinstance(v, str) and len(v) < 64]
            r["result"] = result
            r["exception_info"] = {"raised_exception": bool((r.get("exception_info") or {}).get("raised_exception"))}
            items.append(r)
        res["results"] = items
        clean[suite] = res
    return clean


def failures(results: dict[str, Any], id_columns: dict[str, str]) -> list[Failure]:
    """The failed expectations, in suite order, as `Failure`s."""
    out: list[Failure] = []
    for suite, res in results.items():
        for r in res.get("results", []):
            if r.get("success"):
                continue
            cfg = r.get("expectation_config") or {}
            meta = cfg.get("meta") or {}
            result = r.get("result") or {}
            id_col = id_columns.get(suite, "id")
            examples = [str(item.get(id_col))[:12] for item in result.get("partial_unexpected_index_list") or []
                        if isinstance(item, dict)][:3]
            detail = ""
            observed = result.get("observed_value")
            if isinstance(observed, int | float) and not isinstance(observed, bool) and not math.isnan(observed):
                detail = f" (observed {observed:.4g})"
            exc = (r.get("exception_info") or {})
            if exc.get("raised_exception"):
                detail += " (could not be evaluated)"
            total = result.get("element_count")
            if total is not None and result.get("missing_count"):  # rows a rule does not apply to (null)
                total -= result["missing_count"]
            out.append(Failure(suite=suite, rule=str(meta.get("rule", cfg.get("type"))),
                               label=str(meta.get("label", cfg.get("type"))),
                               unexpected=result.get("unexpected_count"), total=total,
                               examples=examples, detail=detail))
    return out
