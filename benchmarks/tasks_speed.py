"""Speed of the `tasks` stage: 220,000 de-identified synthetic records in one call, 1 worker vs 2 side by side.

    python benchmarks/tasks_speed.py                  # 2,000 synthetic records through deid, repeated to 220,000
    python benchmarks/tasks_speed.py --records 22000

`tasks` is a reduce stage (the per-query cap, the exact-copy check and the grounding lexicon span the whole
table), but every cross-row rule keeps its state per task, so with 2 workers the tasks run in two groups, each in
a process of its own over every slice (`cmedins/tasks/stage.py`). The baseline is the same call with 1 worker
(everything in this process). The rows are consumed piece by piece as the runner does (never all in memory);
the output of both runs is compared. Reports wall seconds, records/s and the speed-up.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cmedins.stage import StageContext, get_stage
from cmedins.synth import generate


def deid_sample(tmp: Path, n: int = 2000) -> pa.Table:
    generate(n, seed=99, out=tmp, workers=2)
    deid = get_stage("deid")
    ctx = StageContext(seed=5, workdir=tmp, secret=b"benchmark")
    return deid.fn(pq.read_table(tmp / "records.parquet"), deid.make_config({}), ctx).kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=220_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = deid_sample(Path(tmp))
    copies = -(-args.records // base.num_rows)
    parts = [base.set_column(0, "record_hash", pc.binary_join_element_wise(
        base.column("record_hash"), pa.scalar(f"{i:04d}"), "")) for i in range(copies)]
    table = pa.concat_tables(parts).slice(0, args.records)
    stage = get_stage("tasks")
    config = stage.make_config({})
    seconds, digests = {}, {}
    for workers in (1, 2):
        ctx = StageContext(seed=1, workdir=Path("."), secret=b"benchmark", workers=workers)
        t0 = time.perf_counter()
        rows, digest = 0, hashlib.sha256()
        for piece in stage.fn(table, config, ctx):
            rows += piece.kept.num_rows
            for column in ("id", "answer"):
                digest.update("\x1f".join(piece.kept.column(column).to_pylist()).encode())
        seconds[workers], digests[workers] = time.perf_counter() - t0, digest.hexdigest()
        print(f"tasks, {workers} worker(s): {table.num_rows:,} records -> {rows:,} rows; {seconds[workers]:.1f} s "
              f"wall ({table.num_rows / seconds[workers]:,.0f} records/s)")
    print(f"speed-up of 2 workers over 1: {seconds[1] / seconds[2]:.2f}x; same rows: {digests[1] == digests[2]}")


if __name__ == "__main__":
    main()
