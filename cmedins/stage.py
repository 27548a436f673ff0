"""The stage interface and registry.

A stage is one pure function over an Arrow table: `fn(table, config, ctx) -> StageOutput`. It reads no globals and
no network; the runner owns batching, parallelism, caching and resume. Every row the stage does not keep comes
back in `quarantined` with a reason code, so nothing is dropped silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from cmedins.contracts import empty_table


@dataclass(frozen=True)
class StageContext:
    """What a stage may know about the build besides its input: the seed and where it may write side files."""

    seed: int
    workdir: Path  # this stage's own directory; side files (ground truth, plots) go here, never published
    secret: bytes  # keys HMACs (record hashes, pseudonyms); from CMEDINS_SECRET
    row_offset: int = 0  # rows before this slice: quarantine row numbers are row_offset + 1-based position


@dataclass
class StageOutput:
    """Kept rows, quarantined rows (quarantine.v1) and integer counters summed over batches."""

    kept: pa.Table
    quarantined: pa.Table = field(default_factory=lambda: empty_table("quarantine"))
    stats: dict[str, int] = field(default_factory=dict)


StageFn = Callable[[pa.Table, Any, StageContext], StageOutput]


@dataclass(frozen=True)
class Stage:
    """A registered stage.

    `batchwise` stages see independent slices of their input and may run in parallel; the others see the whole
    table at once (deduplication, mixing). `fan_out` stages emit a different number of rows than they read
    (task building), so the runner checks `read = kept + quarantined` per stage only when it is false.
    `input_files` lists files named in the config, hashed into the cache key.
    """

    name: str
    fn: StageFn
    config_cls: type
    batchwise: bool = True
    fan_out: bool = False
    output_contract: str | None = None
    input_files: Callable[[Any], list[Path]] = lambda config: []

    def make_config(self, raw: dict | None) -> Any:
        """Build the config dataclass from the recipe's mapping; unknown keys are an error, not ignored."""
        raw = dict(raw or {})
        known = {f.name for f in dataclasses.fields(self.config_cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"stage {self.name!r}: unknown option(s) {', '.join(unknown)}; known: {sorted(known)}")
        return self.config_cls(**raw)


_REGISTRY: dict[str, Stage] = {}


def register_stage(
    name: str,
    *,
    config: type,
    batchwise: bool = True,
    fan_out: bool = False,
    output_contract: str | None = None,
    input_files: Callable[[Any], list[Path]] | None = None,
) -> Callable[[StageFn], StageFn]:
    """Decorator: register `fn` as the stage `name`."""

    def wrap(fn: StageFn) -> StageFn:
        _REGISTRY[name] = Stage(
            name=name,
            fn=fn,
            config_cls=config,
            batchwise=batchwise,
            fan_out=fan_out,
            output_contract=output_contract,
            input_files=input_files or (lambda config: []),
        )
        return fn

    return wrap


def get_stage(name: str) -> Stage:
    """Look up a registered stage, importing the built-in stage modules first."""
    import cmedins.stages  # noqa: F401  (registers the built-in stages)

    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def quarantine_rows(rows: list[dict]) -> pa.Table:
    """Build a quarantine.v1 table from dicts with its field names."""
    from cmedins.contracts import load_contract

    return pa.Table.from_pylist(rows, schema=load_contract("quarantine").schema)
