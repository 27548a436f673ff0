"""Whole-build speed: wall time, records/s and peak memory of `python -m cmedins.build`, 2 workers vs 1.

    python benchmarks/build_speed.py                       # 22,000 records
    python benchmarks/build_speed.py --records 220000      # the paper's scale (target: < 10 min, < 4 GiB)

Each run is a fresh build in a temporary folder (synthetic corpus generation excluded from the stage timings
but included in the wall time it reports separately). Peak memory is the largest sum of the resident set sizes of
the build process and all its workers, sampled every 0.2 s from /proc (at the peak, each process's share too).
The baseline is the same build with one worker, so the ratio shows what the second core buys.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tree_rss_mb(root: int) -> dict[int, float]:
    """VmRSS in MB of `root` and each of its descendants (Linux /proc), by pid."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry.name), int(fields["PPid"])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, stack = {}, [root]
    while stack:
        pid = stack.pop()
        tree[pid] = rss.get(pid, 0) / 1024
        stack.extend(children.get(pid, []))
    return tree


def _running_stage(out: Path) -> str:
    """The stage the build is in: the first of the recipe's stages (work/stages.json) without a manifest yet."""
    try:
        names = json.loads((out / "work" / "stages.json").read_text())
    except (OSError, ValueError):
        return "sources"
    return next((n for n in names if not (out / "work" / n / "manifest.json").exists()), "report")


def run_build(records: int, workers: int, out: Path, runner: str = "local", recipe: str | None = None) -> dict:
    """One fresh build; wall time, stage times from its report, and peak memory overall and per stage."""
    cmd = [sys.executable, "-m", "cmedins.build", *([recipe] if recipe else []), "--out", str(out),
           "--records", str(records), "--workers", str(workers), "--quiet", "--runner", runner]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    stage_peak: dict[str, float] = {}
    at_peak: list[float] = []
    while proc.poll() is None:
        tree = _tree_rss_mb(proc.pid)
        rss = sum(tree.values())
        stage = _running_stage(out)
        if rss > peak:  # the build process first, then its descendants, largest first
            at_peak = [tree.get(proc.pid, 0.0), *sorted((v for k, v in tree.items() if k != proc.pid), reverse=True)]
        peak, stage_peak[stage] = max(peak, rss), max(stage_peak.get(stage, 0.0), rss)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"build failed ({proc.returncode}): {proc.stderr.read().strip()[-500:]}")
    report = json.loads((out / "report" / "build_report.json").read_text())
    stages = {s["name"]: s["seconds"] for s in report["stages"]}
    return {"wall_s": wall, "stages_s": sum(stages.values()), "per_stage": stages, "peak_mb": peak,
            "peak_mb_per_stage": stage_peak, "at_peak": at_peak, "published": report["accounting"]["records_published"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=22_000)
    p.add_argument("--skip-baseline", action="store_true", help="only the 2-worker run")
    p.add_argument("--recipe", help="a recipe file (default: the embedded default recipe)")
    args = p.parse_args()
    runs = {}
    for workers in ([2] if args.skip_baseline else [2, 1]):
        with tempfile.TemporaryDirectory(prefix="cmedins-bench-") as tmp:
            runs[workers] = run_build(args.records, workers, Path(tmp) / "out", recipe=args.recipe)
    print(f"records: {args.records:,}")
    print(f"{'workers':>8} {'wall s':>8} {'stages s':>9} {'rec/s (stages)':>15} {'peak MB':>8}  per stage (s)")
    for workers, r in runs.items():
        per = ", ".join(f"{k} {v:.1f}" for k, v in r["per_stage"].items())
        print(f"{workers:>8} {r['wall_s']:>8.1f} {r['stages_s']:>9.1f} {args.records / r['stages_s']:>15,.0f} "
              f"{r['peak_mb']:>8.0f}  {per}")
        print(f"{'':>8} peak MB per stage: " + ", ".join(f"{k} {v:.0f}" for k, v in r["peak_mb_per_stage"].items()))
        print(f"{'':>8} at the peak, MB per process (build process, then the others): "
              + ", ".join(f"{v:.0f}" for v in r["at_peak"] if v >= 1))
    if 1 in runs and 2 in runs:
        print(f"speed-up of 2 workers over 1 (stage time): {runs[1]['stages_s'] / runs[2]['stages_s']:.2f}x")


if __name__ == "__main__":
    main()
