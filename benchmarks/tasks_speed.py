"""Speed of the `tasks` stage: 220,000 de-identified synthetic records in one call, one process.

    python benchmarks/tasks_speed.py                  # 2,000 synthetic records through deid, repeated to 220,000
    python benchmarks/tasks_speed.py --records 22000

Reports wall and CPU seconds: the build machine is shared, so CPU time is the number to compare. `tasks` is a
reduce stage (the per-query cap, the exact-copy check and the grounding lexicon span the whole table), so the
runner gives it one process; it reads the table in slices of 2,000 records itself.
"""

from __future__ import annotations

import argparse
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
    config, ctx = stage.make_config({}), StageContext(seed=1, workdir=Path("."), secret=b"benchmark")
    t0, c0 = time.perf_counter(), time.process_time()
    rows = stage.fn(table, config, ctx).kept.num_rows
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"tasks: {table.num_rows:,} records -> {rows:,} rows; {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({table.num_rows / cpu:,.0f} records per CPU-second)")


if __name__ == "__main__":
    main()
