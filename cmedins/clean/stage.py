"""The `clean` (map) and `dedup` (reduce) build stages over instruction rows (task_row.v1 in and out).

`clean` needs no other row: each batch is decontaminated and filtered in the runner's process pool, with the
evaluation-set index built once per worker (`setup`). `dedup` needs every row at once: it is a reduce stage, and
runs the global step (`find_duplicates`) itself: signatures in chunks (on a small process pool of its own for large
inputs: the runner gives a reduce stage one process), LSH candidates, exact verification, union-find. The
signatures are the only costly part (a second for 70,000 rows), so a separate map stage writing them out would
cost more in Parquet round trips and a new contract than it saves.

Every removed row is quarantined: `key` is the removed row's id; the message names the reason and, for
duplicates, the kept row (number and id) and the similarity to it, never any text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cmedins.clean.config import CleanConfig, DedupConfig
from cmedins.clean.decontam import EvalIndex
from cmedins.clean.dedup import Duplicates, find_duplicates_by_group
from cmedins.clean.evalsets import EvalItem, read_eval_set, resolve_path
from cmedins.clean.normalize import normalize_series
from cmedins.clean.plant import plant
from cmedins.clean.quality import QualityRules, batch_facts, check_row
from cmedins.clean.tokens import approx_tokens_column, token_counter
from cmedins.contracts import load_contract
from cmedins.stage import StageContext, StageOutput, input_batches, quarantine_rows, register_stage, reject

SOURCE = "task_row"  # quarantine.source: the upstream table


@dataclass
class CleanState:
    """What a worker builds once: the evaluation items and their index, and the quality rules."""

    items: list[EvalItem]
    index: EvalIndex | None
    rules: QualityRules


def eval_files(config: CleanConfig) -> list[Path]:
    """The evaluation files, for the runner's cache key."""
    return [resolve_path(spec["path"]) for spec in config.eval_sets]


def setup_clean(config: CleanConfig) -> CleanState:
    items = [it for spec in config.eval_sets for it in read_eval_set(spec["name"], spec["path"])]
    index = EvalIndex(items, config.ngram_chars, config.ngram_max_items, config.question_threshold,
                      config.question_min_chars) if items else None
    rules = QualityRules(config.min_query_chars, config.min_answer_chars, config.max_tokens, config.max_char_run,
                         config.max_unit_repeats, config.copy_share, config.min_script_share,
                         config.min_answer_cjk_share,
                         None if config.tokenizer == "approx" else token_counter(config.tokenizer))
    return CleanState(items, index, rules)


def _normalized(table: pa.Table, columns: list[str]) -> list[list[str]]:
    """The normalised values of each column, normalised in one call."""
    both = pl.concat([pl.from_arrow(table.column(c).combine_chunks()) for c in columns])
    flat = normalize_series(both).to_list()
    n = table.num_rows
    return [flat[k * n:(k + 1) * n] for k in range(len(columns))]


def _rows(table: pa.Table, positions: list[int]) -> dict[int, dict]:
    """The rows at `positions` as dicts (quarantine payloads), converted in one call."""
    return dict(zip(positions, _take(table, positions).to_pylist(), strict=True)) if positions else {}


def _take(table: pa.Table, positions: list[int]) -> pa.Table:
    return table.take(pa.array(positions, type=pa.int64()))


def _keep(table: pa.Table, dropped: list[int]) -> pa.Table:
    """The table without the rows at `dropped`, in order (a boolean filter: cheaper than `take` of the rest)."""
    mask = np.ones(table.num_rows, dtype=bool)
    mask[dropped] = False
    return table.filter(pa.array(mask))


@register_stage("clean", config=CleanConfig, kind="map", input_contract="task_row", output_contract="task_row",
                input_files=eval_files, setup=setup_clean)
def clean_stage(table: pa.Table, config: CleanConfig, ctx: StageContext) -> StageOutput:
    """Quarantine rows that overlap an evaluation item (contaminated) or fail a quality filter; keep the rest."""
    state: CleanState = ctx.state if ctx.state is not None else setup_clean(config)
    stats: Counter[str] = Counter()
    planted: dict[int, str] = {}
    if config.plant_eval and ctx.row_offset == 0:
        table, planted = plant(table, state.items, config.plant_eval, ctx.seed)
        stats.update(f"planted:{name}" for name in planted.values())
    queries, answers = _normalized(table, ["query", "answer"])
    matches = state.index.match(queries, answers) if state.index else [None] * table.num_rows
    cols = {c: table.column(c).to_pylist() for c in ("id", "instruction", "query", "answer", "language")}
    if state.rules.count_tokens is None:
        tokens = approx_tokens_column(table.column("messages")).tolist()
    else:
        count = state.rules.count_tokens
        tokens = [count([m["content"] for m in msgs]) for msgs in table.column("messages").to_pylist()]
    facts = batch_facts(cols["instruction"], cols["answer"], queries, answers)
    verdicts: dict[int, tuple[str, str, str]] = {}  # position -> (reason, field, what to say)
    for i in range(table.num_rows):
        match = matches[i]
        if match is not None:
            stats[f"contamination:{match.set_name}"] += 1
            note = " (planted by plant_eval)" if i in planted else ""
            verdicts[i] = ("contaminated", match.field, f"contaminated: {match.describe()}{note}")
            continue
        failure = check_row(state.rules, facts, i, query=cols["query"][i], answer=cols["answer"][i],
                            norm_query=queries[i], norm_answer=answers[i], language=cols["language"][i],
                            tokens=tokens[i])
        if failure is not None:
            verdicts[i] = (failure.reason, failure.field, f"{failure.reason}: {failure.field}: {failure.detail}")
    payloads = _rows(table, sorted(verdicts))
    rejected: list[dict] = []
    for i, (reason, fld, what) in sorted(verdicts.items()):
        row_no, row_id = ctx.row_offset + i + 1, cols["id"][i]
        reject(rejected, stats, stage="clean", source=SOURCE, row=row_no, key=row_id, reason=reason, field=fld,
               message=f"{SOURCE} row {row_no} (id {row_id}): {what}", payload=payloads[i])
    return StageOutput(kept=_keep(table, sorted(verdicts)), quarantined=quarantine_rows(rejected),
                       stats=dict(sorted(stats.items())))


def joined_text(table: pa.Table, columns: list[str]) -> pa.Array:
    """The columns' values joined by U+001F (kept by normalisation, so the boundary between fields counts)."""
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(f"dedup: input has no column(s) {', '.join(missing)}")
    parts = [pc.fill_null(table.column(c).cast(pa.string()), "") for c in columns]
    if len(parts) == 1:
        return parts[0].combine_chunks()
    return pc.binary_join_element_wise(*parts, "\x1f").combine_chunks()


def duplicate_message(where: str, reason: str, kept_row: int, kept_id: str, similarity: float) -> str:
    """One line: the removed row, why, the kept row and the similarity to it."""
    return f"{where}: {reason} of row {kept_row} (id {kept_id}), similarity {similarity:.3f}"


def dedup_columns(config: DedupConfig) -> list[str]:
    """What the whole-table step holds: ids and groups (the runner reads only these; the compared texts are read
    from the input file one group at a time, `_group_texts`)."""
    return list(dict.fromkeys(["id", *config.group_by]))


def _group_texts(table: pa.Table, config: DedupConfig, ctx: StageContext, rows: np.ndarray) -> pl.Series:
    """The compared texts of the rows at positions `rows` (ascending), in that order: from `table` when it holds
    them, else read batch by batch from the input file (one pass over the text columns: ~1 s per million rows)."""
    if ctx.input_path is None:
        return pl.Series(joined_text(table.select(config.text_fields).take(pa.array(rows)), config.text_fields))
    parts = [pl.Series(dtype=pl.String)]
    for start, batch in input_batches(table, ctx, config.text_fields):
        lo, hi = np.searchsorted(rows, [start, start + batch.num_rows])
        if hi > lo:
            parts.append(pl.Series(joined_text(batch.take(pa.array(rows[lo:hi] - start)), config.text_fields)))
    return pl.concat(parts)


@register_stage("dedup", config=DedupConfig, kind="reduce", input_contract="task_row", output_contract="task_row",
                columns=dedup_columns)
def dedup_stage(table: pa.Table, config: DedupConfig, ctx: StageContext) -> Iterator[StageOutput]:
    """Quarantine exact and near duplicates (same group, same or near-same text); keep one row per cluster.

    Duplicates are found group by group (`find_duplicates_by_group`), each group's texts read when its turn
    comes; the rows are then read batch by batch and written as they come, so the stage holds the ids and groups
    of the table, one group's texts and one batch of whole rows."""
    names = pq.read_schema(ctx.input_path).names if ctx.input_path is not None else table.column_names
    missing = [c for c in config.text_fields if c not in names]
    if missing:  # the texts are read group by group, later: a bad recipe fails here, before any work
        raise ValueError(f"dedup: input has no column(s) {', '.join(missing)}")
    ids = [str(x) for x in table.column("id").to_pylist()]
    groups = pl.from_arrow(joined_text(table, config.group_by)).to_list() if config.group_by else None
    dups = find_duplicates_by_group(ids, groups or [""] * len(ids),
                                    lambda idx: _group_texts(table, config, ctx, idx), config)
    return _dedup_rows(table if ctx.input_path is None else table.slice(0, 0), dups, ids, groups, config, ctx)


def _dedup_rows(table: pa.Table, dups: Duplicates, ids: list[str], groups: list[str] | None, config: DedupConfig,
                ctx: StageContext) -> Iterator[StageOutput]:
    stats: Counter[str] = Counter(dups.stats)
    label = "task" if config.group_by == ["task"] else "group"
    removed = dups.removed
    for start, batch in input_batches(table, ctx):
        here = removed[(removed >= start) & (removed < start + batch.num_rows)].tolist()
        rejected: list[dict] = []
        payloads = _rows(batch, [i - start for i in here])
        for i in here:
            s, reason = int(dups.survivor[i]), dups.reason[i]
            assert reason is not None
            row_no = ctx.row_offset + i + 1
            if groups is not None:
                stats[f"removed_by_{label}:{groups[i]}"] += 1
            payload = {"row": payloads[i - start], "duplicate_of": ids[s],
                       "similarity": round(float(dups.similarity[i]), 4)}
            reject(rejected, stats, stage="dedup", source=SOURCE, row=row_no, key=ids[i], reason=reason,
                   message=duplicate_message(f"{SOURCE} row {row_no} (id {ids[i]})", reason, ctx.row_offset + s + 1,
                                             ids[s], float(dups.similarity[i])),
                   payload=payload)
        yield StageOutput(kept=_keep(batch, [i - start for i in here]), quarantined=quarantine_rows(rejected))
    yield StageOutput(kept=load_contract("task_row").schema.empty_table(), stats=dict(sorted(stats.items())))
