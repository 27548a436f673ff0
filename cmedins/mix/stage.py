"""The `mix` build stage: task rows (task_row.v1) + dialogue and general sources -> sft rows (sft_row.v1).

A reduce stage: shares, sampling and splits are global decisions over the whole table. It is `fan_out`: it reads
task rows and writes a different number of rows, so it accounts for its input itself: `inputs_used` = task rows
that reached the output (once, however many copies), `inputs_quarantined` = task rows refused, each with a reason
(`sampled_out` when the mixture did not draw it, `over_token_budget`), so used + quarantined = read. External rows
are not the stage's input; they are accounted for separately per source: `source_rows:<name>` = `source_used:<name>`
+ the sum of `source_quarantined:<name>:<reason>`, and their refusals are in the same quarantine file (with the
source's name in `source`).

Steps: adapt every source (cmedins/sources) -> residual identifier screen of external texts -> token budget (split
or drop long conversations) -> seeded ratio-controlled mixture -> grouped, stratified 90/10 split -> leakage check.
Same inputs and seed give the same bytes: every order is a sort on seeded hashes of ids.

Memory: the decisions need no task row's text, only its size. So the runner gives the stage the task rows'
provenance columns (`mix_columns`); their messages are read batch by batch twice: once for token counts and a text
key, once to fill in the selected rows, which are spilled to sorted buckets on disk and yielded bucket by bucket in
the output order (split, id). At most one bucket of texts is held at a time, however many task rows there are.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from cmedins.contracts import load_contract
from cmedins.mix.budget import apply_budget
from cmedins.mix.config import MixConfig
from cmedins.mix.privacy import screen
from cmedins.mix.sample import Mixture, mix
from cmedins.mix.split import SPLITS, assign_splits, cross_split_duplicates, leakage, validation_shares
from cmedins.mix.tokens import message_tokens
from cmedins.sources.adapt import EXAMPLE_SCHEMA, load_source
from cmedins.stage import StageContext, StageError, StageOutput, input_batches, register_stage

STAGE = "mix"
TASK_SOURCE = "task_row"  # quarantine `source` of refused task rows (source names cannot contain ':' or clash)
TASK_COLUMNS = ["id", "source", "task", "source_record_hash", "patient_key", "department"]  # all but the texts
BUCKET_ROWS = 50_000  # output rows per sorted bucket: the most rows whose texts are held at once
_CANDIDATE = ["kind", "id", "source", "file", "line", "row", "sub", "piece", "task", "source_group", "messages",
              "tools", "group_key", "record_key", "original_id", "licence", "category", "user_turns", "deidentified"]
_REJECT_SCHEMA = {"kind": pl.String, "source": pl.String, "file": pl.String, "line": pl.Int64, "row": pl.Int64,
                  "sub": pl.Int32, "key": pl.String, "reason": pl.String, "field": pl.String, "message": pl.String,
                  "payload": pl.String}


def mix_files(config: MixConfig) -> list[Path]:
    """The local files the recipe's sources name, for the cache key; a missing one is a one-line error now."""
    files: list[Path] = []
    for spec in config.specs():
        found = spec.files()
        if spec.path is not None and (not found or not all(p.is_file() for p in found)):
            raise StageError(f"{spec.label}: no such file: {spec.path}")
        files += found
    return files


def mix_columns(config: MixConfig) -> list[str]:
    """What the whole-table step reads of the task rows: everything but their texts (see the module docstring)."""
    return TASK_COLUMNS


def text_key(messages: pl.Expr) -> pl.Expr:
    """A 64-bit key of a conversation's texts: equal texts, equal keys (for the cross-split duplicate count)."""
    return messages.list.eval(pl.element().struct.field("content")).list.join("\x1e").hash(seed=0)


def _task_sizes(table: pa.Table, ctx: StageContext, weights: dict[str, float]) -> pl.DataFrame:
    """Per task row, in input order: its tokens, user turns and text key, from its messages read batch by batch."""
    parts = [pl.DataFrame(schema={"tokens": pl.Int64, "user_turns": pl.Int32, "_text": pl.UInt64})]
    for _, batch in input_batches(table, ctx, ["messages"]):
        msgs = pl.from_arrow(batch)
        assert isinstance(msgs, pl.DataFrame)
        parts.append(msgs.select(
            tokens=message_tokens(weights).list.sum().cast(pl.Int64),
            user_turns=pl.col("messages").list.eval(pl.element().struct.field("role") == "user").list.sum()
            .cast(pl.Int32),
            _text=text_key(pl.col("messages"))))
    return pl.concat(parts)


def _task_candidates(table: pa.Table, sizes: pl.DataFrame, config: MixConfig) -> pl.DataFrame:
    """Task rows as mixture candidates, without their texts (filled in by `_output`); grouped by patient_key when
    the task rows carry it."""
    df = pl.from_arrow(table.select([c for c in TASK_COLUMNS if c in table.column_names]))
    assert isinstance(df, pl.DataFrame)
    group = (pl.coalesce("patient_key", "source_record_hash") if "patient_key" in df.columns
             else pl.col("source_record_hash"))
    licences = {k: v for k, v in config.task_licences.items() if k != "*"}
    return pl.concat([df, sizes], how="horizontal").select(
        kind=pl.lit("task"), id=pl.col("id"), source=pl.col("source"), file=pl.lit(None, dtype=pl.String),
        line=pl.lit(None, dtype=pl.Int64), row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        sub=pl.lit(0, dtype=pl.Int32), piece=pl.lit(0, dtype=pl.Int32), task=pl.col("task"),
        source_group=pl.lit(config.tasks_group), messages=pl.lit(None, dtype=EXAMPLE_SCHEMA["messages"]),
        tools=pl.lit(None, dtype=pl.String), group_key=group, record_key=pl.col("source_record_hash"),
        original_id=pl.col("id"),
        licence=pl.col("source").replace_strict(licences, default=config.task_licences["*"], return_dtype=pl.String),
        category=pl.col("department") if "department" in df.columns else pl.lit(None, dtype=pl.String),
        user_turns=pl.col("user_turns"), deidentified=pl.lit(False), tokens=pl.col("tokens"),
        _msg_tokens=pl.lit(None, dtype=pl.List(pl.Int64)), _text=pl.col("_text"),
    )


def _source_candidates(ext: pl.DataFrame, weights: dict[str, float]) -> pl.DataFrame:
    return (ext.with_columns(kind=pl.lit("source"), id=pl.lit(""), piece=pl.lit(0, dtype=pl.Int32),
                             task=pl.lit(None, dtype=pl.String))
               .select(_CANDIDATE)
               .with_columns(_msg_tokens=message_tokens(weights))
               .with_columns(tokens=pl.col("_msg_tokens").list.sum().cast(pl.Int64),
                             _text=pl.lit(None, dtype=pl.UInt64))
               .select([*_CANDIDATE, "tokens", "_msg_tokens", "_text"]))


def _with_ids(df: pl.DataFrame) -> pl.DataFrame:
    """External rows' ids: xxh3-128 of where they came from (source, file, line, example, piece)."""
    ext = df.filter(pl.col("kind") == "source")
    if ext.height == 0:
        return df
    keys = ext.select(pl.concat_str("source", "file", "line", "sub", "piece", separator="\x1f")).to_series()
    ids = pl.Series([xxhash.xxh3_128_hexdigest(k.encode()) for k in keys.to_list()], dtype=pl.String)
    return pl.concat([df.filter(pl.col("kind") == "task"), ext.with_columns(id=ids)])


def _final_ids(df: pl.DataFrame) -> pl.DataFrame:
    """An upsampled copy k > 0 gets its own id (xxh3-128 of id + k): ids stay unique in the output."""
    if df.filter(pl.col("copy") > 0).height == 0:
        return df
    keys = df.select(pl.concat_str("id", "copy", separator="\x1f")).to_series().to_list()
    copies = df["copy"].to_list()
    ids = [xxhash.xxh3_128_hexdigest(k.encode()) if c else i
           for k, c, i in zip(keys, copies, df["id"].to_list(), strict=True)]
    return df.with_columns(id=pl.Series(ids, dtype=pl.String))


def _quarantine(events: pl.DataFrame, used: pl.DataFrame, stats: Counter) -> tuple[pa.Table, int]:
    """One quarantine row per input unit (task row, or source row) that reached no output row, with its first
    refusal. Task rows count under `quarantined:<reason>`, source rows under `source_quarantined:<name>:<reason>`.
    Returns the quarantine.v1 table and how many task rows it holds. (Polars throughout: at a large build nearly
    every task row is sampled out, millions of rows.)"""
    refused = (events.join(used, on=["kind", "source", "row"], how="anti")
                     .with_row_index("_order")
                     .sort("kind", "source", "row", "sub", "_order")
                     .group_by("kind", "source", "row", maintain_order=True).first()
                     .sort("kind", "source", "row"))
    task = pl.col("kind") == "task"
    for reason, n in refused.filter(task).group_by("reason").len().iter_rows():
        stats[f"quarantined:{reason}"] += n
    for source, reason, n in refused.filter(~task).group_by("source", "reason").len().iter_rows():
        stats[f"source_quarantined:{source}:{reason}"] += n
    table = refused.select(stage=pl.lit(STAGE), source=pl.when(task).then(pl.lit(TASK_SOURCE)).otherwise("source"),
                           row="row", key="key", reason="reason", field="field", message="message",
                           payload="payload")
    return table.to_arrow().cast(load_contract("quarantine").schema), refused.filter(task).height


def _bp(x: float) -> int:
    """A share in basis points (1/100 of a percent): stats are integers."""
    return round(x * 10_000)


def _external(config: MixConfig, ctx: StageContext, stats: Counter, events: list[pl.DataFrame]) -> pl.DataFrame:
    """Every source adapted and screened for identifiers; refusals appended to `events`."""
    examples: list[pl.DataFrame] = [pl.DataFrame(schema=EXAMPLE_SCHEMA)]
    rejects: list[dict] = []
    for spec in config.specs():
        loaded = load_source(spec, ctx.workdir, ctx.seed)
        stats[f"source_rows:{spec.name}"] = loaded.rows_read
        stats.update({f"text_cleaned:{k}": n for k, n in loaded.cleaned.items()})
        examples.append(loaded.examples)
        rejects += loaded.rejects
    modes = {spec.name: spec.identifiers or config.identifiers for spec in config.specs()}
    screened = screen(pl.concat(examples), modes, config.deid_config(), ctx.secret, config.dates_shifted)
    stats.update(screened.stats)
    rejects += screened.rejects
    if rejects:
        events.append(pl.DataFrame([{**r, "kind": "source", "key": None} for r in rejects], schema=_REJECT_SCHEMA))
    return screened.kept


def _figures(out: pl.DataFrame, m: Mixture, shares: dict[str, float], config: MixConfig) -> dict[str, int]:
    """The report's view of the mixture: target vs achieved shares (basis points), rows, tokens and copies per
    group, split sizes and validation share per stratum, the leakage check, rows per licence."""
    leaks = leakage(out)
    if any(leaks.values()):  # the grouping makes this impossible; a bug must not publish a leaking split
        raise RuntimeError(f"mix: split leakage {leaks}")
    deviation = max(abs(m.achieved[g] - s) for g, s in shares.items())
    fig: dict[str, int] = {f"leaked_{key}s": n for key, n in leaks.items()}
    fig.update({"cross_split_duplicate_texts": cross_split_duplicates(out), "mix_rows": out.height,
                "share_max_deviation_bp": _bp(deviation),
                "shares_within_tolerance": int(deviation <= config.share_tolerance)})
    for g, s in shares.items():
        fig.update({f"share_bp:{g}:target": _bp(s), f"share_bp:{g}:achieved": _bp(m.achieved[g]),
                    f"available:{g}": m.available[g]})
    per_group = out.group_by("source_group").agg(pl.len(), pl.col("tokens").sum(), (pl.col("copy") > 0).sum())
    for g, n, tokens, copies in per_group.iter_rows():
        fig.update({f"group_rows:{g}": n, f"group_tokens:{g}": tokens})
        if copies:
            fig[f"upsampled:{g}"] = copies
    for split in SPLITS:
        part = out.filter(pl.col("split") == split)
        fig.update({f"split_rows:{split}": part.height, f"split_groups:{split}": part["group_key"].n_unique()})
    fig.update({f"validation_bp:{k}": _bp(v) for k, v in validation_shares(out).items()})
    fig.update({f"licence:{k}": n for k, n in out.group_by("licence").len().iter_rows()})
    return fig


def _output(order: pl.DataFrame, table: pa.Table, ctx: StageContext) -> Iterator[pa.Table]:
    """The mixture's rows (`order`: sorted, task rows without texts) as sft_row.v1 tables in that order.

    One pass over the task rows' texts puts each selected row's messages in the bucket of its output position
    (files under the stage's work directory); then each bucket is read, joined to its rows and yielded."""
    contract = load_contract("sft_row")
    order = order.with_row_index("_pos").with_columns(num_turns=pl.col("user_turns"),
                                                      tokens=pl.col("tokens").cast(pl.Int32))
    buckets = max(1, -(-order.height // BUCKET_ROWS))
    tmp = ctx.workdir / "mix-buckets"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    schema = pa.schema([("_pos", pa.uint32()), ("messages", contract.schema.field("messages").type)])
    writers = [pq.ParquetWriter(tmp / f"{b:05d}.parquet", schema) for b in range(buckets)]
    try:
        wanted = order.filter(pl.col("kind") == "task").select("row", "_pos")  # row: 1-based input position
        pending: list[pl.DataFrame] = []
        for start, batch in input_batches(table, ctx, ["messages"]):
            rows = pl.int_range(start + 1, start + 1 + batch.num_rows, dtype=pl.Int64, eager=True).alias("row")
            hit = rows.to_frame().with_row_index("_i").join(wanted, on="row")
            # taken by Arrow, which copies the rows it takes (a Polars join of the messages would keep the whole
            # batch's buffers alive: every batch, for a handful of rows)
            texts = pl.from_arrow(batch.select(["messages"]).take(hit["_i"].to_arrow()))
            assert isinstance(texts, pl.DataFrame)
            pending.append(texts.with_columns(_pos=hit["_pos"]).select("_pos", "messages"))
            if sum(p.height for p in pending) >= BUCKET_ROWS:
                _spill(pl.concat(pending), writers, schema)
                pending = []
        _spill(pl.concat([order.filter(pl.col("kind") == "source").select("_pos", "messages"), *pending]),
               writers, schema)
        for w in writers:
            w.close()
        for b in range(buckets):
            texts = pl.read_parquet(tmp / f"{b:05d}.parquet")
            rows = order.slice(b * BUCKET_ROWS, BUCKET_ROWS).drop("messages")
            yield (rows.join(texts, on="_pos", how="left", maintain_order="left")
                       .select(contract.names).to_arrow().cast(contract.schema))
    finally:
        for w in writers:
            w.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _spill(rows: pl.DataFrame, writers: list[pq.ParquetWriter], schema: pa.Schema) -> None:
    """Append each row (position, messages) to the bucket of its position."""
    rows = rows.with_columns(pl.col("_pos").cast(pl.UInt32), _b=pl.col("_pos") // BUCKET_ROWS)
    for (b,), part in rows.partition_by("_b", as_dict=True, maintain_order=True).items():
        writers[b].write_table(part.select("_pos", "messages").to_arrow().cast(schema))


@register_stage(STAGE, config=MixConfig, kind="reduce", fan_out=True, input_contract="task_row",
                output_contract="sft_row", input_files=mix_files, columns=mix_columns)
def mix_stage(table: pa.Table, config: MixConfig, ctx: StageContext) -> Iterator[StageOutput]:
    """task_row.v1 table -> sft_row.v1 (train + validation), quarantine, and the mixture's figures as counters;
    yielded as pieces in the output order (the first carries the quarantine, counters and accounting)."""
    stats: Counter = Counter({"task_rows": table.num_rows})
    events: list[pl.DataFrame] = []
    weights = config.token_weights()
    ext = _external(config, ctx, stats, events)
    cand = pl.concat([_task_candidates(table, _task_sizes(table, ctx, weights), config),
                      _source_candidates(ext, weights)])
    cand, over, stats["dialogues_split"] = apply_budget(cand, config.token_budget, config.long_dialogues)
    events.append(over.select(list(_REJECT_SCHEMA)).cast(_REJECT_SCHEMA))
    cand = cand.with_columns(_text=pl.coalesce("_text", text_key(pl.col("messages"))))
    cand = _with_ids(cand.drop("_msg_tokens"))

    shares = config.normalised_shares()
    m = mix(cand, shares, config.by, ctx.seed, config.caps, config.upsample, config.total)
    del cand
    events.append(m.left_out.select(
        "kind", "source", "file", "line", "row", "sub", key=pl.coalesce("original_id", "id"),
        reason=pl.lit("sampled_out"), field=pl.lit(None, dtype=pl.String),
        message=pl.format("not drawn by the mixture (group {})", pl.col("source_group")),
        payload=pl.lit(None, dtype=pl.String)).cast(_REJECT_SCHEMA))
    out = assign_splits(_final_ids(m.selected), config.validation_fraction, ctx.seed)
    stats.update(_figures(out, m, shares, config))
    del m

    used = out.select("kind", "source", "row").unique()
    quarantine, task_refused = _quarantine(pl.concat(events), used, stats)
    task_used = used.filter(pl.col("kind") == "task").height
    for source, n in used.filter(pl.col("kind") == "source").group_by("source").len().iter_rows():
        stats[f"source_used:{source}"] = n
    records_out = out.filter(pl.col("kind") == "task")["record_key"].n_unique()
    records_in = len(pc.unique(table.column("source_record_hash")))
    # for the record-level line of the report: records with no row left in the mixture are not published
    stats.update({"task_records_in": records_in, "task_records_published": records_out,
                  "task_records_left_out": records_in - records_out})
    if task_used + task_refused != table.num_rows:
        raise RuntimeError(f"mix: task rows {table.num_rows} != used {task_used} + refused {task_refused}")

    pieces = _output(out.sort("split", "id"), table, ctx)
    first = next(pieces, load_contract("sft_row").schema.empty_table())
    yield StageOutput(kept=first, quarantined=quarantine, stats=dict(sorted((k, int(v)) for k, v in stats.items())),
                      inputs_used=task_used, inputs_quarantined=task_refused)
    for kept in pieces:
        yield StageOutput(kept=kept)
