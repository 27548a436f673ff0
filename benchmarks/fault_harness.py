"""Fault injection for `tests/test_faults.py` and `benchmarks/faults.py` (one copy for both).

    python benchmarks/fault_harness.py STAGE boundary|mid|pause [BUILD ARGS...]

Runs `python -m cmedins.build ARGS` with the runner wrapped so that the process SIGKILLs itself (or pauses) at an
exact point: `boundary` right after STAGE's manifest is written (before the next stage starts); `mid` when STAGE's
second batch is done (in a pool, later batches are still in flight) or, for a stage whose one batch runs in this
process (a small reduce stage), once that batch wrote its first part file, or, for one whose batch runs in a
process of its own (a reduce stage over several batches), once that process has begun writing its part file
(an unfinished temp file, or the part before its stats file); `pause` after STAGE: sleep, holding the
build's lock, once the file named by $FAULT_MARKER is written. The package itself has no test hooks.
"""
import os
import signal
import sys
import threading
import time
from pathlib import Path

from cmedins import build
from cmedins.runner import runner
from cmedins.runner.progress import BuildProgress


def main() -> int:
    """Wrap the runner as asked, then build (spawned workers re-import this file: nothing runs at import)."""
    stage, when, argv = sys.argv[1], sys.argv[2], sys.argv[3:]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if when in ("boundary", "pause"):
        run_stage = runner.run_stage
        def wrapped(bc, st, *args, **kwargs):
            result = run_stage(bc, st, *args, **kwargs)
            if st.name == stage and when == "boundary":
                die()
            if st.name == stage:
                Path(os.environ["FAULT_MARKER"]).write_text(str(os.getpid()))
                time.sleep(600)
            return result
        runner.run_stage = wrapped
    else:
        names, seen = {}, {}
        start, advance = BuildProgress.start, BuildProgress.advance
        def wrapped_start(self, name, *args, **kwargs):
            task = start(self, name, *args, **kwargs)
            names[task] = name
            return task
        def wrapped_advance(self, task, n):
            advance(self, task, n)
            name = names.get(task)
            seen[name] = seen.get(name, 0) + 1
            if name == stage and seen[name] == 2:
                die()
        BuildProgress.start, BuildProgress.advance = wrapped_start, wrapped_advance
        from cmedins.runner import worker  # a batch run in this process (a reduce stage): die after its first part
        write_table = worker.write_table
        def wrapped_write_table(table, path, *args, **kwargs):
            write_table(table, path, *args, **kwargs)
            if Path(path).parent.parent.name == stage:
                die()
        worker.write_table = wrapped_write_table
        run_in_pool = runner._run_in_pool
        def wrapped_run_in_pool(bc, st, jobs, task, workers):
            if st.name == stage and st.kind == "reduce":
                parts = bc.work_dir / stage / "parts"
                def watch():
                    while not any(p.name.startswith("kept-") for p in parts.glob("*")):
                        time.sleep(0.005)
                    die()
                threading.Thread(target=watch, daemon=True).start()
            return run_in_pool(bc, st, jobs, task, workers)
        runner._run_in_pool = wrapped_run_in_pool
    return build.main(argv)


if __name__ == "__main__":
    sys.exit(main())
