"""Speed of the release stages (kanon, validate_rows, validate, publish) on a finished build, one process.

    python -m cmedins.build --out cmedins-build        # once: any build whose recipe ran the stage before kanon
    python benchmarks/publish_speed.py --build cmedins-build [--after mix] [--copies 5]

Reads the kept rows of the stage `--after` (default: the last of mix, dedup, clean, tasks that the build has),
optionally repeated `--copies` times under new ids (a larger release), and runs the four stages on them in this
process, into a scratch folder. Prints wall and CPU seconds per stage and the parts that dominate: the Great
Expectations import, the residual scan and the GX run. The build machine is shared: compare CPU seconds. In a
build, validate_rows runs in the worker pool, so its wall time divides by about the number of workers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cmedins.runner.hashing import code_version
from cmedins.stage import StageContext, get_stage

STAGES = (("kanon", {"k": 5}), ("validate_rows", {}), ("validate", {"pii": "quarantine"}),
          ("publish", {"version": "0.0.1"}))


def _input(build: Path, after: str | None, copies: int) -> tuple[str, pa.Table]:
    names = [after] if after else ["mix", "dedup", "clean", "tasks"]
    name = next((n for n in names if (build / "work" / n / "kept.parquet").is_file()), None)
    if name is None:
        raise SystemExit(f"{build}: no kept.parquet of {', '.join(names)} under work/; build first")
    table = pq.read_table(build / "work" / name / "kept.parquet")
    parts = [table]
    for i in range(1, copies):
        ids = pc.binary_join_element_wise(table.column("id"), pa.scalar(f"~{i}"), "")
        part = table.set_column(table.column_names.index("id"), "id", ids)
        for key in ("source_record_hash", "record_key", "patient_key", "group_key"):
            if key in part.column_names:
                col = pc.binary_join_element_wise(part.column(key), pa.scalar(f"~{i}"), "")
                part = part.set_column(part.column_names.index(key), key, col)
        parts.append(part)
    return name, pa.concat_tables(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="cmedins-build", help="a finished build folder")
    parser.add_argument("--after", help="stage whose kept rows to release (default: mix, dedup, clean or tasks)")
    parser.add_argument("--copies", type=int, default=1, help="repeat the rows under new ids (larger releases)")
    args = parser.parse_args()
    build = Path(args.build)
    name, table = _input(build, args.after, max(1, args.copies))
    print(f"input: {table.num_rows:,} rows of work/{name}/kept.parquet x{args.copies}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for m in build.glob("work/*/manifest.json"):  # the build facts the stages read (deid policy, sources)
            if m.parent.name in {s for s, _ in STAGES}:
                continue
            data = json.loads(m.read_text(encoding="utf-8"))
            data["code_version"] = code_version()
            (out / "work" / m.parent.name).mkdir(parents=True, exist_ok=True)
            (out / "work" / m.parent.name / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
        t0 = time.perf_counter()
        import great_expectations  # noqa: F401  (what the validate stage pays once per build)

        print(f"{'import great_expectations':<26} {time.perf_counter() - t0:6.1f} s wall")
        for stage_name, options in STAGES:
            stage = get_stage(stage_name)
            workdir = out / "work" / stage_name
            (workdir / "parts").mkdir(parents=True, exist_ok=True)
            ctx = StageContext(seed=20240521, workdir=workdir, secret=b"benchmark")
            t0, c0 = time.perf_counter(), time.process_time()
            result = stage.fn(table, stage.make_config(options), ctx)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"{stage_name:<26} {wall:6.1f} s wall {cpu:6.1f} s CPU  {table.num_rows:,} -> "
                  f"{result.kept.num_rows:,} rows ({result.quarantined.num_rows:,} quarantined)")
            table = result.kept
            (workdir / "manifest.json").write_text(json.dumps({
                "stage": stage_name, "code_version": code_version(), "rows_in": 0, "kept": 0, "quarantined": 0,
                "fan_out": False, "inputs_used": 0, "inputs_quarantined": 0}), encoding="utf-8")
        size = sum(p.stat().st_size for p in (out / "dataset").rglob("*") if p.is_file())
        print(f"published: {size / 1e6:.1f} MB in {sum(1 for _ in (out / 'dataset').rglob('*.parquet'))} shards")
        shutil.rmtree(out / "dataset", ignore_errors=True)


if __name__ == "__main__":
    main()
