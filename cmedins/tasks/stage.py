"""The `tasks` and `tasks_public` build stages.

`tasks` turns de-identified records (deid_record.v1) into instruction rows (task_row.v1), in input order, then
task order. It is a reduce (whole-table) stage because several rules span records: the per-task cap on rows
sharing one normalised query, the choice of template that keeps a row from repeating an earlier one word for word,
the grounding lexicon of every drug, diagnosis and department of the table, and the exact per-task variety figures
(distinct instructions, queries, answers; the most repeated query). Every one of those rules keeps its state per
task, though, so the tasks are split into groups of about equal cost (`TASK_COST`), one per worker process
(`ctx.workers`, a `cmedins.parallel.Lanes` lane each), and every group goes over every batch of records in
order; this process puts each batch's rows back in input order, then task order, and yields them, so the runner
writes them as they come. The runner reads only the lexicon's columns of the whole table (`tasks_columns`), the
records come batch by batch from the input file: the stage holds neither the whole input nor the whole output.
The rows are those of one pass over all tasks, whatever the number of workers.

`tasks_public` is a separate, reduce (whole-table) stage because the public files (CHIP-CDEE, CHIP-CDN + ICD-10
list) are not slices of the record table: reading them inside a map stage would repeat them once per batch, or make
one batch special. It runs after `tasks` in a recipe: it passes the task rows it receives through unchanged and
appends the rows built from the files its config names (hashed into its cache key through `input_files`).
"""

from __future__ import annotations

import importlib.util
import itertools
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from cmedins.contracts import load_contract
from cmedins.parallel import Lanes
from cmedins.stage import StageContext, StageOutput, input_batches, quarantine_rows, register_stage
from cmedins.tasks.build import (
    Collector,
    TaskTally,
    account_record,
    build_record,
    count_zero,
    enabled_specs,
    missing_provenance,
)
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.grounding import Lexicon
from cmedins.tasks.public import build_public
from cmedins.tasks.registry import TaskSpec, get_task
from cmedins.tasks.rows import RowBuffer
from cmedins.tasks.rules import load_rules, rule_files
from cmedins.tasks.templates import TEMPLATE_DIR, template_file

_REQUIRED = ("record_hash", "patient_key")
# Fields no builder reads: not converting them to Python saves a tenth of the stage's time.
_UNUSED = frozenset({"hospital", "marital_history", "family_history"})
# The nested fields that cost most to convert (the events are four fifths of the conversion) and the built-in
# tasks that read them: a group of tasks none of which reads one leaves it out (`group_skips`).
_READ_BY = {"events": frozenset({"event_extraction", "triage"}), "labs": frozenset({"summary"})}


def tasks_columns(config: TasksConfig) -> list[str]:
    """What the stage reads of the whole table at once: the lexicon's columns (records are read batch by batch)."""
    return [*_REQUIRED, "department", "medications", "diagnoses"]


def plugin_files(config: TasksConfig) -> list[Path]:
    """The code and template files of plugin tasks, for the runner's cache key: editing a plugin's builder or its
    templates reruns the stage (the package's own files are already in the code version)."""
    files: list[Path] = []
    for module in config.plugins:
        spec = importlib.util.find_spec(module)
        origin = Path(spec.origin) if spec and spec.origin else None
        if origin is None:
            continue
        if spec.submodule_search_locations:  # a package: every module in it
            files += sorted(origin.parent.rglob("*.py"))
        else:
            files.append(origin)
    enabled_specs(config)  # registers the plugins' tasks and their template files
    files += [p for p in (template_file(t) for t in config.tasks) if p.parent != TEMPLATE_DIR]
    return files + rule_files(config.rules_dir)


def public_files(config: TasksConfig) -> list[Path]:
    """Files named in the config, in a stable order, for the runner's cache key."""
    paths = [*config.cdee_paths, *config.cdn_paths]
    if config.cdn_paths and config.icd10_path:
        paths.append(config.icd10_path)
    return [Path(p) for p in paths] + plugin_files(config)  # plugin_files adds the rules_dir files


def records_from_table(table: pa.Table, all_fields: bool = False, skip: frozenset[str] = frozenset()) -> list[dict]:
    """Rows as dicts over the deid_record.v1 fields the builders read (all of them for plugin tasks), less the
    fields in `skip` (`group_skips`)."""
    missing = [c for c in _REQUIRED if c not in table.column_names]
    if missing:
        raise ValueError(f"tasks: input table lacks required column(s) {', '.join(missing)}")
    wanted = [n for n in load_contract("deid_record").names if all_fields or (n not in _UNUSED and n not in skip)]
    names = [n for n in wanted if n in table.column_names]
    columns = [table.column(n).to_pylist() for n in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


# Seconds per 4,000 synthetic records, one task at a time (this machine, 2026-11): only for balancing the groups
TASK_COST = {"event_extraction": 1.3, "triage": 1.5, "diagnosis": 1.65, "diagnosis_normalization": 0.9,
             "medication": 1.5, "summary": 2.2}


def task_groups(names: list[str], n: int) -> list[list[str]]:
    """`names` in at most `n` groups of about equal cost (the costliest first, each to the cheapest group so far),
    each group in config order."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(n, len(names))))]
    load = [0.0] * len(groups)
    for name in sorted(names, key=lambda t: -TASK_COST.get(t, 1.5)):
        i = load.index(min(load))
        groups[i].append(name)
        load[i] += TASK_COST.get(name, 1.5)
    return [sorted(g, key=names.index) for g in groups]


def _output(out: Collector) -> StageOutput:
    quarantined = quarantine_rows(out.quarantine)
    return StageOutput(kept=out.rows.to_table(), quarantined=quarantined, stats=dict(sorted(out.stats.items())),
                       inputs_used=out.inputs_used, inputs_quarantined=out.inputs_quarantined)


def lexicon_of(table: pa.Table) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """Every department, drug and diagnosis of the table (the `Lexicon`'s inputs): what a grounded answer may name
    once its query does."""
    cols = set(table.column_names)
    deps = set(table.column("department").to_pylist()) if "department" in cols else set()
    drugs, dx = set(), set()
    if "medications" in cols:
        for meds in table.column("medications").to_pylist():
            drugs.update((m.get("drug") or "") for m in meds or [])
    if "diagnoses" in cols:
        for ds in table.column("diagnoses").to_pylist():
            dx.update(((d.get("text") or "").strip(), (d.get("icd10_name") or "").strip()) for d in ds or [])
    return {d for d in deps if d}, {d for d in drugs if d.strip()}, dx


def group_skips(names: list[str], config: TasksConfig) -> frozenset[str]:
    """The costly fields (`_READ_BY`) no task of the group `names` reads: its records go without them (none with
    plugin tasks, which may read anything)."""
    if config.plugins:
        return frozenset()
    return frozenset(f for f, readers in _READ_BY.items() if readers.isdisjoint(names))


# One group of tasks per process (a lane): its Collector keeps the group's cross-row state between batches, and
# the fields its records go without.
_GROUP: tuple[Collector, list[TaskSpec], frozenset[str]] | None = None


def _start_group(config: TasksConfig, seed: int, lexicon: tuple[set, set, set], names: list[str]) -> None:
    global _GROUP
    enabled_specs(config)  # imports the plugins, registering their tasks
    out = Collector(config, seed, lexicon=Lexicon(load_rules(config.rules_dir), *lexicon))
    _GROUP = (out, [get_task(n) for n in names], group_skips(names, config))


def _group_slice(data: pa.Buffer, first: int) -> tuple[pa.Table, list[dict], list[list[TaskTally] | None]]:
    """The group's tasks over one slice (Arrow IPC; `first` is its first row's 1-based position): its rows, its
    quarantine entries and one tally per record."""
    assert _GROUP is not None
    out, specs, skip = _GROUP
    records = records_from_table(pa.ipc.open_stream(data).read_all(), all_fields=bool(out.config.plugins), skip=skip)
    tallies = [None if missing_provenance(r) else build_record(r, pos, specs, out)
               for pos, r in enumerate(records, start=first)]
    rows, quarantined = out.rows.to_table(), out.quarantine
    out.rows, out.quarantine = RowBuffer(out.config.system_prompt), []
    return rows, quarantined, tallies


def _finish_group() -> dict[str, int]:
    """The group's counters, variety figures included; the lane's state goes."""
    global _GROUP
    assert _GROUP is not None
    out, specs, _ = _GROUP
    out.finish(specs)
    _GROUP = None
    return dict(out.stats)


def _ipc(table: pa.Table) -> pa.Buffer:
    """A slice as Arrow IPC: what a lane receives (the slice's data only, not its parent table's)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


@register_stage("tasks", config=TasksConfig, kind="reduce", fan_out=True, input_contract="deid_record",
                output_contract="task_row", input_files=plugin_files, columns=tasks_columns)
def tasks_stage(table: pa.Table, config: TasksConfig, ctx: StageContext) -> Iterator[StageOutput]:
    """deid_record.v1 table -> task_row.v1 rows (+ quarantine, counters rows:<task>, dept:<d>, leakage, grounding,
    safety and variety figures per task), batch by batch."""
    missing = [c for c in _REQUIRED if c not in table.column_names]
    if missing:
        raise ValueError(f"tasks: input table lacks required column(s) {', '.join(missing)}")
    return _task_rows(table, config, ctx)


def _task_rows(table: pa.Table, config: TasksConfig, ctx: StageContext) -> Iterator[StageOutput]:
    specs = enabled_specs(config)
    names = [s.name for s in specs]
    batches = -(-table.num_rows // ctx.batch_rows)
    groups = task_groups(names, min(ctx.workers, batches))  # one batch: one group, run here, no process started
    where = {name: (g, group.index(name)) for g, group in enumerate(groups) for name in group}
    lexicon = lexicon_of(table)
    # given only the lexicon's columns (`tasks_columns`), the records come batch by batch from the input file
    source = table if ctx.input_path is None else table.slice(0, 0)
    del table
    out = Collector(config, ctx.seed)  # the records' accounting; the groups keep the rows and their counters
    count_zero(out.stats, specs)
    with Lanes(_start_group, [(config, ctx.seed, lexicon, group) for group in groups]) as lanes:
        pending: deque = deque()
        for start, batch in itertools.chain(input_batches(source, ctx), [(None, None)]):
            if batch is not None:  # a batch ahead in every lane while this one is put in order
                data = _ipc(batch)
                pending.append((start, batch, [lanes.submit(g, _group_slice, data, ctx.row_offset + start + 1)
                                               for g in range(len(groups))]))
            while pending and (batch is None or len(pending) > 1):
                first, records, futures = pending.popleft()
                yield _merge(out, records, first + ctx.row_offset, [f.result() for f in futures], names, where)
        stats = Counter(out.stats)
        for g in range(len(groups)):
            stats.update(lanes.submit(g, _finish_group).result())
    yield StageOutput(kept=load_contract("task_row").schema.empty_table(), quarantined=quarantine_rows(out.quarantine),
                      stats=dict(sorted(stats.items())), inputs_used=out.inputs_used,
                      inputs_quarantined=out.inputs_quarantined)


def _merge(out: Collector, batch: pa.Table, first: int,
           results: list[tuple[pa.Table, list[dict], list[list[TaskTally] | None]]], names: list[str],
           where: dict[str, tuple[int, int]]) -> StageOutput:
    """One batch's rows and quarantine entries from every group, in input order then task order, with each
    record's accounting (`account_record`) after its tasks' entries; `first` is the batch's row offset."""
    bases = list(itertools.accumulate((r[0].num_rows for r in results), initial=0))
    row_at, q_at = [0] * len(results), [0] * len(results)
    take: list[int] = []
    quarantined: list[dict] = []
    for i in range(batch.num_rows):
        tallies: list[TaskTally] | None = []
        for name in names:
            g, j = where[name]
            group_tallies = results[g][2][i]
            if group_tallies is None:
                tallies = None
                break
            t = group_tallies[j]
            take += range(bases[g] + row_at[g], bases[g] + row_at[g] + t.rows)
            quarantined += results[g][1][q_at[g]:q_at[g] + t.refused]
            row_at[g] += t.rows
            q_at[g] += t.refused
            tallies.append(t)
        account_record(out, first + i + 1, tallies, lambda i=i: records_from_table(batch.slice(i, 1), True)[0])
        quarantined += out.quarantine
        out.quarantine = []
    rows = pa.concat_tables([r[0] for r in results]).take(pa.array(take, pa.int64()))
    return StageOutput(kept=rows, quarantined=quarantine_rows(quarantined))


@register_stage("tasks_public", config=TasksConfig, kind="reduce", fan_out=True, input_contract="task_row",
                output_contract="task_row", input_files=public_files)
def tasks_public_stage(table: pa.Table, config: TasksConfig, ctx: StageContext) -> StageOutput:
    """Upstream task rows, passed through, followed by rows from the public CHIP-CDEE / CHIP-CDN files."""
    out = _output(build_public(config, ctx.seed))
    upstream = table.cast(load_contract("task_row").schema)
    stats = {**out.stats, "passed_through": table.num_rows}
    return StageOutput(kept=pa.concat_tables([upstream, out.kept]), quarantined=out.quarantined,
                       stats=dict(sorted(stats.items())), inputs_used=table.num_rows)
