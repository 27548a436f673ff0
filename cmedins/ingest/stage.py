"""The `ingest` source stage: the recipe's sources read onto the record contract (record.v1).

It is the first stage of every recipe. The runner resolves the recipe's `sources:` first (generating synthetic
ones into the work directory) and hands them over as this stage's `sources` option; the files they cover are
hashed into the cache key through `input_files`, so an edited export is read again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmedins.contracts import load_contract
from cmedins.ingest import SourceSpec, read_source, source_files
from cmedins.stage import StageContext, StageOutput, register_stage


@dataclass
class IngestConfig:
    """sources: the recipe's sources as SourceSpec mappings (name, kind, path or query, encoding, mapping,
    delimiter), read in this order; each is checked here, so a bad spec fails before anything runs."""

    sources: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sources = [{**SourceSpec.from_dict(s).__dict__} for s in self.sources]

    def specs(self) -> list[SourceSpec]:
        return [SourceSpec(**s) for s in self.sources]


def ingest_files(config: IngestConfig) -> list[Path]:
    return [p for spec in config.specs() for p in source_files(spec)]


@register_stage("ingest", config=IngestConfig, kind="source", output_contract="record", input_files=ingest_files)
def ingest_stage(config: IngestConfig, ctx: StageContext) -> Iterator[StageOutput]:
    """Stream every source's batches (kept rows on the contract, refused rows quarantined with a reason)."""
    contract = load_contract("record")
    for spec in config.specs():
        yield from read_source(spec, contract, batch_rows=ctx.batch_rows)
