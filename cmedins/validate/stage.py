"""The `kanon`, `validate_rows` and `validate` build stages (see the package docstring).

None declares a contract: they run after the task rows (task_row.v1) or the mixed rows (sft_row.v1) alike, and
read the contract the table's schema names (`contract` metadata) to derive the suites.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from cmedins.contracts import Contract, load_contract
from cmedins.parquet_io import write_text
from cmedins.publish.splits import assign_splits, group_keys
from cmedins.stage import StageContext, StageError, StageOutput, quarantine_rows, register_stage, reject
from cmedins.validate import buildinfo
from cmedins.validate.rows import CHECK_COLUMNS, PREFIX, RULES, messages_digest, with_checks, without_checks

DEFAULT_MAX_SHARE: dict[str, float] = {"placeholder": 0.0, "leak": 0.02, "ungrounded": 0.01, "unsafe": 0.0,
                                       "icd10": 0.0}
TASK_ROW_SOURCES = ("records", "chip-cdee", "chip-cdn")
PII_ACTIONS = ("stop", "quarantine")


class ValidationFailed(StageError):
    """The gate refused the table: one line naming each failed expectation, its row count and example row ids."""


# ---- kanon ------------------------------------------------------------------------------------------------------


@dataclass
class KanonConfig:
    """k-anonymity over the quasi-identifiers the rows still carry (department; sex, age and visit year as stated
    in the text). Records in classes of fewer than `k` individuals are generalised (5-, 10-, 20-year age bands,
    visit year dropped) and quarantined (reason k_anonymity) when no level gives a class of k.

    k: the smallest class size, in distinct patients (default 5).
    keep_shares: on mixed rows (sft_row.v1), withhold rows of the other source groups (reason `rebalanced`) so
      that the mixture's shares are what they were before records were quarantined (default true).
    """

    k: int = 5
    keep_shares: bool = True

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("kanon: k must be at least 1")


@register_stage("kanon", config=KanonConfig, kind="reduce")
def kanon_stage(table: pa.Table, config: KanonConfig, ctx: StageContext) -> StageOutput:
    """Generalise (age bands, year dropped) or quarantine records until every class holds k individuals."""
    from cmedins.validate.kanon import anonymise

    res = anonymise(table, config.k)
    suppressed = set(res.suppressed_rows)
    rejects: list[dict] = []
    stats: dict[str, int] = {}
    ids = table.column("id").to_pylist() if "id" in table.column_names else [None] * table.num_rows
    for i in res.suppressed_rows:
        reject(rejects, stats, stage="kanon", source="input", row=ctx.row_offset + i + 1, reason="k_anonymity",
               key=ids[i], message=f"input row {ctx.row_offset + i + 1}: its record is in a class of fewer than "
                                   f"{config.k} patients at every generalisation level")
    kept = res.table.filter(pa.array([i not in suppressed for i in range(table.num_rows)])) if suppressed \
        else res.table
    if suppressed and config.keep_shares:
        positions = [i for i in range(table.num_rows) if i not in suppressed]
        kept, _ = keep_shares(table, kept, positions, rejects, stats, ctx, "kanon")
    stats.update({f"kanon_level:{k}": v for k, v in res.levels.items() if v})
    stats.update({f"kanon_class:{k}": v for k, v in res.class_sizes.items() if v})
    stats.update({f"kanon_qi:{k}": v for k, v in res.qis.items()})
    stats.update({"records_in_scope": res.records_in_scope, "rows_generalised": res.rows_rewritten})
    summary = {"k": res.k, "records_in_scope": res.records_in_scope, "levels": res.levels,
               "class_sizes": res.class_sizes, "quasi_identifiers": res.qis, "rows_rewritten": res.rows_rewritten,
               "rows_quarantined": len(suppressed), "output_ids": buildinfo.id_digest(kept)}
    write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n", ctx.workdir / "kanon.json")
    return StageOutput(kept=kept, quarantined=quarantine_rows(rejects), stats=dict(sorted(stats.items())))


def keep_shares(table: pa.Table, kept: pa.Table, positions: list[int], rejects: list[dict], stats: dict[str, int],
                ctx: StageContext, stage: str) -> tuple[pa.Table, list[int]]:
    """After `stage` quarantined some rows of a mixed table, withhold rows of the other mixture groups (reason
    `rebalanced`) so that the input's shares, by the mixture's measure, hold again. `positions`: the input row of
    each kept row. Returns the table and the positions of the rows still kept."""
    from cmedins.mix.shares import GROUP, rebalance, shares

    if GROUP not in table.column_names or kept.num_rows == table.num_rows:
        return kept, positions
    by = buildinfo.mix_measure(buildinfo.out_dir(ctx) / "work")
    share = (sum(1 for v in table.column("split").to_pylist() if v == "validation") / table.num_rows
             if "split" in table.column_names and table.num_rows else None)
    withheld = set(rebalance(kept, shares(table, by), by, ctx.seed, validation_share=share))
    if not withheld:
        return kept, positions
    ids, groups = kept.column("id").to_pylist(), kept.column(GROUP).to_pylist()
    for i in sorted(withheld):
        row = ctx.row_offset + positions[i] + 1
        reject(rejects, stats, stage=stage, source="input", row=row, reason="rebalanced", key=ids[i],
               message=f"input row {row} ({groups[i]}): withheld to keep the mixture's shares after {stage} "
                       "quarantined rows of another group")
    keep = [i not in withheld for i in range(kept.num_rows)]
    return kept.filter(pa.array(keep)), [p for p, k in zip(positions, keep, strict=True) if k]


# ---- validate_rows ----------------------------------------------------------------------------------------------


@dataclass
class ValidateRowsConfig:
    """The gate's per-row checks (residual identifiers, messages, lengths, quality rules) as `_chk_*` columns,
    computed batch by batch in the worker pool; `validate` reads them instead of computing them itself.

    dates_shifted: full dates are expected in text (deid date_mode shift); default: read from the deid stage.
    """

    dates_shifted: bool | None = None


def _dates_shifted(option: bool | None, ctx: StageContext) -> bool:
    return option if option is not None else buildinfo.dates_shifted(buildinfo.out_dir(ctx) / "work")


@register_stage("validate_rows", config=ValidateRowsConfig, kind="map")
def validate_rows_stage(table: pa.Table, config: ValidateRowsConfig, ctx: StageContext) -> StageOutput:
    """The input rows with their `_chk_*` columns appended."""
    checked = with_checks(table, dates_shifted=_dates_shifted(config.dates_shifted, ctx))
    return StageOutput(kept=checked, stats={"rows_checked": table.num_rows})


# ---- validate ---------------------------------------------------------------------------------------------------


@dataclass
class ValidateConfig:
    """The gate: Great Expectations suites from the table's contract and the rules; any failure stops the build
    before publishing, with one line per failed expectation (rows, example ids) and the full result in
    work/validate/validation.json.

    max_share: per quality rule (placeholder, leak, ungrounded, unsafe, icd10), the largest share of its task's rows
        it may flag (default 0, except leak 2% and ungrounded 1%).
    max_user_chars / max_answer_chars: length bounds of the user and assistant text.
    min_validation_share / max_validation_share: bounds of the validation split's share of rows.
    k: every record must sit in a class of at least k patients; default: the kanon stage's k (5 without one).
    sources: allowed `source` values (default for task rows: records, chip-cdee, chip-cdn; otherwise any).
    pii: `stop` (default): a residual identifier stops the build; `quarantine`: every row of its record is
        quarantined (reason residual_pii; classes that fall below k follow, reason k_anonymity), the build goes on.
    dates_shifted: as for validate_rows.
    """

    max_share: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MAX_SHARE))
    max_user_chars: int = 20_000
    max_answer_chars: int = 8_000
    min_validation_share: float = 0.05
    max_validation_share: float = 0.2
    k: int | None = None
    sources: list[str] | None = None
    pii: str = "stop"
    dates_shifted: bool | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.max_share) - set(RULES))
        if unknown:
            raise ValueError(f"validate: unknown rule(s) in max_share: {', '.join(unknown)}; known: {list(RULES)}")
        if self.pii not in PII_ACTIONS:
            raise ValueError(f"validate: pii must be one of {', '.join(PII_ACTIONS)}")
        self.max_share = {**DEFAULT_MAX_SHARE, **self.max_share}


def table_contract(table: pa.Table) -> Contract | None:
    """The contract the table's schema names (`contract: task_row.v1`), or None when unknown or not shipped."""
    raw = (table.schema.metadata or {}).get(b"contract", b"").decode()
    if ".v" not in raw:
        return None
    name, _, version = raw.rpartition(".v")
    try:
        return load_contract(name, int(version))
    except (OSError, ValueError, KeyError):
        return None


def _checked(table: pa.Table, dates_shifted: bool) -> tuple[pa.Table, bool]:
    """The table with trustworthy check columns: those `validate_rows` computed when they still match their rows
    (digest), else computed here. Returns (table, recomputed)."""
    if all(c in table.column_names for c in CHECK_COLUMNS):
        import polars as pl

        df = pl.from_arrow(table.select(["messages", f"{PREFIX}digest"]))
        assert isinstance(df, pl.DataFrame)
        msgs = df.select(pl.col("messages").list.eval(pl.element().struct.field("role")).alias("r"),
                         pl.col("messages").list.eval(pl.element().struct.field("content")).alias("c"))
        digests = [messages_digest(r, c) for r, c in zip(msgs["r"].to_list(), msgs["c"].to_list(), strict=True)]
        if digests == df[f"{PREFIX}digest"].to_list():
            return table, False
    return with_checks(table, dates_shifted=dates_shifted), True


def _kanon_k(work: Path) -> int:
    """The k of this build's kanon stage, or 5 when none ran."""
    if "kanon" in buildinfo.manifests(work):
        try:
            return int(json.loads((work / "kanon" / "kanon.json").read_text(encoding="utf-8"))["k"])
        except (OSError, ValueError, KeyError):
            pass
    return 5


def _quarantine_pii(checked: pa.Table, rejects: list[dict], stats: dict[str, int], ctx: StageContext,
                    positions: list[int]) -> tuple[pa.Table, list[int]]:
    """Quarantine every row of each record in which the residual scan found something (reason residual_pii):
    the de-identifier missed an identifier there, and the record's other rows may hold it in another form."""
    pii = checked.column(f"{PREFIX}pii").to_pylist()
    if not any(pii):
        return checked, positions
    record_col = next((c for c in ("source_record_hash", "record_key", "id") if c in checked.column_names), None)
    records = checked.column(record_col).to_pylist() if record_col else list(range(checked.num_rows))
    bad = {records[i] for i, n in enumerate(pii) if n}
    kinds = checked.column(f"{PREFIX}pii_kinds").to_pylist()
    ids = checked.column("id").to_pylist()
    for i, rec in enumerate(records):
        if rec in bad:
            why = f"residual scan found {kinds[i]}" if pii[i] else "another row of its record holds a finding"
            row = ctx.row_offset + positions[i] + 1
            reject(rejects, stats, stage="validate", source="input", row=row, reason="residual_pii", key=ids[i],
                   field="messages", message=f"input row {row}: {why}")
    keep = [rec not in bad for rec in records]
    return checked.filter(pa.array(keep)), [p for p, k in zip(positions, keep, strict=True) if k]


def _requarantine_small_classes(checked: pa.Table, k: int, rejects: list[dict], stats: dict[str, int],
                                ctx: StageContext, positions: list[int]) -> tuple[pa.Table, list[int]]:
    """After records were quarantined here, the classes they left may hold fewer than k patients: quarantine those
    classes' records too (reason k_anonymity). One pass is enough: removing a whole class changes no other."""
    from cmedins.validate.kanon import published_classes

    classes = published_classes(without_checks(checked))
    small = {r for rows, size in classes.select("row", "class_size").iter_rows() if size < k for r in rows}
    if not small:
        return checked, positions
    ids = checked.column("id").to_pylist()
    for i in sorted(small):
        row = ctx.row_offset + positions[i] + 1
        reject(rejects, stats, stage="validate", source="input", row=row, reason="k_anonymity", key=ids[i],
               message=f"input row {row}: its class fell below {k} patients when records with residual "
                       "identifiers were quarantined")
    keep = [i not in small for i in range(checked.num_rows)]
    return checked.filter(pa.array(keep)), [p for p, k in zip(positions, keep, strict=True) if k]


def _mixture_frame(rows: pa.Table, work: Path) -> tuple[Any, float] | None:
    """One row per mixture group: the recipe's target share, the share in `rows` and the gap; None when the table
    is not mixed rows or no mix stage ran."""
    import pandas as pd

    from cmedins.mix.shares import GROUP, shares

    found = buildinfo.mix_targets(work)
    if found is None or GROUP not in rows.column_names:
        return None
    targets, tolerance = found
    achieved = shares(rows, buildinfo.mix_measure(work))
    groups = sorted(set(targets) | set(achieved))
    frame = pd.DataFrame({"group": groups, "target": [targets.get(g, 0.0) for g in groups],
                          "achieved": [achieved.get(g, 0.0) for g in groups]})
    frame["deviation"] = (frame["achieved"] - frame["target"]).abs()
    return frame, tolerance


def _write_results(workdir: Path, summary: dict[str, Any], results: dict[str, Any], lines: list[str]) -> None:
    write_text(json.dumps({**summary, "results": results}, indent=2, sort_keys=True, ensure_ascii=False,
                          default=str) + "\n", workdir / "validation.json")
    md = ["# Validation gate", "", f"- expectations: {summary['evaluated']} evaluated, {summary['failed']} failed",
          f"- rows: {summary['rows']:,}", ""]
    md += [f"- FAILED {line}" for line in lines] or ["All expectations passed."]
    write_text("\n".join(md) + "\n", workdir / "validation.md")


@register_stage("validate", config=ValidateConfig, kind="reduce")
def validate_stage(table: pa.Table, config: ValidateConfig, ctx: StageContext) -> StageOutput:
    """Run the suites over the table; pass it through unchanged (less the check columns) or stop the build."""
    import pandas as pd

    from cmedins.validate.kanon import published_classes
    from cmedins.validate.suites import Limits, check_frame, failures, row_expectations, run_suites, sanitised

    work = buildinfo.out_dir(ctx) / "work"
    k = config.k or _kanon_k(work)
    checked, recomputed = _checked(table, _dates_shifted(config.dates_shifted, ctx))
    stats: dict[str, int] = {"checks_recomputed": int(recomputed)}
    rejects: list[dict] = []
    if config.pii == "quarantine":
        before = checked.num_rows
        checked, positions = _quarantine_pii(checked, rejects, stats, ctx, list(range(checked.num_rows)))
        if checked.num_rows < before:
            checked, positions = _requarantine_small_classes(checked, k, rejects, stats, ctx, positions)
            checked, positions = keep_shares(table, checked, positions, rejects, stats, ctx, "validate")
    rows = without_checks(checked)
    contract = table_contract(rows)
    classes = published_classes(rows)
    kclass: list[int | None] = [None] * rows.num_rows
    for row_ids, size in classes.select("row", "class_size").iter_rows():
        for r in row_ids:
            kclass[r] = int(size)
    limits = Limits(max_user_chars=config.max_user_chars, max_answer_chars=config.max_answer_chars,
                    max_share=config.max_share, k=k,
                    validation_share=(config.min_validation_share, config.max_validation_share),
                    sources=tuple(config.sources if config.sources is not None else
                                  (TASK_ROW_SOURCES if contract is not None and contract.name == "task_row" else ())))
    frame = check_frame(checked, contract, splits=assign_splits(rows, ctx.seed), groups=group_keys(rows),
                        kclass=kclass)
    suites: dict[str, tuple[pd.DataFrame, list[Any], str]] = {
        "rows": (frame, row_expectations(frame, contract, limits), "id")}
    if contract is not None:
        from cmedins.validate.suites import expectation

        schema_frame = pd.DataFrame({name: pd.Series([], dtype="object") for name in rows.column_names})
        suites["schema"] = (schema_frame, [expectation("ExpectTableColumnsToMatchSet", "schema",
                                              f"columns are exactly those of {contract.name}.v{contract.version}",
                                              column_set=contract.names, exact_match=True)], "id")
    from cmedins.validate import preference

    dpo = preference.check(work, rows, dates_shifted=_dates_shifted(config.dates_shifted, ctx),
                           withhold=config.pii == "quarantine", stats=stats)
    if dpo is not None:
        suites["dpo"] = (dpo[0], dpo[1], "id")
    mixture = _mixture_frame(rows, work)
    if mixture is not None:
        frame_m, tolerance = mixture
        suites["mixture"] = (frame_m, [expectation(
            "ExpectColumnValuesToBeBetween", "mixture_shares",
            f"every source group's share within {tolerance:.1%} of the recipe's target",
            column="deviation", max_value=tolerance)], "group")
        for g, target, achieved in frame_m[["group", "target", "achieved"]].itertuples(index=False):
            stats[f"published_share_bp:{g}:target"] = round(target * 10_000)
            stats[f"published_share_bp:{g}:achieved"] = round(achieved * 10_000)
    accounting = buildinfo.stage_accounting(work, before="validate")
    if accounting:
        acc_frame = pd.DataFrame(accounting)
        suites["accounting"] = (acc_frame, [expectation("ExpectColumnValuesToBeInSet", "accounting",
                                                "every stage accounts for each input row (kept or quarantined)",
                                                column="accounted", value_set=[True])], "stage")
    id_columns = {name: id_col for name, (_, _, id_col) in suites.items()}
    results = sanitised(run_suites(suites), id_columns)
    failed = failures(results, id_columns)
    evaluated = sum(len(r.get("results", [])) for r in results.values())
    for suite in results.values():
        for r in suite.get("results", []):
            n = (r.get("result") or {}).get("unexpected_count")
            rule = ((r.get("expectation_config") or {}).get("meta") or {}).get("rule")
            if n and rule:
                stats[f"unexpected:{rule}"] = int(n)
    stats.update({"expectations_evaluated": evaluated, "expectations_failed": len(failed), "rows": rows.num_rows})
    pii_kinds: dict[str, int] = {}
    for kinds in checked.column(f"{PREFIX}pii_kinds").to_pylist():
        for kind in (kinds or "").split(","):
            if kind:
                pii_kinds[kind] = pii_kinds.get(kind, 0) + 1
    stats.update({f"residual_pii:{k}": v for k, v in sorted(pii_kinds.items())})
    summary = {"rows": rows.num_rows, "evaluated": evaluated, "failed": len(failed), "passed": not failed,
               "contract": f"{contract.name}.v{contract.version}" if contract else None,
               "input_ids": buildinfo.id_digest(rows), "k": k, "max_share": config.max_share,
               "residual_pii_kinds": pii_kinds, "failures": [f.line() for f in failed],
               "quarantined": {k.split(":", 1)[1]: v for k, v in stats.items() if k.startswith("quarantined:")},
               "pii_action": config.pii}
    lines = [f.line() for f in failed]
    _write_results(ctx.workdir, summary, results, lines)
    if failed:
        where = ctx.workdir.relative_to(buildinfo.out_dir(ctx)) / "validation.md"
        kinds = f" (residual identifiers by kind: {', '.join(f'{k} {v}' for k, v in pii_kinds.items())})" \
            if pii_kinds else ""
        raise ValidationFailed(f"validation failed, nothing published: {len(failed)} of {evaluated} expectations: "
                               + "; ".join(lines) + kinds + f"; details: {where}")
    return StageOutput(kept=rows, quarantined=quarantine_rows(rejects), stats=dict(sorted(stats.items())))
