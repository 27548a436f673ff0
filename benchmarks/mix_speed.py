"""Speed of the `mix` stage at the default build's size and at the paper's (about 220,000 task rows), one process.

    python benchmarks/mix_speed.py                         # 70,000 and 220,000 task rows, the default sources
    python benchmarks/mix_speed.py --rows 70000 --dialogue-rows 20000

Task rows are made here (six tasks per record, two records per patient, a few hundred characters each), so the
benchmark needs no build. Prints wall and CPU seconds of the whole stage and of its residual scan, side by side
with the baseline of scanning every text instead of each distinct text once, and the achieved share error. The
build machine is shared: CPU time is the number to compare.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import xxhash

from cmedins.deid.residual import scan_residual
from cmedins.mix.config import DEFAULT_SOURCES
from cmedins.mix.privacy import _texts
from cmedins.sources.adapt import load_source
from cmedins.sources.spec import SourceSpec
from cmedins.stage import StageContext, get_stage

TASKS = ("event_extraction", "triage", "diagnosis", "diagnosis_normalization", "medication", "summary")


def task_table(n: int) -> pa.Table:
    """n task rows shaped like the tasks stage's (the columns mix reads)."""
    ids, tasks, recs, patients, messages = [], [], [], [], []
    for i in range(n):
        rec, task = i // len(TASKS), TASKS[i % len(TASKS)]
        ids.append(xxhash.xxh3_128_hexdigest(f"{rec}/{task}".encode()))
        tasks.append(task)
        recs.append(f"rec{rec:07d}")
        patients.append(f"pat{rec // 2:07d}")
        query = f"病历{rec}：患者因反复咳嗽{rec % 9 + 1}天入院，伴发热，最高体温38.{rec % 10}℃。" * 6
        messages.append([{"role": "user", "content": f"请完成{task}。\n{query}"},
                         {"role": "assistant", "content": f"结果{rec % 97}：社区获得性肺炎。" * 3}])
    return pa.table({"id": ids, "task": tasks, "source": ["records"] * n, "source_record_hash": recs,
                     "patient_key": patients, "department": ["呼吸内科"] * n, "messages": messages})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[70_000, 220_000])
    parser.add_argument("--dialogue-rows", type=int, default=2000, help="rows of each generated dialogue source")
    args = parser.parse_args()
    sources = [{**s, "rows": args.dialogue_rows} if s["group"].startswith("dialogue") else s for s in DEFAULT_SOURCES]
    stage = get_stage("mix")
    config = stage.make_config({"sources": sources})
    with tempfile.TemporaryDirectory() as tmp:
        ext = [load_source(SourceSpec.from_dict(s), Path(tmp), 1).examples for s in sources]
        texts = [t for df in ext for t in _texts(df)[0]]
        t0, c0 = time.perf_counter(), time.process_time()
        scan_residual(texts)
        every = (time.perf_counter() - t0, time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        scan_residual(list(dict.fromkeys(texts)))
        distinct = (time.perf_counter() - t0, time.process_time() - c0)
        print(f"residual scan of {len(texts):,} external texts: every text {every[0]:.2f} s wall / {every[1]:.2f} s "
              f"CPU (baseline) vs each distinct text once ({len(set(texts)):,}) {distinct[0]:.2f} s / "
              f"{distinct[1]:.2f} s")
        for n in args.rows:
            table = task_table(n)
            ctx = StageContext(seed=1, workdir=Path(tmp) / str(n), secret=b"benchmark")
            t0, c0 = time.perf_counter(), time.process_time()
            out = stage.fn(table, config, ctx)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"mix: {n:,} task rows + {sum(s['rows'] for s in sources):,} source rows -> {out.kept.num_rows:,} "
                  f"rows ({out.stats['split_rows:validation']:,} validation); {wall:.1f} s wall, {cpu:.1f} s CPU; "
                  f"largest share error {out.stats['share_max_deviation_bp'] / 100:.2f} points; "
                  f"leaked groups {out.stats['leaked_group_keys']}")


if __name__ == "__main__":
    main()
