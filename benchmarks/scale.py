"""Scaling: end-to-end wall time, records/s and peak memory at two sizes for each runner, the per-record time ratio
between them, and each stage's cost per million records (the inputs of the README's plan for 26M records).

    python benchmarks/scale.py                                  # 22,000 and 220,000 records, local runner
    python benchmarks/scale.py --sizes 22000 --runners local,ray

Targets: 220,000 records in <= 10 min within 4 GiB on 2 cores (local runner); per-record time ratio 220K / 22K
<= 1.2 (the build is linear). Each run is a fresh build in a temporary folder; peak memory is the largest sum of
the resident set sizes of the build and all its child processes (Ray's raylet and workers included), sampled every
0.2 s from /proc (`build_speed.run_build`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_speed import run_build  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="22000,220000", help="comma-separated record counts (smallest first)")
    p.add_argument("--runners", default="local", help="local, ray or both (comma-separated)")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    for runner in a.runners.split(","):
        runs = {}
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix="cmedins-scale-") as tmp:
                runs[n] = run_build(n, a.workers, Path(tmp) / "out", runner)
        print(f"\nrunner: {runner}, workers {a.workers}")
        print(f"{'records':>9} {'wall s':>8} {'stages s':>9} {'rec/s':>8} {'peak MiB':>9} {'us/record':>10}")
        for n, r in runs.items():
            print(f"{n:>9,} {r['wall_s']:>8.1f} {r['stages_s']:>9.1f} {n / r['stages_s']:>8,.0f} {r['peak_mb']:>9.0f} "
                  f"{1e6 * r['stages_s'] / n:>10.0f}")
        if len(sizes) > 1:
            small, big = runs[sizes[0]], runs[sizes[-1]]
            ratio = (big["stages_s"] / sizes[-1]) / (small["stages_s"] / sizes[0])
            print(f"per-record time ratio {sizes[-1]:,} / {sizes[0]:,}: {ratio:.2f} (goal <= 1.2)")
        big_n = sizes[-1]
        print(f"stage cost per million records (s, from the {big_n:,}-record run):")
        for stage, sec in runs[big_n]["per_stage"].items():
            print(f"  {stage:<11} {sec * 1e6 / big_n:>9,.0f}")


if __name__ == "__main__":
    main()
