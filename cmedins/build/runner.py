"""The local runner: runs a recipe's stages in order with caching, resume and a process pool.

Layout of the work directory (`<out>/work/<stage>/`):
  kept.parquet, quarantine.parquet   the stage's output and rejects (row groups of `batch_rows` rows)
  manifest.json                      written last: its presence with the right key means "done and up to date"
  parts/                             per-batch results while the stage runs; a killed build resumes from them

A stage's cache key hashes its input (the upstream kept.parquet's sha256, or the source files for ingest), its
config, the files its config names, the seed, the build secret's fingerprint and the code version.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import shutil
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.build.hashing import code_version, file_sha256, json_sha256
from cmedins.build.progress import BuildProgress
from cmedins.build.recipe import Recipe, RecipeError
from cmedins.build.sources import resolve_source
from cmedins.contracts import load_contract
from cmedins.ingest import SourceSpec, read_source, source_files
from cmedins.parquet_io import RowGroupWriter, write_table
from cmedins.secret import build_secret, fingerprint
from cmedins.stage import Stage, StageContext, StageOutput, get_stage


class StageFailed(RuntimeError):
    """A stage raised: a bug, not a data error (data errors are quarantined). One line, no raw text."""


@dataclass
class StageResult:
    """What the report needs to know about one stage run (or cache hit)."""

    name: str
    key: str
    cached: bool
    rows_in: int
    kept: int
    quarantined: int
    by_reason: dict[str, int]
    stats: dict[str, int]
    seconds: float
    fan_out: bool = False
    output: Path | None = None
    output_sha256: str = ""  # of `output`, as recorded in the manifest: the next stage's cache key reads it

    @property
    def accounted(self) -> bool:
        """Every input row is kept or quarantined (1:1 stages), or used or quarantined (fan-out stages)."""
        if self.fan_out:
            return self.stats.get("inputs_used", 0) + self.stats.get("inputs_quarantined", 0) == self.rows_in
        return self.kept + self.quarantined == self.rows_in


@dataclass
class BuildContext:
    recipe: Recipe
    out_dir: Path
    force_from: str | None = None
    progress: BuildProgress = field(default_factory=lambda: BuildProgress(enabled=False))
    sources_seconds: float = 0.0  # time spent generating synthetic sources (not part of any stage)

    @property
    def work_dir(self) -> Path:
        return self.out_dir / "work"


def _manifest(stage_dir: Path) -> dict[str, Any] | None:
    path = stage_dir / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else None


def _result_from_manifest(m: dict[str, Any], stage_dir: Path, cached: bool, seconds: float) -> StageResult:
    return StageResult(
        name=m["stage"], key=m["key"], cached=cached, rows_in=m["rows_in"], kept=m["kept"],
        quarantined=m["quarantined"], by_reason=m["by_reason"], stats=m["stats"], seconds=seconds,
        fan_out=m.get("fan_out", False), output=stage_dir / "kept.parquet", output_sha256=m["files"]["kept.parquet"],
    )


def _finish_stage(stage_dir: Path, *, name: str, key: str, config: dict, rows_in: int, kept_rows: int,
                  quarantine: pa.Table, stats: Counter, fan_out: bool) -> dict[str, Any]:
    """Write quarantine + manifest (the completion marker, last) and drop the parts."""
    write_table(quarantine, stage_dir / "quarantine.parquet")
    by_reason = dict(sorted(Counter(quarantine.column("reason").to_pylist()).items()))
    manifest = {
        "stage": name, "key": key, "code_version": code_version(), "config": config, "fan_out": fan_out,
        "rows_in": rows_in, "kept": kept_rows, "quarantined": quarantine.num_rows, "by_reason": by_reason,
        "stats": dict(sorted(stats.items())),
        "files": {f: file_sha256(stage_dir / f) for f in ("kept.parquet", "quarantine.parquet")},
    }
    tmp = stage_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    tmp.replace(stage_dir / "manifest.json")
    shutil.rmtree(stage_dir / "parts", ignore_errors=True)
    return manifest


def _prepare_dir(stage_dir: Path, key: str, forced: bool) -> bool:
    """Return True when the stage is up to date; otherwise leave a directory ready to (re)run or resume."""
    m = _manifest(stage_dir)
    if m and m["key"] == key and not forced and (stage_dir / "kept.parquet").exists():
        return True
    parts = stage_dir / "parts"
    key_file = parts / "KEY"
    if forced or m or not (key_file.exists() and key_file.read_text() == key):
        shutil.rmtree(stage_dir, ignore_errors=True)
    parts.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)
    return False


# ---------------------------------------------------------------------------------------------------- ingest
def _portable(spec: Any, out_dir: Path) -> dict[str, Any]:
    """The spec as written to manifests: paths inside the build folder made relative, so that two builds in two
    folders write the same manifest bytes."""
    d = dataclasses.asdict(spec)
    if d.get("path") and Path(d["path"]).is_relative_to(out_dir):
        d["path"] = str(Path(d["path"]).relative_to(out_dir))
    return d


def run_ingest(bc: BuildContext, specs: list[SourceSpec]) -> StageResult:
    """Read every source onto the record contract; one kept table, one quarantine table."""
    recipe, stage_dir = bc.recipe, bc.work_dir / "ingest"
    inputs = [{"spec": _portable(s, bc.out_dir), "files": [file_sha256(p) for p in source_files(s)]} for s in specs]
    config = {"sources": [i["spec"] for i in inputs], "batch_rows": recipe.batch_rows}
    key = json_sha256({"stage": "ingest", "inputs": inputs, "batch_rows": recipe.batch_rows, "code": code_version()})
    start = time.perf_counter()
    if _prepare_dir(stage_dir, key, bc.force_from == "ingest"):
        bc.progress.cached("ingest")
        return _result_from_manifest(_manifest(stage_dir), stage_dir, True, time.perf_counter() - start)
    contract = load_contract("record")
    writer = RowGroupWriter(stage_dir / "kept.parquet", contract.schema, recipe.batch_rows)
    quarantined: list[pa.Table] = []
    stats: Counter = Counter()
    task = bc.progress.start("ingest", total=None, unit="rows")
    for spec in specs:
        for out in read_source(spec, contract, batch_rows=recipe.batch_rows):
            writer.write(out.kept)
            quarantined.append(out.quarantined)
            stats.update(out.stats)
            bc.progress.advance(task, out.kept.num_rows + out.quarantined.num_rows)
    writer.close()
    quarantine = pa.concat_tables([load_contract("quarantine").schema.empty_table(), *quarantined])
    m = _finish_stage(stage_dir, name="ingest", key=key, config=config, rows_in=stats.get("rows_read", 0),
                      kept_rows=writer.rows_written, quarantine=quarantine, stats=stats, fan_out=False)
    bc.progress.done(task)
    return _result_from_manifest(m, stage_dir, False, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------------- stages
@dataclass(frozen=True)
class _BatchJob:
    """Everything a worker process needs to run one batch; small enough to pickle cheaply."""

    stage: str
    options: dict[str, Any]
    seed: int
    secret: bytes
    input_path: str
    row_group: int
    row_offset: int
    stage_dir: str


def _conform(stage: Stage, out: StageOutput) -> pa.Table:
    """Check the kept table against the stage's output contract, so a schema drift fails loudly at its source."""
    if not stage.output_contract:
        return out.kept
    schema = load_contract(stage.output_contract).schema
    if out.kept.schema.names != schema.names:
        raise StageFailed(f"stage {stage.name!r} returned columns {out.kept.schema.names}, "
                          f"contract {stage.output_contract} wants {schema.names}")
    try:
        return out.kept.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
        raise StageFailed(f"stage {stage.name!r} output does not match contract {stage.output_contract}: "
                          f"{type(exc).__name__}") from None


def _run_batch(job: _BatchJob) -> int:
    """Worker: run one batch and write its part files atomically. Returns the batch index."""
    stage = get_stage(job.stage)
    config = stage.make_config(job.options)
    table = pq.ParquetFile(job.input_path).read_row_group(job.row_group)
    parts = Path(job.stage_dir) / "parts"
    ctx = StageContext(seed=job.seed, workdir=Path(job.stage_dir), secret=job.secret, row_offset=job.row_offset)
    out = stage.fn(table, config, ctx)
    kept = _conform(stage, out)
    quarantine = out.quarantined
    i = job.row_group
    write_table(kept, parts / f"kept-{i:05d}.parquet")
    write_table(quarantine, parts / f"quarantine-{i:05d}.parquet")
    stats = {"rows_in": table.num_rows, **out.stats}
    (parts / f"stats-{i:05d}.json.tmp").write_text(json.dumps(stats, sort_keys=True))
    (parts / f"stats-{i:05d}.json.tmp").replace(parts / f"stats-{i:05d}.json")  # the batch's completion marker
    return i


def _stage_key(bc: BuildContext, stage: Stage, options: dict, input_sha: str) -> str:
    config = stage.make_config(options)
    files = [{"path": str(p), "sha256": file_sha256(Path(p))} for p in stage.input_files(config)]
    return json_sha256({
        "stage": stage.name, "config": dataclasses.asdict(config), "input": input_sha, "files": files,
        "seed": bc.recipe.seed, "secret": fingerprint(build_secret()), "batch_rows": bc.recipe.batch_rows,
        "code": code_version(),
    })


def run_stage(bc: BuildContext, stage: Stage, options: dict, upstream: StageResult, forced: bool) -> StageResult:
    """Run one registered stage over the upstream stage's kept table, batch by batch, resuming finished batches."""
    stage_dir = bc.work_dir / stage.name
    input_path = upstream.output
    assert input_path is not None
    try:
        key = _stage_key(bc, stage, options, upstream.output_sha256)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"stage {stage.name!r}: {exc}") from None
    start = time.perf_counter()
    if _prepare_dir(stage_dir, key, forced):
        bc.progress.cached(stage.name)
        return _result_from_manifest(_manifest(stage_dir), stage_dir, True, time.perf_counter() - start)
    parts = stage_dir / "parts"
    pf = pq.ParquetFile(input_path)
    groups = pf.num_row_groups if stage.batchwise else 1
    offsets = [0]
    for g in range(pf.num_row_groups):
        offsets.append(offsets[-1] + pf.metadata.row_group(g).num_rows)
    secret = build_secret()
    todo = [g for g in range(groups) if not (parts / f"stats-{g:05d}.json").exists()]
    task = bc.progress.start(stage.name, total=groups, unit="batches", completed=groups - len(todo))
    if not stage.batchwise:
        if todo:
            _run_whole(stage, options, bc.recipe.seed, secret, input_path, stage_dir)
        bc.progress.advance(task, len(todo))
    elif bc.recipe.workers == 1 or len(todo) <= 1:
        for g in todo:
            _run_batch(_BatchJob(stage.name, options, bc.recipe.seed, secret, str(input_path), g, offsets[g],
                                 str(stage_dir)))
            bc.progress.advance(task, 1)
    else:
        ctx = multiprocessing.get_context("spawn")  # fork is unsafe once polars/duckdb threads exist
        with ProcessPoolExecutor(max_workers=bc.recipe.workers, mp_context=ctx) as pool:
            pending: set = set()
            queue = list(todo)
            while queue or pending:
                while queue and len(pending) < 2 * bc.recipe.workers:  # bound memory: a few batches in flight
                    g = queue.pop(0)
                    pending.add(pool.submit(_run_batch, _BatchJob(
                        stage.name, options, bc.recipe.seed, secret, str(input_path), g, offsets[g], str(stage_dir))))
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    fut.result()
                    bc.progress.advance(task, 1)
    rows_in, kept_rows, stats, quarantine = _assemble(stage, stage_dir, groups, bc.recipe.batch_rows)
    m = _finish_stage(stage_dir, name=stage.name, key=key, config=dataclasses.asdict(stage.make_config(options)),
                      rows_in=rows_in, kept_rows=kept_rows, quarantine=quarantine, stats=stats,
                      fan_out=stage.fan_out)
    bc.progress.done(task)
    return _result_from_manifest(m, stage_dir, False, time.perf_counter() - start)


def _run_whole(stage: Stage, options: dict, seed: int, secret: bytes, input_path: Path, stage_dir: Path) -> None:
    """A stage that needs its whole input at once (dedup, mixing) runs in this process as one batch."""
    table = pq.read_table(input_path)
    out = stage.fn(table, stage.make_config(options), StageContext(seed, stage_dir, secret))
    parts = stage_dir / "parts"
    write_table(_conform(stage, out), parts / "kept-00000.parquet")
    write_table(out.quarantined, parts / "quarantine-00000.parquet")
    (parts / "stats-00000.json").write_text(json.dumps({"rows_in": table.num_rows, **out.stats}, sort_keys=True))


def _assemble(stage: Stage, stage_dir: Path, groups: int, batch_rows: int) -> tuple[int, int, Counter, pa.Table]:
    """Concatenate the parts in batch order: the result does not depend on which worker finished first."""
    parts = stage_dir / "parts"
    stats: Counter = Counter()
    writer: RowGroupWriter | None = None
    quarantines = [load_contract("quarantine").schema.empty_table()]
    for g in range(groups):
        stats.update(json.loads((parts / f"stats-{g:05d}.json").read_text()))
        kept = pq.read_table(parts / f"kept-{g:05d}.parquet")
        if writer is None:
            writer = RowGroupWriter(stage_dir / "kept.parquet", kept.schema, batch_rows)
        writer.write(kept)
        quarantines.append(pq.read_table(parts / f"quarantine-{g:05d}.parquet"))
    if writer is None:  # an empty input: still leave a valid, empty output with the contract's schema
        schema = load_contract(stage.output_contract).schema if stage.output_contract else pa.schema([])
        writer = RowGroupWriter(stage_dir / "kept.parquet", schema, batch_rows)
    writer.close()
    rows_in = stats.pop("rows_in", 0)
    return rows_in, writer.rows_written, stats, pa.concat_tables(quarantines)


def run_build(bc: BuildContext) -> list[StageResult]:
    """Run ingest and then every stage of the recipe; `force_from` reruns that stage and all after it."""
    names = bc.recipe.stage_names
    if bc.force_from and bc.force_from not in names:
        raise RecipeError(f"--force {bc.force_from}: not a stage of this recipe ({', '.join(names)})")
    steps = []
    for step in bc.recipe.stages:  # check every stage and its options before running anything
        try:
            stage = get_stage(step.name)
            stage.make_config(step.options)
        except KeyError as exc:
            raise RecipeError(f"{bc.recipe.path.name}: {exc.args[0]}") from None
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"{bc.recipe.path.name}: stage {step.name!r}: {exc}") from None
        steps.append((stage, step.options))
    forced_from = names.index(bc.force_from) if bc.force_from else len(names)
    start = time.perf_counter()
    specs = [resolve_source(raw, bc.work_dir, bc.recipe.workers) for raw in bc.recipe.sources]
    bc.sources_seconds = time.perf_counter() - start
    results = [run_ingest(bc, specs)]
    for i, (stage, options) in enumerate(steps, start=1):
        results.append(run_stage(bc, stage, options, results[-1], forced=i >= forced_from))
    return results
