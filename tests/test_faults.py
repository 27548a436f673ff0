"""Fault tolerance of the build runner: kills, orphaned workers, two builds in one folder, a read-only folder or a
full disk, a tampered cache, and the guards that stop a stale or wrong build from passing as a good one.

Every test compares against one reference build (built once, in-process, with one worker) and starts from a copy of
it with the stages under test removed, so each fault costs only the stages it exercises. Kills are real `SIGKILL`s
of a build subprocess; where a kill must land at an exact point (a stage boundary, the second batch of a stage) a
small harness wraps the runner from outside and the process kills itself there, so no test hook lives in the
package. Linux only (the process tests read /proc).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import REPO, write_recipe

from cmedins.build import main
from cmedins.registry import RegistryError
from cmedins.runner import runner
from cmedins.stage import StageContext, StageOutput, get_stage, register_stage

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

STAGES = ["ingest", "deid", "tasks"]  # a map stage (deid) between the source stage and tasks
RECORDS = 400  # four batches of 100 per stage: enough for "mid-stage" with batches still in flight
GONE_WITHIN_S = 5.0

HARNESS = REPO / "benchmarks" / "fault_harness.py"  # kill -9 / pause at exact points (see there)


@dataclass(frozen=True)
class Reference:
    recipe: Path
    out: Path
    files: dict[str, bytes]


def _recipe(path: Path, stages: list | None = None) -> Path:
    """The default recipe, small (400 synthetic records in batches of 100) and with its stages pinned to STAGES:
    these tests are about the runner, so stages added to the default recipe later do not change what they run."""
    sources = [{"name": "synthetic", "kind": "synthetic", "records": RECORDS, "seed": 11}]
    return write_recipe(path, sources=sources, batch_rows=100, stages=STAGES[1:] if stages is None else stages)


def _snapshot(out: Path) -> dict[str, bytes]:
    """Every file under work/ and output/ (parts, temp files and strays included): what must be reproducible."""
    files = [p for d in ("work", "output") for p in (out / d).rglob("*") if p.is_file()]
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(files)}


def _diff(got: dict[str, bytes], want: dict[str, bytes]) -> list[str]:
    return sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))


def _assert_same(out: Path, ref: Reference) -> None:
    """Every work and output file byte-identical to the reference; names a code change made meanwhile (the cache
    keys hash the package's files, so an edit under cmedins/ while the tests run changes every manifest)."""
    got = _snapshot(out)
    diff = _diff(got, ref.files)
    versions = {json.loads(files[k]).get("code_version") for files in (got, ref.files) for k in diff
                if k.endswith("manifest.json") and k in files}
    hint = " (cmedins/ changed while the tests ran: code_version differs)" if len(versions) > 1 else ""
    assert diff == [], f"files that differ from the reference{hint}: {diff}"


def _argv(recipe: Path, out: Path, *extra: str) -> list[str]:
    return [str(recipe), "--out", str(out), "--quiet", *extra]


def _copy(ref: Reference, dst: Path, drop_from: str | None = None) -> Path:
    """A copy of the reference build without its output, report and the stages from `drop_from` on."""
    shutil.copytree(ref.out, dst)
    shutil.rmtree(dst / "output")
    shutil.rmtree(dst / "report")
    for stage in STAGES[STAGES.index(drop_from):] if drop_from else []:
        shutil.rmtree(dst / "work" / stage)
    return dst


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, process group) of `pid` from /proc, None when it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid, pgrp = data[data.rindex(")") + 2:].split()[:3]
    return state, int(ppid), int(pgrp)


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        st = _stat(pid)
        if st:
            children.setdefault(st[1], []).append(pid)
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    """The pids still running (a zombie has exited: only its parent's bookkeeping is left)."""
    return {pid for pid in pids if (st := _stat(pid)) is not None and st[0] != "Z"}


def _group(pgid: int) -> set[int]:
    return _alive({pid for pid in _all_pids() if (st := _stat(pid)) is not None and st[2] == pgid})


def _wait_gone(pids: set[int], within: float = GONE_WITHIN_S) -> tuple[set[int], float]:
    """Wait until none of `pids` runs, at most `within` seconds; return those still running and the wait."""
    start = time.monotonic()
    while _alive(pids) and time.monotonic() - start < within:
        time.sleep(0.02)
    return _alive(pids), time.monotonic() - start


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("reference")
    recipe = _recipe(root / "recipe.yaml")
    assert main(_argv(recipe, root / "out", "--workers", "1")) == 0
    return Reference(recipe, root / "out", _snapshot(root / "out"))


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator:
    """Start builds in their own process group (stderr to a file: orphans must not hold a pipe open) and kill
    whatever of each group is left at the end, whatever the test's outcome."""
    started: list[subprocess.Popen] = []

    def start(argv: list[str], harness: tuple[str, str] | None = None, **env: str) -> subprocess.Popen:
        cmd = [sys.executable, *([str(HARNESS), *harness] if harness else ["-m", "cmedins.build"]), *argv]
        log = open(tmp_path / f"stderr-{len(started)}.txt", "w")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(cmd, env=_env(**env), stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        log.close()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


# 1. orphans ------------------------------------------------------------------------------------------------------


def test_workers_exit_when_the_build_is_killed(ref: Reference, tmp_path: Path, spawn) -> None:
    """kill -9 of the build's main process: every process it started is gone within seconds (not: pool workers
    waiting on their queue forever)."""
    out = _copy(ref, tmp_path / "out", drop_from="deid")
    proc = spawn(_argv(ref.recipe, out, "--workers", "2"))
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and len(workers) < 2:
        workers = {pid for pid in _descendants(proc.pid) if b"spawn_main" in _cmdline(pid)}
        time.sleep(0.02)
    assert proc.poll() is None and len(workers) >= 2, "no pool workers seen while the build ran"
    children = _descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left, seconds = _wait_gone(children)
    assert left == set(), f"{len(left)} of {len(children)} child processes still alive {seconds:.1f} s after kill -9"


# 2. kill -9 at each stage boundary and mid-stage, then resume ---------------------------------------------------


@pytest.mark.parametrize("when", ["boundary", "mid"])
@pytest.mark.parametrize("stage", STAGES)
def test_kill_9_then_resume_is_byte_identical(ref: Reference, tmp_path: Path, spawn, stage: str, when: str) -> None:
    out = _copy(ref, tmp_path / "out", drop_from=stage)
    proc = spawn(_argv(ref.recipe, out, "--workers", "2" if when == "mid" else "1"), harness=(stage, when))
    assert proc.wait(timeout=240) == -signal.SIGKILL, (tmp_path / "stderr-0.txt").read_text()
    assert (out / "work" / stage / "manifest.json").exists() == (when == "boundary")
    later = STAGES[STAGES.index(stage) + 1:]
    if when == "boundary":
        assert not any((out / "work" / s).exists() for s in later)
    left, _ = _wait_gone(_group(proc.pid))  # batches that were in flight die with the build
    assert left == set()
    assert main(_argv(ref.recipe, out, "--workers", "1")) == 0
    _assert_same(out, ref)


# 3. two builds, one folder --------------------------------------------------------------------------------------


def test_second_build_in_the_same_folder_exits_2_and_a_killed_one_leaves_no_lock(ref: Reference, tmp_path: Path,
                                                                                  spawn) -> None:
    out = _copy(ref, tmp_path / "out", drop_from="deid").resolve()
    marker = tmp_path / "paused"
    holder = spawn(_argv(ref.recipe, out, "--workers", "1"), harness=("ingest", "pause"), FAULT_MARKER=str(marker))
    deadline = time.monotonic() + 120
    while not marker.exists() and holder.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), (tmp_path / "stderr-0.txt").read_text()
    second = subprocess.run([sys.executable, "-m", "cmedins.build", *_argv(ref.recipe, out)], env=_env(),
                            capture_output=True, text=True, timeout=240)
    assert second.returncode == 2
    assert _lines(second.stderr) == [f"error: {out} is in use by another build (pid {holder.pid})"]
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    fd = os.open(out / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the kernel released the dead build's lock
    finally:
        os.close(fd)


# 4. full disk, read-only folder --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["part", "manifest"])
def test_full_disk_is_one_line_exit_2_and_nothing_half_written(ref: Reference, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture, where: str) -> None:
    """ENOSPC while writing batch 1's kept part (after its temp file exists), or halfway through the manifest."""
    out = _copy(ref, tmp_path / "out", drop_from="deid")
    enospc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if where == "part":
        target = out / "work" / "deid" / "parts" / "kept-00001.parquet"
        write_table, calls = pq.ParquetWriter.write_table, []

        def full_disk(self: pq.ParquetWriter, *args: object, **kwargs: object) -> None:
            calls.append(1)
            if len(calls) == 3:  # batch 0: kept, quarantine; batch 1: kept
                raise enospc
            write_table(self, *args, **kwargs)

        monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk)
    else:
        target = out / "work" / "deid" / "manifest.json"
        for method in ("write_bytes", "write_text"):  # whichever the runner writes its manifest with
            real = getattr(Path, method)

            def full_disk(self: Path, data: bytes | str, *args: object, _real=real, **kwargs: object) -> int:
                if self.name.startswith("manifest.json"):
                    _real(self, data[: len(data) // 2], *args, **kwargs)
                    raise enospc
                return _real(self, data, *args, **kwargs)

            monkeypatch.setattr(Path, method, full_disk)
    capsys.readouterr()
    rc = main(_argv(ref.recipe, out, "--workers", "1"))
    err = capsys.readouterr().err
    monkeypatch.undo()
    assert rc == 2
    assert _lines(err) == [f"error: cannot write {target}: No space left on device"]
    assert list(out.rglob("*.tmp")) == []
    assert not target.exists() and not (out / "work" / "deid" / "manifest.json").exists()
    for path in out.rglob("*.parquet"):
        pq.read_metadata(path)  # every file that is there is whole
    assert main(_argv(ref.recipe, out, "--workers", "1")) == 0  # and the build resumes once there is space
    _assert_same(out, ref)


def _chmod_stops_writes(tmp_path: Path) -> bool:
    """False when running as root (or with CAP_DAC_OVERRIDE): permissions do not stop us."""
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        (probe / "x").write_text("")
        return False
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
        shutil.rmtree(probe)


@pytest.mark.parametrize("folder", ["out", "work"])
def test_read_only_folder_is_one_line_exit_2_and_nothing_written(ref: Reference, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture, folder: str) -> None:
    """A read-only output folder (fails at the lock file), or a read-only work/ under a writable one (fails at
    the first stage that must run). With chmod when it binds us; as root, which chmod does not stop, the same
    failure is injected as EROFS (a read-only mount) at the same call."""
    if folder == "out":
        out = tmp_path / "out"
        out.mkdir()
        read_only, target = out, out / ".lock"
    else:
        out = _copy(ref, tmp_path / "out", drop_from="deid")
        read_only, target = out / "work", out / "work" / "deid" / "parts"
    before = sorted(out.rglob("*"))
    if _chmod_stops_writes(tmp_path):
        reason = os.strerror(errno.EACCES)
        read_only.chmod(0o555)
    else:
        reason = os.strerror(errno.EROFS)
        erofs = OSError(errno.EROFS, reason)
        if folder == "out":
            real_open = os.open

            def ro_open(path: str | os.PathLike, flags: int, *args: object, **kwargs: object) -> int:
                if Path(path) == target:
                    raise erofs
                return real_open(path, flags, *args, **kwargs)

            monkeypatch.setattr(os, "open", ro_open)
        else:
            real_mkdir = Path.mkdir

            def ro_mkdir(self: Path, *args: object, **kwargs: object) -> None:
                if self == target:
                    raise erofs
                real_mkdir(self, *args, **kwargs)

            monkeypatch.setattr(Path, "mkdir", ro_mkdir)
    capsys.readouterr()
    try:
        rc = main(_argv(ref.recipe, out, "--workers", "1"))
    finally:
        monkeypatch.undo()
        read_only.chmod(0o755)
    err = capsys.readouterr().err
    assert rc == 2
    assert _lines(err) == [f"error: cannot write {target}: {reason}"]
    assert "Traceback" not in err
    assert sorted(out.rglob("*")) == before


# 5. tampered cache ----------------------------------------------------------------------------------------------


class _Stop(BaseException):
    """Ends a build in-process the way a kill does: no handler in `main` catches it."""


def test_damaged_part_is_recomputed_on_resume(ref: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture) -> None:
    out = _copy(ref, tmp_path / "out", drop_from="deid")
    run_batch, ran = runner.run_batch, []

    def stop_after_two(job: object) -> int:
        if len(ran) == 2:
            raise _Stop
        ran.append(job)
        return run_batch(job)

    monkeypatch.setattr(runner, "run_batch", stop_after_two)
    with pytest.raises(_Stop):
        main(_argv(ref.recipe, out, "--workers", "1"))
    monkeypatch.undo()
    parts = out / "work" / "deid" / "parts"
    assert sorted(p.name for p in parts.glob("stats-*.json")) == ["stats-00000.json", "stats-00001.json"]
    _flip_byte(parts / "kept-00000.parquet")  # a damaged part
    swapped = pq.read_table(parts / "kept-00001.parquet")  # a whole, valid part with other content
    pq.write_table(swapped.take(pa.array(range(swapped.num_rows - 1, -1, -1))), parts / "kept-00001.parquet",
                   compression="zstd")
    capsys.readouterr()
    assert main(_argv(ref.recipe, out, "--workers", "1")) == 0
    assert "recomputing" in capsys.readouterr().err
    _assert_same(out, ref)


def test_damaged_stage_output_is_rerun_not_served(ref: Reference, tmp_path: Path) -> None:
    out = _copy(ref, tmp_path / "out")
    _flip_byte(out / "work" / "deid" / "kept.parquet")
    _flip_byte(out / "work" / "ingest" / "quarantine.parquet")
    assert main(_argv(ref.recipe, out, "--workers", "1")) == 0
    report = json.loads((out / "report" / "build_report.json").read_text())
    # tasks stays cached: deid's rerun gives back the bytes its manifest recorded, so tasks' key is unchanged
    assert {s["name"]: s["cached"] for s in report["stages"]} == {"ingest": False, "deid": False, "tasks": True}
    _assert_same(out, ref)


# 6. guards against a stale or wrong build passing as good -------------------------------------------------------


def test_another_secret_reruns_deid_with_other_hashes(ref: Reference, tmp_path: Path) -> None:
    """Kills the bug: the build secret left out of the stage cache key (deid would be served from cache)."""
    out = _copy(ref, tmp_path / "out")
    secret = "another-secret-for-this-test"
    assert os.environ.get("CMEDINS_SECRET") != secret
    res = subprocess.run([sys.executable, "-m", "cmedins.build", *_argv(ref.recipe, out, "--workers", "1")],
                         env=_env(CMEDINS_SECRET=secret), capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr
    report = json.loads((out / "report" / "build_report.json").read_text())
    assert {s["name"]: s["cached"] for s in report["stages"]}["deid"] is False
    new = pq.read_table(out / "work" / "deid" / "kept.parquet", columns=["record_hash"]).column(0).to_pylist()
    old = pq.read_table(ref.out / "work" / "deid" / "kept.parquet", columns=["record_hash"]).column(0).to_pylist()
    assert len(new) == len(old) == RECORDS and not set(new) & set(old)


def test_changed_stage_option_reruns_that_stage_and_later_ones(ref: Reference, tmp_path: Path) -> None:
    """Kills the bug: a cached stage reused whenever a manifest exists, without comparing its key."""
    out = _copy(ref, tmp_path / "out")
    stages = yaml.safe_load(ref.recipe.read_text(encoding="utf-8"))["stages"]
    assert stages[0] == "deid"
    recipe = _recipe(tmp_path / "pseudonyms.yaml", stages=[{"deid": {"mode": "pseudonym"}}, *stages[1:]])
    assert main(_argv(recipe, out, "--workers", "1")) == 0
    report = json.loads((out / "report" / "build_report.json").read_text())
    assert {s["name"]: s["cached"] for s in report["stages"]} == {"ingest": True, "deid": False, "tasks": False}
    assert (out / "work" / "deid" / "kept.parquet").read_bytes() != ref.files["work/deid/kept.parquet"]


DROP_ONE = "drop_one_for_test"


@dataclass(frozen=True)
class _NoOptions:
    """`drop_one_for_test` takes no options."""


def _drop_one(table: pa.Table, config: _NoOptions, ctx: StageContext) -> StageOutput:
    """Loses the build's first row without a quarantine row: the bug the accounting check is there for."""
    return StageOutput(kept=table.slice(1) if ctx.row_offset == 0 else table)


def _register_drop_one() -> None:
    try:
        get_stage(DROP_ONE)
    except RegistryError:
        register_stage(DROP_ONE, config=_NoOptions, kind="map", input_contract="deid_record",
                       output_contract="deid_record")(_drop_one)


def test_a_stage_that_silently_drops_a_row_fails_the_build(ref: Reference, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    """Kills the bug: an exit code that ignores a failed accounting check."""
    _register_drop_one()
    out = _copy(ref, tmp_path / "out")
    recipe = _recipe(tmp_path / "drop.yaml", stages=["deid", DROP_ONE])
    capsys.readouterr()
    assert main(_argv(recipe, out, "--workers", "1")) == 1
    summary = [line for line in capsys.readouterr().err.splitlines() if line.startswith("records:")]
    assert len(summary) == 1 and "MISMATCH" in summary[0] and f"published {RECORDS - 1}" in summary[0]


# 7. determinism across processes ---------------------------------------------------------------------------------


def test_fresh_process_with_another_hash_seed_is_byte_identical(ref: Reference, tmp_path: Path) -> None:
    """The reference ran in this process (its own hash seed); this build runs in a fresh one with another: any
    set or dict order that leaks into a file shows here."""
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    res = subprocess.run([sys.executable, "-m", "cmedins.build", *_argv(ref.recipe, tmp_path / "out", "--workers",
                                                                          "1")],
                         env=_env(PYTHONHASHSEED=seed), capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr
    _assert_same(tmp_path / "out", ref)
