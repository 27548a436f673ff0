"""What a worker process runs: one batch of a stage, written to part files.

Kept small on purpose: a spawned worker imports this module, `cmedins.stage` and the one stage module its job
names, nothing else (no readers, no report, no other stage).

A worker must never outlive the build that started it: a pool worker waits on its task queue forever, so after a
`kill -9` of the build (or an OOM kill) it would sit there holding memory and, worse, could write part files into
a folder a resumed build is using. `exit_with_parent` (the pool's initializer) ends it as soon as its parent dies.
"""

from __future__ import annotations

import ctypes
import dataclasses
import importlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.contracts import load_contract
from cmedins.parquet_io import RowGroupWriter, write_table, write_text
from cmedins.runner.hashing import file_sha256
from cmedins.stage import Stage, StageContext, StageOutput, collect, get_stage


class StageFailed(RuntimeError):
    """A stage raised or broke its contract: a bug, not a data error (data errors are quarantined). One line."""


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker process needs to run one batch; small enough to pickle cheaply."""

    stage: str
    options: dict[str, Any]
    seed: int
    secret: bytes
    batch_rows: int
    input_path: str
    row_group: int | None  # None: the whole table (a reduce stage)
    row_offset: int
    stage_dir: str
    workers: int = 1  # a whole-table stage's processes for its per-record work (StageContext.workers)
    module: str = ""  # the module that registers the stage: imported first, so a spawned worker knows the stage


# Per process: what each stage's `setup` built, by stage and config, so it is built once per worker.
_STATE: dict[tuple[str, str], Any] = {}


def stage_state(stage: Stage, config: Any) -> Any:
    """The stage's set-up state for this config, built on first use in this process."""
    if stage.setup is None:
        return None
    key = (stage.name, json.dumps(dataclasses.asdict(config), sort_keys=True, default=str))
    if key not in _STATE:
        _STATE[key] = stage.setup(config)
    return _STATE[key]


def conform(stage: Stage, out: StageOutput) -> pa.Table:
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


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_POLL_SECONDS = 0.1


def exit_with_parent(parent_pid: int, use_pdeathsig: bool) -> None:
    """Pool initializer: end this worker as soon as the build process `parent_pid` is gone.

    Two mechanisms, because each has a gap. On Linux the kernel sends SIGKILL the moment the parent dies
    (`PR_SET_PDEATHSIG`), even while this worker holds the GIL in a long regex; but it fires when the *thread*
    that spawned the worker exits, so the runner asks for it only when it spawns from the main thread (whose end
    is the process's end). Everywhere, a daemon thread also compares `os.getppid()` with the parent's pid (a dead
    parent's children are re-parented) and calls `os._exit`: no cleanup to run, the parts are atomic.
    """
    if use_pdeathsig and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the polling thread below still ends the worker
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="cmedins-parent-watch", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def part_name(kind: str, i: int) -> str:
    return f"{kind}-{i:05d}.{'json' if kind == 'stats' else 'parquet'}"


def part_files(i: int) -> tuple[str, str]:
    """The data part files of batch i, whose sha256s its stats file records."""
    return part_name("kept", i), part_name("quarantine", i)


def batch_done(parts: Path, i: int) -> dict[str, Any] | None:
    """Batch i's stats when the batch is done and its part files are intact, else None (then it is recomputed).

    Done means: the stats file (written last) is there and parses, and every part file it lists still has the
    sha256 recorded when it was written; a part damaged or swapped since (disk error, a stray edit) is not reused.
    """
    try:
        done = json.loads((parts / part_name("stats", i)).read_text(encoding="utf-8"))
        files = done["files"]
        if sorted(files) != sorted(part_files(i)):
            return None
        if any(file_sha256(parts / name) != sha for name, sha in files.items()):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return done


def _write_pieces(stage: Stage, pieces: Iterable[StageOutput], path: Path, batch_rows: int) -> StageOutput:
    """Stream the kept rows of `pieces` into `path`; return their quarantine, counters and accounting summed
    (`kept` empty)."""
    writer: RowGroupWriter | None = None

    def written() -> Iterator[StageOutput]:
        nonlocal writer
        for piece in pieces:
            kept = conform(stage, piece)
            if writer is None:
                writer = RowGroupWriter(path, kept.schema, batch_rows)
            writer.write(kept)
            yield dataclasses.replace(piece, kept=pa.table({}))

    try:
        out = collect(written())
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is None:  # no piece at all: an empty output with the contract's columns
        schema = load_contract(stage.output_contract).schema if stage.output_contract else pa.schema([])
        writer = RowGroupWriter(path, schema, batch_rows)
    writer.close()
    return out


def run_batch(job: BatchJob) -> int:
    """Run one batch and write its part files; the stats file, written last, marks the batch done and records
    each part's sha256, so that a resumed build can tell an intact part from a damaged one."""
    start = time.perf_counter()
    if job.module and job.module != "__main__" and job.module not in sys.modules:
        importlib.import_module(job.module)  # a stage registered outside the package (a plugin, a test)
    stage = get_stage(job.stage)
    config = stage.make_config(job.options)
    pf = pq.ParquetFile(job.input_path)
    if job.row_group is not None:
        table, input_path = pf.read_row_group(job.row_group), None
    elif stage.columns is not None:  # only what the whole-table step needs; whole rows come from `input_batches`
        names = set(pf.schema_arrow.names)
        columns = [c for c in stage.columns(config) if c in names]
        table, input_path = pf.read(columns=columns), Path(job.input_path)
    else:
        table, input_path = pf.read(), None
    ctx = StageContext(seed=job.seed, workdir=Path(job.stage_dir), secret=job.secret, row_offset=job.row_offset,
                       batch_rows=job.batch_rows, state=stage_state(stage, config), workers=job.workers,
                       input_path=input_path)
    rows_in = table.num_rows
    out = stage.fn(table, config, ctx)
    del table  # a stage that yields its output keeps what it needs of its input; the rest can go
    i = job.row_group or 0
    parts = Path(job.stage_dir) / "parts"
    kept_name, quarantine_name = part_files(i)
    if isinstance(out, StageOutput):
        write_table(conform(stage, out), parts / kept_name)
    else:  # a whole-table stage yields its output in pieces: written as they come, never all held at once
        out = _write_pieces(stage, out, parts / kept_name, job.batch_rows)
    write_table(out.quarantined, parts / quarantine_name)
    done = {"rows_in": rows_in, "inputs_used": out.inputs_used, "inputs_quarantined": out.inputs_quarantined,
            "stats": out.stats, "seconds": round(time.perf_counter() - start, 4),
            "files": {name: file_sha256(parts / name) for name in (kept_name, quarantine_name)}}
    write_text(json.dumps(done, sort_keys=True), parts / part_name("stats", i))
    return i
