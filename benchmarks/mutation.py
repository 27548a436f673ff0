"""Mutation testing of `cmedins/deid`, `cmedins/runner` and `cmedins/ingest` (cosmic-ray operators; not part of CI).

    pip install cosmic-ray==8.7
    python benchmarks/mutation.py --package all --sample 30            # seeded sample of 30 mutants per package
    python benchmarks/mutation.py --package deid --sample 30 --seed 1  # another sample of the same package
    python benchmarks/mutation.py --package ingest --sample 0          # every ingest mutant (slow: thousands)
    python benchmarks/mutation.py --package deid --list                # count the mutants, run nothing
    python benchmarks/mutation.py --package runner --ids 'cmedins/runner/report.py:core/NumberReplacer:9'

The checkout is never touched: the script copies the repo (see `copy` in benchmarks/mutation/config.toml) into
--workdir (default: a fresh temporary folder), enumerates cosmic-ray mutants there, draws a seeded random sample per
package, and for each mutant rewrites the copied module, runs the package's fast test selection
(`python -m pytest -x -q -p no:cacheprovider ...`) with a per-mutant timeout, and restores the module.
A mutant is killed when the tests fail, a timeout when they run past the limit (counted as killed in the score),
incompetent when the mutated code cannot be written. Printed per package: mutants sampled, killed, survived,
timeouts, the score with a 95% Wilson interval, and each survivor as file:line, operator and the mutated source
line (source code only; no test output, so no record text). Goal: >= 90% killed.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "benchmarks" / "mutation" / "config.toml"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def copy_repo(work: Path, entries: list[str]) -> None:
    for entry in entries:
        src, dst = REPO / entry, work / entry
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis"))
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def package_modules(work: Path, spec: dict) -> list[Path]:
    found = sorted({p for pattern in spec["modules"] for p in work.glob(pattern)})
    excluded = spec.get("exclude", [])
    return [p for p in found if not any(fnmatch.fnmatch(str(p.relative_to(work)), x) for x in excluded)]


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions, as (line, character column), of every type annotation in a module."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()

    def char_col(line: int, byte_col: int) -> int:
        return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", "ignore"))

    spans = []
    for node in ast.walk(ast.parse(source)):
        anns = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            anns.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            anns.append(node.returns)
        for a in anns:
            spans.append(((a.lineno, char_col(a.lineno, a.col_offset)),
                          (a.end_lineno, char_col(a.end_lineno, a.end_col_offset))))
    return spans


def enumerate_mutants(work: Path, modules: list[Path], exclude_ops: list[str], skip_annotations: bool) -> list:
    """Every cosmic-ray mutant of `modules`, less excluded operators and (optionally) mutants inside annotations:
    `Path | None` -> `Path << None` in an annotation is equivalent under `from __future__ import annotations`."""
    from cosmic_ray.commands.init import _all_work_items  # the enumeration `cosmic-ray init` uses

    spans = {m.relative_to(work): annotation_spans(m) for m in modules} if skip_annotations else {}
    items = []
    for item in _all_work_items([m.relative_to(work) for m in modules], {}):
        (mutation,) = item.mutations
        if mutation.operator_name in exclude_ops:
            continue
        start = tuple(mutation.start_pos)
        if any(a <= start < b for a, b in spans.get(Path(mutation.module_path), [])):
            continue
        items.append(mutation)
    return items


def mutant_id(m) -> str:
    return f"{Path(m.module_path).as_posix()}:{m.operator_name}:{m.occurrence}"


def test_command(spec: dict, work: Path) -> list[str]:
    tests = []
    for t in spec["tests"]:
        if (work / t.split("::")[0]).exists():
            tests.append(t)
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]


def run_tests(cmd: list[str], timeout: float) -> tuple[str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        return "timeout", time.perf_counter() - start
    return ("survived" if rc == 0 else "killed"), time.perf_counter() - start


def run_mutant(m, cmd: list[str], timeout: float) -> tuple[str, float, str]:
    """Apply one mutant to the copy, run the tests, restore the module. Returns (outcome, seconds, mutated line)."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    path = Path(m.module_path)
    original = path.read_text(encoding="utf-8")
    try:
        mutated = mutate_code(original, get_operator(m.operator_name)(**(m.operator_args or {})), m.occurrence)
    except Exception:  # noqa: BLE001 - cosmic-ray could not rewrite this node
        return "incompetent", 0.0, ""
    if mutated is None:
        return "no-mutation", 0.0, ""
    line = m.start_pos[0]
    new_lines = mutated.splitlines()
    shown = new_lines[line - 1].strip() if line - 1 < len(new_lines) else ""
    try:
        path.write_text(mutated, encoding="utf-8")
        outcome, secs = run_tests(cmd, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == original
    return outcome, secs, shown[:110]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default="all", help="deid, deid-ner, runner, ingest (config.toml), or all")
    ap.add_argument("--sample", type=int, default=30, help="mutants per package (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ids", nargs="*", help="run exactly these mutant ids (path:operator:occurrence)")
    ap.add_argument("--list", action="store_true", help="count mutants per package and module, run nothing")
    ap.add_argument("--config", type=Path, default=CONFIG)
    ap.add_argument("--workdir", type=Path, help="copy of the repo to mutate (default: a new temp folder)")
    ap.add_argument("--json", type=Path, help="write the per-package results here")
    ap.add_argument("--tests", nargs="+", help="override the package's test selection (pytest node ids)")
    args = ap.parse_args(argv)
    if args.json:
        args.json = args.json.resolve()

    cfg = tomllib.loads(args.config.read_text(encoding="utf-8"))
    defaults = cfg["defaults"]
    packages = list(cfg["package"]) if args.package == "all" else [args.package]
    if unknown := [p for p in packages if p not in cfg["package"]]:
        ap.error(f"unknown package {unknown[0]!r}; known: {', '.join(cfg['package'])}, all")

    work = args.workdir or Path(tempfile.mkdtemp(prefix="cmedins-mutation-"))
    if work.resolve() == REPO or REPO in work.resolve().parents:
        ap.error("--workdir must lie outside the checkout: mutants are written into it")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    copy_repo(work, defaults["copy"])
    os.chdir(work)
    os.environ["PYTHONPATH"] = str(work)  # the copy, not the editable install, is what the tests import
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # stale .pyc of a previous mutant must never be reused
    os.environ.setdefault("CMEDINS_REALDATA", str(REPO.parent / "shared" / "realdata"))

    results = {}
    for name in packages:
        spec = dict(cfg["package"][name])
        if args.tests:
            spec["tests"] = args.tests
        modules = package_modules(work, spec)
        mutants = enumerate_mutants(work, modules, defaults.get("exclude_operators", []),
                                    defaults.get("skip_annotations", True) and not args.ids)
        if args.list:
            per_module: dict[str, int] = {}
            for m in mutants:
                per_module[Path(m.module_path).name] = per_module.get(Path(m.module_path).name, 0) + 1
            print(f"{name}: {len(mutants)} mutants in {len(modules)} modules: {per_module}")
            continue
        if args.ids:
            wanted = set(args.ids)
            chosen = [m for m in mutants if mutant_id(m) in wanted]
        elif args.sample and args.sample < len(mutants):
            chosen = random.Random(f"{args.seed}:{name}").sample(mutants, args.sample)
        else:
            chosen = mutants
        if not chosen:
            continue
        cmd = test_command(spec, work)
        outcome, base = run_tests(cmd, 900)
        if outcome != "survived":
            print(f"{name}: the unmutated tests fail ({' '.join(cmd[3:])}); fix them first", file=sys.stderr)
            return 2
        timeout = max(defaults["timeout_floor_s"], defaults["timeout_factor"] * base)
        print(f"\n== {name}: {len(chosen)} of {len(mutants)} mutants; tests {base:.1f}s unmutated, "
              f"timeout {timeout:.0f}s; {' '.join(cmd[7:])}", flush=True)
        counts = {"killed": 0, "survived": 0, "timeout": 0, "incompetent": 0, "no-mutation": 0}
        survivors, secs_total = [], 0.0
        for i, m in enumerate(sorted(chosen, key=mutant_id), 1):
            outcome, secs, shown = run_mutant(m, cmd, timeout)
            counts[outcome] += 1
            secs_total += secs
            line = m.start_pos[0]
            where = f"{Path(m.module_path).as_posix()}:{line}"
            print(f"  [{i:>3}/{len(chosen)}] {outcome:<11} {secs:5.1f}s {where} {m.operator_name}", flush=True)
            if outcome == "survived":
                survivors.append({"id": mutant_id(m), "where": where, "operator": m.operator_name, "line": shown})
        judged = counts["killed"] + counts["timeout"] + counts["survived"]
        dead = counts["killed"] + counts["timeout"]
        lo, hi = wilson(dead, judged)
        score = dead / judged if judged else float("nan")
        results[name] = {"mutants_total": len(mutants), "sampled": len(chosen), **counts, "score": score,
                         "wilson95": [lo, hi], "seconds_per_mutant": secs_total / max(1, len(chosen)),
                         "survivors": survivors, "seed": args.seed}
        print(f"-- {name}: sampled {len(chosen)}/{len(mutants)}, killed {counts['killed']}, survived "
              f"{counts['survived']}, timeouts {counts['timeout']}, incompetent {counts['incompetent']}, "
              f"score {score:.1%} (95% Wilson {lo:.1%}-{hi:.1%}), {secs_total / max(1, len(chosen)):.1f}s/mutant")
        for s in survivors:
            print(f"   survived {s['where']} {s['operator']}: {s['line']}")

    if results:
        print("\npackage  sampled  killed  survived  timeouts  score   95% interval")
        for name, r in results.items():
            print(f"{name:<8} {r['sampled']:>7} {r['killed']:>7} {r['survived']:>9} {r['timeout']:>9}  "
                  f"{r['score']:6.1%}  {r['wilson95'][0]:.1%}-{r['wilson95'][1]:.1%}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    if not args.workdir:
        os.chdir(REPO)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
