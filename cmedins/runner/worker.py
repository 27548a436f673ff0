"""What a worker process runs: one batch of a stage, written to part files.

Kept small on purpose: a spawned worker imports this module, `cmedins.stage` and the one stage module its job
names, nothing else (no readers, no report, no other stage).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.contracts import load_contract
from cmedins.parquet_io import write_table
from cmedins.stage import Stage, StageContext, StageOutput, get_stage


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


def part_name(kind: str, i: int) -> str:
    return f"{kind}-{i:05d}.{'json' if kind == 'stats' else 'parquet'}"


def run_batch(job: BatchJob) -> int:
    """Run one batch and write its part files; the stats file, written last, marks the batch done."""
    start = time.perf_counter()
    stage = get_stage(job.stage)
    config = stage.make_config(job.options)
    pf = pq.ParquetFile(job.input_path)
    table = pf.read() if job.row_group is None else pf.read_row_group(job.row_group)
    ctx = StageContext(seed=job.seed, workdir=Path(job.stage_dir), secret=job.secret, row_offset=job.row_offset,
                       batch_rows=job.batch_rows, state=stage_state(stage, config))
    out = stage.fn(table, config, ctx)
    i = job.row_group or 0
    parts = Path(job.stage_dir) / "parts"
    write_table(conform(stage, out), parts / part_name("kept", i))
    write_table(out.quarantined, parts / part_name("quarantine", i))
    done = {"rows_in": table.num_rows, "inputs_used": out.inputs_used, "inputs_quarantined": out.inputs_quarantined,
            "stats": out.stats, "seconds": round(time.perf_counter() - start, 4)}
    tmp = parts / (part_name("stats", i) + ".tmp")
    tmp.write_text(json.dumps(done, sort_keys=True))
    tmp.replace(parts / part_name("stats", i))
    return i
