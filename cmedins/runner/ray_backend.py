"""Run a stage's batches on Ray instead of the local process pool (`python -m cmedins.build --runner ray`).

The batches are the same `BatchJob`s the local runner makes (one per row group of the upstream table; one for a
whole-table stage), executed by the same `run_batch`, which writes the same part files; the runner then assembles
them in batch order exactly as it does locally. So the output does not depend on the runner, on the number of
workers or on which batch finished first: same bytes, same caching and resume.

Batchwise stages go through Ray Data: `map_batches` over the job descriptors with a pool of actors
(`concurrency` = the recipe's `workers`), so a stage with a costly set-up (the de-identifier's analyzer and NER
model, tokenizers) builds it once per actor (`worker.stage_state` caches it per process). A whole-table stage runs
as one Ray task holding the recipe's `workers` CPUs (`tasks` runs its groups of tasks in that many processes on
the task's node). Workers read their row group from the build folder and write their parts there, so on a
cluster the build folder must be on storage every node mounts (NFS, a parallel file system).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Any

from cmedins.runner.worker import BatchJob, run_batch


def connect(address: str | None, workers: int) -> None:
    """Join the cluster at `address` (`auto`: the one this node belongs to), or start a local Ray with `workers`
    CPUs; quiet, no dashboard. Idempotent within a process."""
    import ray

    if ray.is_initialized():
        return
    if address is None:  # a private local instance: Ray 2.60's token auth only gets in the way
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR",
                              "configure_logging": True}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=max(1, workers), **kwargs)
    ray.data.DataContext.get_current().enable_progress_bars = False


class _BatchActor:
    """One Ray Data actor: runs the batches it is given; its process keeps the stage's set-up between batches."""

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {"done": [run_batch(pickle.loads(job)) for job in batch["job"]]}


def run_jobs(jobs: list[BatchJob], workers: int, whole_table: bool, advance: Callable[[int], None]) -> None:
    """Run `jobs` on the connected Ray cluster; `advance(n)` reports finished batches to the progress bar."""
    import ray

    if whole_table:  # it may use `job.workers` processes for its per-record work: as many CPUs are reserved
        remote = ray.remote(run_batch)
        for job in jobs:
            ray.get(remote.options(num_cpus=max(1, job.workers)).remote(job))
            advance(1)
        return
    items = [{"job": pickle.dumps(job)} for job in jobs]
    ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        _BatchActor, batch_size=1, concurrency=max(1, min(workers, len(items))), num_cpus=1)
    for batch in ds.iter_batches(batch_size=1):
        advance(len(batch["done"]))
