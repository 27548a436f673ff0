"""The local runner: runs a recipe's stages in order with caching, resume and a process pool.

Layout of the work directory (`<out>/work/<stage>/`):
  kept.parquet, quarantine.parquet   the stage's output and rejects (row groups of `batch_rows` rows)
  manifest.json                      written last: its presence with the right key means "done and up to date"
  parts/                             per-batch results while the stage runs; a killed build resumes from them

A stage's cache key hashes its input (the upstream kept.parquet's sha256), its config, every file its
`input_files` names (source files, plugin code, templates), the seed, the build secret's fingerprint and the code
version. The runner knows stages only through the registry: it imports no stage module by name.

Nothing in the work directory is trusted on its name alone: a cached stage is served only while its kept and
quarantine files still have the sha256s its manifest recorded, and a finished batch is reused only while its part
files still have the sha256s its stats file recorded; anything else is recomputed. Every file is written
atomically (`cmedins.parquet_io`), so a kill, a full disk or a read-only folder never leaves half a file that a
later run could mistake for a whole one.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cmedins.contracts import load_contract
from cmedins.parquet_io import RowGroupWriter, ensure_dir, remove_stale_tmp, write_text
from cmedins.registry import RegistryError
from cmedins.runner.hashing import code_version, file_sha256, json_sha256
from cmedins.runner.progress import BuildProgress
from cmedins.runner.recipe import Recipe, RecipeError
from cmedins.runner.sources import resolve_source
from cmedins.runner.worker import (
    BatchJob,
    StageFailed,
    batch_done,
    conform,
    exit_with_parent,
    part_name,
    run_batch,
    stage_state,
)
from cmedins.secret import build_secret, fingerprint
from cmedins.stage import Stage, StageContext, check_chain, get_stage

__all__ = ["BuildContext", "StageFailed", "StageResult", "run_build"]


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
    inputs_used: int = 0
    inputs_quarantined: int = 0
    batch_seconds: list[float] = field(default_factory=list)  # this run's seconds per batch (empty when cached)
    output: Path | None = None
    output_sha256: str = ""  # `output_identity`: the kept table (+ side files); the next stage's key reads it

    @property
    def accounted(self) -> bool:
        """Every input row is kept or quarantined (1:1 stages), or used or quarantined (fan-out stages)."""
        if self.fan_out:
            return self.inputs_used + self.inputs_quarantined == self.rows_in
        return self.kept + self.quarantined == self.rows_in


@dataclass
class BuildContext:
    recipe: Recipe
    out_dir: Path
    force_from: str | None = None
    progress: BuildProgress = field(default_factory=lambda: BuildProgress(enabled=False))
    sources_seconds: float = 0.0  # time spent generating synthetic sources (not part of any stage)
    runner: str = "local"  # local: a process pool on this machine; ray: Ray Data / Ray tasks (ray_backend.py)
    ray_address: str | None = None  # ray: the cluster to join (`auto`, HOST:PORT); None starts a local instance

    @property
    def work_dir(self) -> Path:
        return self.out_dir / "work"

    def rel(self, path: Path) -> str:
        """`path` as messages name it: relative to the build folder when inside it."""
        return str(path.relative_to(self.out_dir)) if path.is_relative_to(self.out_dir) else str(path)


@dataclass
class _Totals:
    """What a stage run adds up over its batches (or source reads)."""

    rows_in: int = 0
    inputs_used: int = 0
    inputs_quarantined: int = 0
    stats: Counter = field(default_factory=Counter)
    batch_seconds: list[float] = field(default_factory=list)


OUTPUT_FILES = ("kept.parquet", "quarantine.parquet")
STAGES_FILE = "stages.json"  # in the work folder: the running recipe's stage names, in order
QUARANTINE_ROW_GROUP = 10_000  # rows per row group of quarantine.parquet


def _manifest(stage_dir: Path) -> dict[str, Any] | None:
    """The stage's manifest, or None when there is none or it is unreadable (then the stage simply reruns)."""
    try:
        m = json.loads((stage_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def _damaged_output(stage_dir: Path, m: dict[str, Any]) -> str | None:
    """The first output file that is missing or no longer has the sha256 its manifest recorded, else None.

    Hashing the outputs on every cache hit costs a read of each file; serving a damaged or swapped file would
    silently change the dataset (and every later stage's key is computed from the manifest, not the file).
    """
    files = m.get("files")
    for name in OUTPUT_FILES:
        path = stage_dir / name
        want = files.get(name) if isinstance(files, dict) else None
        if not want or not path.is_file() or file_sha256(path) != want:
            return name
    side = m.get("side_files") or {}
    return next((name for name, want in side.items()
                 if not (stage_dir / name).is_file() or file_sha256(stage_dir / name) != want), None)


def _read_key(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def _result(m: dict[str, Any], stage_dir: Path, cached: bool, seconds: float,
            batch_seconds: list[float] | None = None) -> StageResult:
    return StageResult(
        name=m["stage"], key=m["key"], cached=cached, rows_in=m["rows_in"], kept=m["kept"],
        quarantined=m["quarantined"], by_reason=m["by_reason"], stats=m["stats"], seconds=seconds,
        fan_out=m["fan_out"], inputs_used=m["inputs_used"], inputs_quarantined=m["inputs_quarantined"],
        batch_seconds=batch_seconds or [], output=stage_dir / "kept.parquet",
        output_sha256=output_identity(m),
    )


def _portable(value: Any, out_dir: Path) -> Any:
    """`value` with every path inside the build folder made relative to it, so that two builds in two folders
    write the same manifest bytes and the same cache keys."""
    if isinstance(value, dict):
        return {k: _portable(v, out_dir) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_portable(v, out_dir) for v in value]
    if isinstance(value, str | Path) and Path(value).is_absolute() and Path(value).is_relative_to(out_dir):
        return str(Path(value).relative_to(out_dir))
    return value


def _side_files(stage_dir: Path) -> dict[str, str]:
    """sha256 of every file a stage wrote besides its tables (validation.json, dpo.parquet, embedded sources):
    later stages read some of them (through `cmedins/validate/buildinfo.py`), so they are part of its output."""
    skip = {*OUTPUT_FILES, "manifest.json"}
    return {p.relative_to(stage_dir).as_posix(): file_sha256(p) for p in sorted(stage_dir.rglob("*"))
            if p.is_file() and p.name not in skip and "parts" not in p.relative_to(stage_dir).parts}


def output_identity(m: dict[str, Any]) -> str:
    """What the next stage's cache key reads of this stage: its kept table, and its side files when it wrote any,
    so that a stage reading another's side output reruns when that output changed."""
    side = m.get("side_files") or {}
    kept = m["files"]["kept.parquet"]
    return json_sha256({"kept": kept, "side": side}) if side else kept


class _Quarantine:
    """The stage's quarantine.parquet, written as the parts come (never all in memory: at a large build a stage
    may refuse millions of rows, each with its payload), with the rows per reason for the manifest."""

    def __init__(self, stage_dir: Path) -> None:
        schema = load_contract("quarantine").schema
        self._writer = RowGroupWriter(stage_dir / "quarantine.parquet", schema, QUARANTINE_ROW_GROUP)
        self.by_reason: Counter[str] = Counter()

    def write(self, table: pa.Table) -> None:
        self._writer.write(table)
        for count in pc.value_counts(table.column("reason")).to_pylist():
            self.by_reason[count["values"]] += count["counts"]

    @property
    def rows(self) -> int:
        return sum(self.by_reason.values())

    def __enter__(self) -> _Quarantine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._writer.__exit__(*exc)


def _finish_stage(stage_dir: Path, stage: Stage, key: str, config: dict, totals: _Totals, kept_rows: int,
                  quarantine: _Quarantine) -> dict[str, Any]:
    """Write the manifest (the completion marker, last: kept and quarantine files are in place) and drop the
    parts."""
    manifest = {
        "stage": stage.name, "key": key, "code_version": code_version(), "config": config, "fan_out": stage.fan_out,
        "rows_in": totals.rows_in, "kept": kept_rows, "quarantined": quarantine.rows,
        "by_reason": dict(sorted(quarantine.by_reason.items())),
        "inputs_used": totals.inputs_used, "inputs_quarantined": totals.inputs_quarantined,
        "stats": dict(sorted(totals.stats.items())),
        "files": {f: file_sha256(stage_dir / f) for f in OUTPUT_FILES},
        "side_files": _side_files(stage_dir),
    }
    write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", stage_dir / "manifest.json")
    shutil.rmtree(stage_dir / "parts", ignore_errors=True)
    return manifest


def _prepare_dir(bc: BuildContext, stage_dir: Path, key: str, forced: bool) -> bool:
    """Return True when the stage is up to date; otherwise leave a directory ready to (re)run or resume.

    Up to date: a manifest with this key whose output files are intact. Resume: no manifest, and parts written
    under this key (`parts/KEY`); temp files a killed writer left are removed. Anything else starts afresh.
    """
    m = _manifest(stage_dir)
    if m is not None and m.get("key") == key and not forced:
        damaged = _damaged_output(stage_dir, m)
        if damaged is None:
            shutil.rmtree(stage_dir / "parts", ignore_errors=True)  # a kill between manifest and cleanup
            return True
        bc.progress.warn(f"{stage_dir.name}: {bc.rel(stage_dir / damaged)} does not match its manifest; "
                         "rerunning the stage")
    parts = stage_dir / "parts"
    key_file = parts / "KEY"
    if forced or m is not None or _read_key(key_file) != key:
        shutil.rmtree(stage_dir, ignore_errors=True)
    else:
        remove_stale_tmp(stage_dir)
        remove_stale_tmp(parts)
    ensure_dir(parts)
    write_text(key, key_file)
    return False


def _stage_key(bc: BuildContext, stage: Stage, config: Any, input_sha: str) -> str:
    files = [{"path": _portable(str(p), bc.out_dir), "sha256": file_sha256(Path(p))}
             for p in stage.input_files(config)]
    return json_sha256({
        "stage": stage.name, "config": _portable(dataclasses.asdict(config), bc.out_dir), "input": input_sha,
        "files": files, "seed": bc.recipe.seed, "secret": fingerprint(build_secret()),
        "batch_rows": bc.recipe.batch_rows, "code": code_version(),
    })


def run_stage(bc: BuildContext, stage: Stage, options: dict, upstream: StageResult | None,
              forced: bool) -> StageResult:
    """Run one stage (over the upstream stage's kept table, or its sources), resuming finished batches."""
    stage_dir = bc.work_dir / stage.name
    config = stage.make_config(options)
    key = _stage_key(bc, stage, config, upstream.output_sha256 if upstream else "")
    start = time.perf_counter()
    if _prepare_dir(bc, stage_dir, key, forced):
        bc.progress.cached(stage.name)
        return _result(_manifest(stage_dir), stage_dir, True, time.perf_counter() - start)
    if stage.kind == "source":
        totals, kept_rows, quarantine = _run_source(bc, stage, config, stage_dir)
    else:
        assert upstream is not None and upstream.output is not None
        totals = _run_batches(bc, stage, options, upstream.output, stage_dir)
        kept_rows, quarantine = _assemble(stage, stage_dir, len(totals.batch_seconds), bc.recipe.batch_rows)
    m = _finish_stage(stage_dir, stage, key, _portable(dataclasses.asdict(config), bc.out_dir), totals, kept_rows,
                      quarantine)
    return _result(m, stage_dir, False, time.perf_counter() - start, totals.batch_seconds)


def _run_source(bc: BuildContext, stage: Stage, config: Any, stage_dir: Path) -> tuple[_Totals, int, _Quarantine]:
    """A source stage streams its outputs straight into kept.parquet (no parts: reading is cheap to redo)."""
    ctx = StageContext(bc.recipe.seed, stage_dir, build_secret(), batch_rows=bc.recipe.batch_rows,
                       state=stage_state(stage, config))
    totals = _Totals()
    task = bc.progress.start(stage.name, total=None, unit="rows")
    last = time.perf_counter()
    # the blocks close the writers (renaming the files into place) or, on any error, remove their temp files
    with RowGroupWriter(stage_dir / "kept.parquet", load_contract(stage.output_contract).schema,
                        bc.recipe.batch_rows) as writer, _Quarantine(stage_dir) as quarantined:
        for out in stage.fn(config, ctx):
            writer.write(conform(stage, out))
            quarantined.write(out.quarantined)
            totals.rows_in += out.rows_read
            totals.stats.update(out.stats)
            now = time.perf_counter()
            totals.batch_seconds.append(round(now - last, 4))
            last = now
            bc.progress.advance(task, out.kept.num_rows + out.quarantined.num_rows)
    bc.progress.done(task)
    return totals, writer.rows_written, quarantined


def _run_batches(bc: BuildContext, stage: Stage, options: dict, input_path: Path, stage_dir: Path) -> _Totals:
    """Map stages: one job per row group of the input, in a process pool; reduce stages: one job, whole table."""
    parts = stage_dir / "parts"
    meta = pq.ParquetFile(input_path).metadata
    offsets = [0]
    for g in range(meta.num_row_groups):
        offsets.append(offsets[-1] + meta.row_group(g).num_rows)
    groups = meta.num_row_groups if stage.kind == "map" else 1
    secret = build_secret()

    def job(g: int) -> BatchJob:
        return BatchJob(stage.name, options, bc.recipe.seed, secret, bc.recipe.batch_rows, str(input_path),
                        g if stage.kind == "map" else None, offsets[g], str(stage_dir),
                        workers=1 if stage.kind == "map" else bc.recipe.workers, module=stage.fn.__module__)

    todo = [g for g in range(groups) if batch_done(parts, g) is None]
    damaged = [g for g in todo if (parts / part_name("stats", g)).exists()]
    if damaged:
        bc.progress.warn(f"{stage.name}: {len(damaged)} finished batch(es) whose part files no longer match their "
                         f"recorded sha256 (first: batch {damaged[0]}); recomputing them")
    task = bc.progress.start(stage.name, total=groups, unit="batches", completed=groups - len(todo))
    if bc.runner == "ray" and todo:
        from cmedins.runner import ray_backend

        ray_backend.connect(bc.ray_address, bc.recipe.workers)
        ray_backend.run_jobs([job(g) for g in todo], bc.recipe.workers, stage.kind == "reduce",
                             lambda n: bc.progress.advance(task, n))
    elif stage.kind == "reduce" and meta.num_row_groups > 1:
        # a whole-table stage over more than one batch runs in a process of its own: the memory it takes (the
        # table, Python objects of its rows) goes back to the system when it ends instead of staying with the
        # build process, whose size would otherwise grow by each whole-table stage's peak (at 44,000 records
        # the build's peak grew from 2.5 GB in deid to 4.0 GB by dedup)
        _run_in_pool(bc, stage, [job(g) for g in todo], task, workers=1)
    elif stage.kind == "reduce" or bc.recipe.workers == 1 or len(todo) <= 1:
        for g in todo:
            run_batch(job(g))
            bc.progress.advance(task, 1)
    else:
        _run_in_pool(bc, stage, [job(g) for g in todo], task, bc.recipe.workers)
    bc.progress.done(task)
    totals = _Totals()
    for g in range(groups):
        done = json.loads((parts / part_name("stats", g)).read_text(encoding="utf-8"))
        totals.rows_in += done["rows_in"]
        totals.inputs_used += done["inputs_used"]
        totals.inputs_quarantined += done["inputs_quarantined"]
        totals.stats.update(done["stats"])
        totals.batch_seconds.append(done["seconds"])
    return totals


def _run_in_pool(bc: BuildContext, stage: Stage, jobs: list[BatchJob], task: Any, workers: int) -> None:
    """Run `jobs` in a spawn pool of `workers` processes that end with this one (`exit_with_parent`), a few
    jobs in flight."""
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe once polars/duckdb threads exist
    # PR_SET_PDEATHSIG follows the spawning thread; the pool spawns its workers from the thread that submits
    from_main = threading.current_thread() is threading.main_thread()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=exit_with_parent,
                                 initargs=(os.getpid(), from_main)) as pool:
            pending: set[Future[int]] = set()
            queue = list(jobs)
            try:
                while queue or pending:
                    while queue and len(pending) < 2 * workers:  # bound memory: a few batches in flight
                        pending.add(pool.submit(run_batch, queue.pop(0)))
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        fut.result()
                        bc.progress.advance(task, 1)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # fail now: start no queued batch
                raise
    except BrokenProcessPool:
        raise StageFailed(f"stage {stage.name!r}: a worker process died (killed by a signal, e.g. out of memory); "
                          "finished batches are kept: rerun to resume") from None


def _assemble(stage: Stage, stage_dir: Path, groups: int, batch_rows: int) -> tuple[int, _Quarantine]:
    """Concatenate the parts in batch order (the result does not depend on which worker finished first), row
    group by row group: a whole-table stage's single part may hold millions of rows."""
    parts = stage_dir / "parts"
    kept_parts = [pq.ParquetFile(parts / part_name("kept", g)) for g in range(groups)]
    # an empty input still leaves a valid, empty output with the contract's schema
    schema = (kept_parts[0].schema_arrow if kept_parts else
              load_contract(stage.output_contract).schema if stage.output_contract else pa.schema([]))
    with RowGroupWriter(stage_dir / "kept.parquet", schema, batch_rows) as writer, \
            _Quarantine(stage_dir) as quarantined:
        for part in kept_parts:
            for g in range(part.metadata.num_row_groups):
                writer.write(part.read_row_group(g))
        for g in range(groups):
            part = pq.ParquetFile(parts / part_name("quarantine", g))
            for i in range(part.metadata.num_row_groups):
                quarantined.write(part.read_row_group(i))
    return writer.rows_written, quarantined


def _checked(recipe: Recipe, name: str, options: dict) -> Stage:
    """The registered stage `name` with `options` checked; every problem is one RecipeError line."""
    try:
        stage = get_stage(name)
        stage.make_config(options)
    except RegistryError as exc:
        raise RecipeError(f"{recipe.path.name}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"{recipe.path.name}: stage {name!r}: {exc}") from None
    return stage


def run_build(bc: BuildContext) -> list[StageResult]:
    """Run the recipe's source stage (`ingest`) and every stage after it; `force_from` reruns that stage and all
    after it. Every stage, its options and the chain of contracts are checked before anything runs."""
    names = bc.recipe.stage_names
    if bc.force_from and bc.force_from not in names:
        raise RecipeError(f"--force {bc.force_from}: not a stage of this recipe ({', '.join(names)})")
    steps = [(_checked(bc.recipe, s.name, s.options), s.options) for s in bc.recipe.stages]
    source = get_stage(names[0])
    try:
        check_chain([source, *(stage for stage, _ in steps)])
    except ValueError as exc:
        raise RecipeError(f"{bc.recipe.path.name}: {exc}") from None
    start = time.perf_counter()
    resolved = [resolve_source(raw, bc.work_dir, bc.recipe.workers) for raw in bc.recipe.sources]
    bc.sources_seconds = time.perf_counter() - start
    steps.insert(0, (_checked(bc.recipe, source.name, {"sources": resolved}), {"sources": resolved}))
    forced_from = names.index(bc.force_from) if bc.force_from else len(names)
    # which stages make up this build, in order: a stage that reads another's manifest (the gate, the publisher)
    # must not mistake one left in the folder by an earlier recipe for part of this build
    write_text(json.dumps(names) + "\n", ensure_dir(bc.work_dir) / STAGES_FILE)
    results: list[StageResult] = []
    for i, (stage, options) in enumerate(steps):
        results.append(run_stage(bc, stage, options, results[-1] if results else None, forced=i >= forced_from))
    return results
