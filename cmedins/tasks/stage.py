"""The `tasks` and `tasks_public` build stages.

`tasks` turns de-identified records (deid_record.v1) into instruction rows (task_row.v1), in input order, then
task order. It is a reduce (whole-table) stage because several rules span records: the per-task cap on rows
sharing one normalised query, the choice of template that keeps a row from repeating an earlier one word for word,
the grounding lexicon of every drug, diagnosis and department of the table, and the exact per-task variety figures
(distinct instructions, queries, answers; the most repeated query). It still reads the table slice by slice
(`SLICE_ROWS`), so memory stays that of one slice of records plus the rows.

`tasks_public` is a separate, reduce (whole-table) stage because the public files (CHIP-CDEE, CHIP-CDN + ICD-10
list) are not slices of the record table: reading them inside a map stage would repeat them once per batch, or make
one batch special. It runs after `tasks` in a recipe: it passes the task rows it receives through unchanged and
appends the rows built from the files its config names (hashed into its cache key through `input_files`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow as pa

from cmedins.contracts import load_contract
from cmedins.stage import StageContext, StageOutput, quarantine_rows, register_stage
from cmedins.tasks.build import Collector, build_records, enabled_specs
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.grounding import Lexicon
from cmedins.tasks.public import build_public
from cmedins.tasks.rules import load_rules, rule_files
from cmedins.tasks.templates import TEMPLATE_DIR, template_file

_REQUIRED = ("record_hash", "patient_key")
# Fields no builder reads: not converting them to Python saves a tenth of the stage's time.
_UNUSED = frozenset({"hospital", "marital_history", "family_history"})
SLICE_ROWS = 2000


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


def records_from_table(table: pa.Table, all_fields: bool = False) -> list[dict]:
    """Rows as dicts over the deid_record.v1 fields the builders read (all of them for plugin tasks)."""
    missing = [c for c in _REQUIRED if c not in table.column_names]
    if missing:
        raise ValueError(f"tasks: input table lacks required column(s) {', '.join(missing)}")
    wanted = [n for n in load_contract("deid_record").names if all_fields or n not in _UNUSED]
    names = [n for n in wanted if n in table.column_names]
    columns = [table.column(n).to_pylist() for n in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _output(out: Collector) -> StageOutput:
    quarantined = quarantine_rows(out.quarantine)
    return StageOutput(kept=out.rows.to_table(), quarantined=quarantined, stats=dict(sorted(out.stats.items())),
                       inputs_used=out.inputs_used, inputs_quarantined=out.inputs_quarantined)


def lexicon_of(table: pa.Table, config: TasksConfig) -> Lexicon:
    """Every department, drug and diagnosis of the table: what a grounded answer may name once its query does."""
    rules = load_rules(config.rules_dir)
    cols = set(table.column_names)
    deps = set(table.column("department").to_pylist()) if "department" in cols else set()
    drugs, dx = set(), set()
    if "medications" in cols:
        for meds in table.column("medications").to_pylist():
            drugs.update((m.get("drug") or "") for m in meds or [])
    if "diagnoses" in cols:
        for ds in table.column("diagnoses").to_pylist():
            dx.update(((d.get("text") or "").strip(), (d.get("icd10_name") or "").strip()) for d in ds or [])
    return Lexicon(rules, {d for d in deps if d}, {d for d in drugs if d.strip()}, dx)


@register_stage("tasks", config=TasksConfig, kind="reduce", fan_out=True, input_contract="deid_record",
                output_contract="task_row", input_files=plugin_files)
def tasks_stage(table: pa.Table, config: TasksConfig, ctx: StageContext) -> StageOutput:
    """deid_record.v1 table -> task_row.v1 rows (+ quarantine, counters rows:<task>, dept:<d>, leakage, grounding,
    safety and variety figures per task)."""
    missing = [c for c in _REQUIRED if c not in table.column_names]
    if missing:
        raise ValueError(f"tasks: input table lacks required column(s) {', '.join(missing)}")
    out = Collector(config, ctx.seed, lexicon=lexicon_of(table, config))
    for start in range(0, table.num_rows, SLICE_ROWS):
        records = records_from_table(table.slice(start, SLICE_ROWS), all_fields=bool(config.plugins))
        build_records(records, config, ctx.seed, row_offset=ctx.row_offset + start, out=out, finish=False)
    if table.num_rows == 0:
        build_records([], config, ctx.seed, out=out, finish=False)
    out.finish(enabled_specs(config))
    return _output(out)


@register_stage("tasks_public", config=TasksConfig, kind="reduce", fan_out=True, input_contract="task_row",
                output_contract="task_row", input_files=public_files)
def tasks_public_stage(table: pa.Table, config: TasksConfig, ctx: StageContext) -> StageOutput:
    """Upstream task rows, passed through, followed by rows from the public CHIP-CDEE / CHIP-CDN files."""
    out = _output(build_public(config, ctx.seed))
    upstream = table.cast(load_contract("task_row").schema)
    stats = {**out.stats, "passed_through": table.num_rows}
    return StageOutput(kept=pa.concat_tables([upstream, out.kept]), quarantined=out.quarantined,
                       stats=dict(sorted(stats.items())), inputs_used=table.num_rows)
