"""The stage interface and registry.

A stage is one pure function over an Arrow table: `fn(table, config, ctx) -> StageOutput`. It reads no globals and
no network; the runner owns batching, parallelism, caching and resume. Every row the stage does not keep comes
back in `quarantined` with a reason code (built with `reject`), so nothing is dropped silently.

A stage declares what the runner needs to run it anywhere (the local process pool today, a Ray actor pool later):
- `kind`: `map` stages see independent slices and may run in parallel; `reduce` stages need the whole table or a
  global step (deduplication clusters, mixing); a `source` stage reads the recipe's sources instead of a table
  (`fn(config, ctx) -> Iterable[StageOutput]`), and is always the first stage. A reduce stage whose output is
  large may also yield it in pieces (an iterable of StageOutput, summed): the runner writes each piece as it
  comes, so the stage never holds its whole output; its per-record work may use `ctx.workers` processes
  (`cmedins.parallel.ordered_map`).
- `input_contract` / `output_contract`: the tables it reads and writes (`cmedins/schemas/`); the runner checks the
  whole recipe chain before anything runs, and every output against its contract.
- `input_files(config)`: every file besides the input table that changes the output (files named in the config,
  plugin code, templates); their hashes are part of the cache key.
- `setup(config)`: costly state built once per worker process (analyzers, dictionaries, tokenizers), handed to
  every call as `ctx.state`.
- `columns(config)`: for a reduce stage whose whole-table step needs only some columns (dedup: ids and groups;
  mix: the task rows' provenance): the runner reads only those, and the stage reads the other columns itself,
  batch by batch, from `ctx.input_path` (`input_batches`), so it never holds the whole table.

Stage modules are imported only when a recipe names their stage (`cmedins/stages.py` maps names to modules), so a
worker running `tasks` never imports the de-identifier.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.contracts import empty_table, load_contract
from cmedins.registry import Registry, RegistryError

Kind = Literal["map", "reduce", "source"]


class StageError(ValueError):
    """Input a stage cannot read at all (a missing or unparseable file, a bad source spec): one line naming the
    file and the problem, never a cell value. Row-level problems are quarantined instead."""


@dataclass(frozen=True)
class StageContext:
    """What a stage may know about the build besides its input: the seed and where it may write side files."""

    seed: int
    workdir: Path  # this stage's own directory; side files (ground truth, plots) go here, never published
    secret: bytes  # keys HMACs (record hashes, pseudonyms); from CMEDINS_SECRET
    row_offset: int = 0  # rows before this slice: quarantine row numbers are row_offset + 1-based position
    batch_rows: int = 2000  # the build's batch size (source stages read in batches of this many rows)
    state: Any = None  # what the stage's `setup` built for this worker process
    workers: int = 1  # processes a whole-table stage may use for its per-record work (the recipe's `workers`)
    input_path: Path | None = None  # a reduce stage's input file (read batch by batch by `input_batches`)


@dataclass
class StageOutput:
    """Kept rows, quarantined rows (quarantine.v1) and integer counters summed over batches.

    A `fan_out` stage emits a different number of rows than it reads, so it says how many input rows it used
    (`inputs_used`: yielded at least one row) and how many it refused (`inputs_quarantined`); the runner checks
    `used + quarantined = read` with them. A `source` stage counts the rows it read from its sources
    (`rows_read`), independently of what it kept, so the runner can check `kept + quarantined = read`.
    """

    kept: pa.Table
    quarantined: pa.Table = field(default_factory=lambda: empty_table("quarantine"))
    stats: dict[str, int] = field(default_factory=dict)
    inputs_used: int = 0
    inputs_quarantined: int = 0
    rows_read: int = 0


def input_batches(table: pa.Table, ctx: StageContext,
                  columns: list[str] | None = None) -> Iterator[tuple[int, pa.Table]]:
    """(first row, batch) over the stage's whole input rows: the row groups of `ctx.input_path` when the runner
    gave the stage only some columns (`Stage.columns`), else slices of `table` itself; `columns`: only these."""
    if ctx.input_path is None:
        whole = table if columns is None else table.select(columns)
        for start in range(0, whole.num_rows, ctx.batch_rows):
            yield start, whole.slice(start, ctx.batch_rows)
        return
    pf = pq.ParquetFile(ctx.input_path)
    start = 0
    for g in range(pf.metadata.num_row_groups):
        batch = pf.read_row_group(g, columns=columns)
        yield start, batch
        start += batch.num_rows


def collect(out: StageOutput | Iterable[StageOutput]) -> StageOutput:
    """A stage's output as one StageOutput, however the stage returned it (pieces are concatenated in order,
    their counters summed): for callers that want the whole result in memory, such as tests."""
    if isinstance(out, StageOutput):
        return out
    pieces = list(out)
    stats: dict[str, int] = {}
    for piece in pieces:
        for key, n in piece.stats.items():
            stats[key] = stats.get(key, 0) + n
    kept = [p.kept for p in pieces if p.kept.num_columns]
    return StageOutput(kept=pa.concat_tables(kept) if kept else pa.table({}),
                       quarantined=pa.concat_tables([empty_table("quarantine"), *(p.quarantined for p in pieces)]),
                       stats=dict(sorted(stats.items())), inputs_used=sum(p.inputs_used for p in pieces),
                       inputs_quarantined=sum(p.inputs_quarantined for p in pieces),
                       rows_read=sum(p.rows_read for p in pieces))


StageFn = Callable[..., Any]  # map/reduce: (pa.Table, config, StageContext) -> StageOutput (a reduce stage:
# or Iterable[StageOutput]); source: (config, StageContext) -> Iterable[StageOutput]


def _no_files(config: Any) -> list[Path]:
    return []


@dataclass(frozen=True)
class Stage:
    """A registered stage (see the module docstring for what each field tells the runner)."""

    name: str
    fn: StageFn
    config_cls: type
    kind: Kind = "map"
    fan_out: bool = False
    input_contract: str | None = None
    output_contract: str | None = None
    input_files: Callable[[Any], list[Path]] = _no_files
    setup: Callable[[Any], Any] | None = None
    columns: Callable[[Any], list[str]] | None = None

    def make_config(self, raw: dict | None) -> Any:
        """Build the config dataclass from the recipe's mapping; unknown keys are an error, not ignored."""
        raw = dict(raw or {})
        known = {f.name for f in dataclasses.fields(self.config_cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"stage {self.name!r}: unknown option(s) {', '.join(unknown)}; known: {sorted(known)}")
        return self.config_cls(**raw)


_STAGES: Registry[Stage] = Registry("stage")


def register_stage(
    name: str,
    *,
    config: type,
    kind: Kind = "map",
    fan_out: bool = False,
    input_contract: str | None = None,
    output_contract: str | None = None,
    input_files: Callable[[Any], list[Path]] | None = None,
    setup: Callable[[Any], Any] | None = None,
    columns: Callable[[Any], list[str]] | None = None,
) -> Callable[[StageFn], StageFn]:
    """Decorator: register `fn` as the stage `name`; a name already taken by another function is an error."""

    def wrap(fn: StageFn) -> StageFn:
        stage = Stage(name=name, fn=fn, config_cls=config, kind=kind, fan_out=fan_out, input_contract=input_contract,
                      output_contract=output_contract, input_files=input_files or _no_files, setup=setup,
                      columns=columns)
        _STAGES.add(name, stage, fn)
        return fn

    return wrap


def get_stage(name: str) -> Stage:
    """The stage `name`, importing only the module that defines it (`cmedins.stages.BUILTIN_STAGES`)."""
    from cmedins.stages import BUILTIN_STAGES

    if name not in _STAGES and name in BUILTIN_STAGES:
        importlib.import_module(BUILTIN_STAGES[name])
    if name not in _STAGES:
        raise RegistryError(f"unknown stage {name!r}; known: {', '.join(sorted({*BUILTIN_STAGES, *_STAGES.names()}))}")
    return _STAGES.get(name)


def quarantine_rows(rows: list[dict]) -> pa.Table:
    """Build a quarantine.v1 table from the dicts `reject` collected."""
    return pa.Table.from_pylist(rows, schema=load_contract("quarantine").schema)


def reject(rows: list[dict], stats: MutableMapping[str, int], *, stage: str, source: str, row: int, reason: str,
           message: str, field: str | None = None, key: str | None = None, payload: Any = None) -> None:
    """Add one quarantine.v1 row to `rows` and count it under `quarantined:<reason>` in `stats`.

    `message` names where (source, row, field) and what, never a value: it reaches logs. `payload` keeps the row
    for a human to inspect (it stays in the work directory, which may hold raw text); a dict is stored as JSON.
    """
    if payload is not None and not isinstance(payload, str):
        payload = json.dumps(payload, ensure_ascii=False, default=str, sort_keys=True)
    rows.append({"stage": stage, "source": source, "row": row, "key": key, "reason": reason, "field": field,
                 "message": message, "payload": payload})
    stats[f"quarantined:{reason}"] = stats.get(f"quarantined:{reason}", 0) + 1


def check_chain(steps: Iterable[Stage]) -> None:
    """Each stage must read what the stage before it writes: a recipe that runs `tasks` straight on raw records
    fails here, before anything runs, instead of at the first batch (or, worse, not at all)."""
    previous: Stage | None = None
    for stage in steps:
        if (stage.kind == "source") != (previous is None):
            where = "first" if previous is None else f"after {previous.name!r}"
            raise ValueError(f"stage {stage.name!r} ({stage.kind}) cannot run {where}")
        if previous is not None and stage.input_contract and stage.input_contract != previous.output_contract:
            raise ValueError(f"stage {stage.name!r} reads {stage.input_contract} but {previous.name!r} before it "
                             f"writes {previous.output_contract or 'an undeclared table'}")
        previous = stage
