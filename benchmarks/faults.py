"""Fault drill: every fault the build runner must survive, on a small build, with its outcome and a verdict.

    python benchmarks/faults.py                 # 400 synthetic records, batches of 100 (about a minute on 2 cores)
    python benchmarks/faults.py --records 600

One clean build (in this process, one worker) is the baseline; each fault then starts from a copy of it without
the stages the fault exercises, and "byte-identical" means every file under work/ and output/ equals the baseline's.
Kills are real SIGKILLs of a build subprocess; where a kill must land at an exact point (a stage boundary, the
second batch of a stage) a harness wraps the runner from outside and the process kills itself there. A full disk
and (as root, whom chmod does not stop) a read-only folder are injected as OSError(ENOSPC / EROFS) in-process.
The tests in tests/test_faults.py check the same faults; this prints them side by side for a reader.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cmedins.build import main as build_main  # noqa: E402
from cmedins.registry import RegistryError  # noqa: E402
from cmedins.runner import runner  # noqa: E402
from cmedins.stage import StageContext, StageOutput, get_stage, register_stage  # noqa: E402

STAGES = ["ingest", "deid", "tasks"]

HARNESS = REPO / "benchmarks" / "fault_harness.py"  # kill -9 / pause at exact points (see there)


@dataclass
class Drill:
    root: Path
    records: int
    recipe: Path = Path()
    baseline: dict[str, bytes] | None = None
    runs: int = 0

    @property
    def ref(self) -> Path:
        return self.root / "baseline"

    def setup(self) -> None:
        self.recipe = self.write_recipe("recipe.yaml", STAGES[1:])  # pinned: the drill is about the runner
        code, _ = self.build(self.recipe, self.ref)
        if code != 0:
            sys.exit(f"the baseline build failed (exit {code})")
        self.baseline = snapshot(self.ref)

    def write_recipe(self, name: str, stages: list) -> Path:
        recipe = yaml.safe_load((REPO / "pipelines" / "default.yaml").read_text(encoding="utf-8"))
        recipe.update(sources=[{"name": "synthetic", "kind": "synthetic", "records": self.records, "seed": 11}],
                      batch_rows=100, stages=stages)
        path = self.root / name
        path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
        return path

    def copy(self, drop_from: str | None = None) -> Path:
        """A fresh copy of the baseline without output/report and the stages from `drop_from` on."""
        self.runs += 1
        out = self.root / f"run-{self.runs}"
        shutil.copytree(self.ref, out)
        shutil.rmtree(out / "output")
        shutil.rmtree(out / "report")
        for stage in STAGES[STAGES.index(drop_from):] if drop_from else []:
            shutil.rmtree(out / "work" / stage)
        return out

    def build(self, recipe: Path, out: Path) -> tuple[int, str]:
        """An in-process build with one worker: exit code and what it printed on stderr."""
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = build_main([str(recipe), "--out", str(out), "--quiet", "--workers", "1"])
        return code, err.getvalue()

    def spawn(self, out: Path, *extra: str, harness: tuple[str, str] | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        cmd = [sys.executable, *([str(HARNESS), *harness] if harness else ["-m", "cmedins.build"]),
               str(self.recipe), "--out", str(out), "--quiet", *extra]
        return subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def identical(self, out: Path) -> bool:
        """Every work and output file equals the baseline's. An edit under cmedins/ during the drill changes the
        code version in every manifest of a subprocess build; `drift` says so rather than blaming the runner."""
        return snapshot(out) == self.baseline

    def drift(self, out: Path) -> str:
        got = json.loads((out / "work/ingest/manifest.json").read_text()).get("code_version")
        want = json.loads((self.ref / "work/ingest/manifest.json").read_text()).get("code_version")
        return "" if got == want else " (cmedins/ changed during the drill)"

    def cached(self, out: Path) -> dict[str, bool]:
        report = json.loads((out / "report" / "build_report.json").read_text())
        return {s["name"]: s["cached"] for s in report["stages"]}


def snapshot(out: Path) -> dict[str, bytes]:
    files = [p for d in ("work", "output") for p in (out / d).rglob("*") if p.is_file()]
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(files)}


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def one_line(err: str) -> str | None:
    lines = [line for line in err.splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 and "Traceback" not in err else None


# processes (Linux /proc) -------------------------------------------------------------------------------------


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid, pgrp = data[data.rindex(")") + 2:].split()[:3]
    return state, int(ppid), int(pgrp)


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (st := proc_stat(int(name))):
            children.setdefault(st[1], []).append(int(name))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if (st := proc_stat(pid)) is not None and st[0] != "Z"}


def group(pgid: int) -> set[int]:
    return alive({int(n) for n in os.listdir("/proc") if n.isdigit() and (st := proc_stat(int(n))) and st[2] == pgid})


def wait_gone(pids: set[int], within: float = 10.0) -> tuple[set[int], float]:
    start = time.monotonic()
    while alive(pids) and time.monotonic() - start < within:
        time.sleep(0.01)
    return alive(pids), time.monotonic() - start


def reap(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def patched(owner: object, name: str, make: Callable[[Callable], Callable]) -> Iterator[None]:
    real = getattr(owner, name)
    setattr(owner, name, make(real))
    try:
        yield
    finally:
        setattr(owner, name, real)


# the faults ------------------------------------------------------------------------------------------------------


def orphans(d: Drill) -> tuple[str, bool]:
    out = d.copy("deid")
    proc = d.spawn(out, "--workers", "2")
    try:
        deadline, workers = time.monotonic() + 120, set()
        while proc.poll() is None and time.monotonic() < deadline and len(workers) < 2:
            workers = {p for p in descendants(proc.pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()}
            time.sleep(0.01)
        if len(workers) < 2:
            return "no pool workers seen", False
        children = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        left, seconds = wait_gone(children)
    finally:
        reap(proc)
    if left:
        return f"{len(left)} of {len(children)} processes still alive after {seconds:.0f} s", False
    return f"all {len(children)} child processes gone in {seconds:.2f} s", True


def kill_at(stage: str, when: str) -> Callable[[Drill], tuple[str, bool]]:
    def run(d: Drill) -> tuple[str, bool]:
        out = d.copy(stage)
        proc = d.spawn(out, "--workers", "2" if when == "mid" else "1", harness=(stage, when))
        try:
            code = proc.wait(timeout=300)
            left, seconds = wait_gone(group(proc.pid))
        finally:
            reap(proc)
        if code != -signal.SIGKILL:
            return f"not killed (exit {code})", False
        if left:
            return f"{len(left)} processes of the killed build still alive", False
        code, _ = d.build(d.recipe, out)
        ok = code == 0 and d.identical(out)
        return f"killed; resumed, {'byte-identical' if ok else 'DIFFERENT'} (exit {code})", ok
    return run


def two_builds(d: Drill) -> tuple[str, bool]:
    out = d.copy("deid").resolve()
    marker = d.root / f"paused-{d.runs}"
    holder = d.spawn(out, "--workers", "1", harness=("ingest", "pause"), env={"FAULT_MARKER": str(marker)})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and holder.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        second = subprocess.run([sys.executable, "-m", "cmedins.build", str(d.recipe), "--out", str(out), "--quiet"],
                                env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
        line = one_line(second.stderr)
        want = f"error: {out} is in use by another build (pid {holder.pid})"
    finally:
        reap(holder)
    code, _ = d.build(d.recipe, out)  # the killed holder left no lock behind
    ok = second.returncode == 2 and line == want and code == 0 and d.identical(out)
    return (f"second: exit {second.returncode}, {'one line' if line == want else 'NOT the one line'}; "
            f"after kill -9 of the first: built (exit {code})"), ok


def write_failure(where: str) -> Callable[[Drill], tuple[str, bool]]:
    """ENOSPC in batch 1's part or halfway through the manifest; EROFS/EACCES for a read-only work/."""
    def run(d: Drill) -> tuple[str, bool]:
        out = d.copy("deid")
        if where == "part":
            target, reason, calls = out / "work/deid/parts/kept-00001.parquet", os.strerror(errno.ENOSPC), []

            def make(real: Callable) -> Callable:
                def full(self: object, *args: object, **kwargs: object) -> object:
                    calls.append(1)
                    if len(calls) == 3:
                        raise OSError(errno.ENOSPC, reason)
                    return real(self, *args, **kwargs)
                return full
            fault = patched(pq.ParquetWriter, "write_table", make)
        elif where == "manifest":
            target, reason = out / "work/deid/manifest.json", os.strerror(errno.ENOSPC)

            def make(real: Callable) -> Callable:
                def full(self: Path, data: bytes) -> int:
                    if self.name.startswith("manifest.json"):
                        real(self, data[: len(data) // 2])
                        raise OSError(errno.ENOSPC, reason)
                    return real(self, data)
                return full
            fault = patched(Path, "write_bytes", make)
        else:
            target = out / "work/deid/parts"
            (out / "work").chmod(0o555)
            if chmod_binds(d.root):
                reason, fault = os.strerror(errno.EACCES), contextlib.nullcontext()
            else:  # root: chmod does not stop us, so play a read-only mount
                reason = os.strerror(errno.EROFS)

                def make(real: Callable) -> Callable:
                    def ro(self: Path, *args: object, **kwargs: object) -> None:
                        if self == target:
                            raise OSError(errno.EROFS, reason)
                        return real(self, *args, **kwargs)
                    return ro
                fault = patched(Path, "mkdir", make)
        try:
            with fault:
                code, err = d.build(d.recipe, out)
        finally:
            (out / "work").chmod(0o755)
        line_ok = one_line(err) == f"error: cannot write {target}: {reason}"
        leftovers = list(out.rglob("*.tmp"))
        whole = all(_readable(p) for p in out.rglob("*.parquet"))
        resumed, _ = d.build(d.recipe, out)
        ok = code == 2 and line_ok and not leftovers and whole and resumed == 0 and d.identical(out)
        how = {"part": "ENOSPC", "manifest": "ENOSPC"}.get(where) or (
            "EACCES, chmod" if reason == os.strerror(errno.EACCES) else "EROFS injected (root)")
        return (f"{how}: exit {code}, {'one line' if line_ok else 'NOT one line'}, "
                f"{'nothing half-written' if not leftovers and whole else 'HALF-WRITTEN FILES'}; "
                f"then resumed, {'byte-identical' if d.identical(out) else 'DIFFERENT'}"), ok
    return run


def chmod_binds(root: Path) -> bool:
    probe = root / "probe"
    probe.mkdir(exist_ok=True)
    probe.chmod(0o555)
    try:
        (probe / "x").write_text("")
        return False
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
        shutil.rmtree(probe)


def _readable(path: Path) -> bool:
    try:
        pq.read_metadata(path)
    except Exception:  # any failure to parse is a half-written file
        return False
    return True


class _Stop(BaseException):
    """Ends an in-process build the way a kill does."""


def damaged_part(d: Drill) -> tuple[str, bool]:
    out = d.copy("deid")
    ran: list[object] = []

    def make(real: Callable) -> Callable:
        def stop_after_two(job: object) -> int:
            if len(ran) == 2:
                raise _Stop
            ran.append(job)
            return real(job)
        return stop_after_two

    with patched(runner, "run_batch", make), contextlib.suppress(_Stop):
        d.build(d.recipe, out)
    parts = out / "work/deid/parts"
    flip_byte(parts / "kept-00000.parquet")
    swapped = pq.read_table(parts / "kept-00001.parquet")
    pq.write_table(swapped.take(pa.array(range(swapped.num_rows - 1, -1, -1))), parts / "kept-00001.parquet")
    code, err = d.build(d.recipe, out)
    ok = code == 0 and "recomputing" in err and d.identical(out)
    return f"2 parts damaged; {'recomputed' if 'recomputing' in err else 'REUSED'}, " \
           f"{'byte-identical' if d.identical(out) else 'DIFFERENT'}", ok


def damaged_stage(d: Drill) -> tuple[str, bool]:
    out = d.copy()
    flip_byte(out / "work/deid/kept.parquet")
    code, _ = d.build(d.recipe, out)
    rerun = [s for s, c in d.cached(out).items() if not c]
    ok = code == 0 and rerun == ["deid"] and d.identical(out)
    return f"rerun: {', '.join(rerun) or 'nothing (served from cache)'}; " \
           f"{'byte-identical' if d.identical(out) else 'DIFFERENT'}", ok


def other_secret(d: Drill) -> tuple[str, bool]:
    out = d.copy()
    proc = d.spawn(out, "--workers", "1", env={"CMEDINS_SECRET": "another-secret-for-the-drill"})
    code = proc.wait()
    if code != 0:
        return f"exit {code}", False
    new = pq.read_table(out / "work/deid/kept.parquet", columns=["record_hash"]).column(0).to_pylist()
    old = pq.read_table(d.ref / "work/deid/kept.parquet", columns=["record_hash"]).column(0).to_pylist()
    changed = sum(a != b for a, b in zip(new, old, strict=True))
    deid_rerun = not d.cached(out)["deid"]
    return f"deid {'rerun' if deid_rerun else 'CACHED'}; {changed}/{len(old)} record_hash changed", \
        deid_rerun and changed == len(old)


def changed_option(d: Drill) -> tuple[str, bool]:
    out = d.copy()
    stages = yaml.safe_load(d.recipe.read_text(encoding="utf-8"))["stages"]
    recipe = d.write_recipe("pseudonyms.yaml", [{"deid": {"mode": "pseudonym"}}, *stages[1:]])
    code, _ = d.build(recipe, out)
    rerun = [s for s, c in d.cached(out).items() if not c]
    return f"deid mode changed: rerun {', '.join(rerun) or 'nothing'}", code == 0 and rerun == ["deid", "tasks"]


def dropped_row(d: Drill) -> tuple[str, bool]:
    @dataclass(frozen=True)
    class NoOptions:
        """No options."""

    def drop_one(table: pa.Table, config: NoOptions, ctx: StageContext) -> StageOutput:
        return StageOutput(kept=table.slice(1) if ctx.row_offset == 0 else table)

    try:
        get_stage("drop_one_for_test")
    except RegistryError:
        register_stage("drop_one_for_test", config=NoOptions, input_contract="deid_record",
                       output_contract="deid_record")(drop_one)
    out = d.copy()
    code, err = d.build(d.write_recipe("drop.yaml", ["deid", "drop_one_for_test"]), out)
    summary = next((line for line in err.splitlines() if line.startswith("records:")), "")
    return f"exit {code}; {' '.join(summary.split()[-1:])}", code == 1 and "MISMATCH" in summary


def hash_seed(d: Drill) -> tuple[str, bool]:
    d.runs += 1
    out = d.root / f"run-{d.runs}"
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    code = d.spawn(out, "--workers", "1", env={"PYTHONHASHSEED": seed}).wait()
    same = code == 0 and d.identical(out)
    verdict = "byte-identical" if same else "DIFFERENT" + (d.drift(out) if code == 0 else "")
    return f"fresh build, PYTHONHASHSEED={seed}: {verdict}", same


FAULTS: list[tuple[str, Callable[[Drill], tuple[str, bool]]]] = [
    ("kill -9 of the build (pool workers)", orphans),
    *[(f"kill -9 {'after' if w == 'boundary' else 'during'} {s}", kill_at(s, w))
      for s in STAGES for w in ("boundary", "mid")],
    ("two builds, one folder", two_builds),
    ("disk full writing a part", write_failure("part")),
    ("disk full writing a manifest", write_failure("manifest")),
    ("read-only work/ folder", write_failure("read-only")),
    ("damaged parts, then resume", damaged_part),
    ("damaged kept.parquet of a cached stage", damaged_stage),
    ("another CMEDINS_SECRET", other_secret),
    ("changed stage option", changed_option),
    ("plugin stage drops a row silently", dropped_row),
    ("another PYTHONHASHSEED", hash_seed),
]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=400, help="synthetic records (batches of 100)")
    args = p.parse_args()
    if not Path("/proc/self/stat").exists():
        sys.exit("this drill reads /proc (Linux only)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="cmedins-faults-") as tmp:
        drill = Drill(Path(tmp), args.records)
        start = time.perf_counter()
        drill.setup()
        print(f"baseline: {args.records} records, 3 stages, {time.perf_counter() - start:.1f} s", flush=True)
        for name, fault in FAULTS:
            start = time.perf_counter()
            try:
                outcome, ok = fault(drill)
            except Exception as exc:  # a drill that crashes is a failed drill, not the end of the table
                outcome, ok = f"drill crashed: {type(exc).__name__}: {exc}", False
            rows.append((name, outcome, ok, time.perf_counter() - start))
            print(f"  {name}: {'pass' if ok else 'FAIL'}", file=sys.stderr, flush=True)
    width = max(len(r[0]) for r in rows)
    owidth = max(len(r[1]) for r in rows)
    print(f"{'fault':<{width}}  {'outcome':<{owidth}}  {'result':<6}  {'s':>5}")
    print(f"{'-' * width}  {'-' * owidth}  {'-' * 6}  {'-' * 5}")
    for name, outcome, ok, seconds in rows:
        print(f"{name:<{width}}  {outcome:<{owidth}}  {'pass' if ok else 'FAIL':<6}  {seconds:>5.1f}")
    failed = sum(not r[2] for r in rows)
    print(f"{len(rows) - failed}/{len(rows)} faults handled")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
