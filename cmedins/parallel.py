"""Worker processes that keep state between calls, for whole-table stages whose work splits into independent
streams rather than independent rows.

The `tasks` stage is the user: each group of tasks keeps its own cross-row state (caps, the duplicate check), so
each group runs in its own lane, over every slice of records in order. A lane is a process of its own (a
one-process pool): the jobs sent to it run there one after the other, in the order sent, and what its
initializer built stays between them. Lanes are spawned (fork is unsafe once polars/duckdb threads exist) and end
as soon as the process that started them dies (`exit_with_parent`), so a killed build leaves none behind. With one
lane nothing is started: jobs run in this process, which gives the same results.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from cmedins.runner.worker import exit_with_parent

R = TypeVar("R")


class Lanes:
    """`n` lanes; lane i is set up by `initializer(*initargs[i])` before its first job."""

    def __init__(self, initializer: Callable[..., None], initargs: list[tuple[Any, ...]]) -> None:
        self._pools: list[ProcessPoolExecutor] = []
        if len(initargs) == 1:
            initializer(*initargs[0])
            return
        ctx = multiprocessing.get_context("spawn")
        from_main = threading.current_thread() is threading.main_thread()
        self._pools = [ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_start,
                                           initargs=(os.getpid(), from_main, initializer, args))
                       for args in initargs]

    def submit(self, lane: int, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Run `fn(*args)` in lane `lane`, after the jobs sent to that lane before it."""
        if not self._pools:
            done: Future[R] = Future()
            done.set_result(fn(*args))
            return done
        return self._pools[lane].submit(fn, *args)

    def close(self) -> None:
        """Stop the lanes, dropping jobs not yet started (after an error nothing more is wanted of them)."""
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Lanes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _start(parent: int, from_main: bool, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    exit_with_parent(parent, from_main)
    initializer(*initargs)
