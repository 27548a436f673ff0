"""Write one dataset version in the Hub layout into a folder, and swap it into place atomically.

Layout: `data/<config>/<split>-NNNNN-of-MMMMM.parquet` (zstd, the build's fixed writer settings, rows in input
order, shards bounded by rows and by bytes), `plots/*.svg`, `dataset_info.json` (LLaMA-Factory), `manifest.json`
and `README.md` (the card). Everything but the card is a pure function of the rows and the build's facts, so two
builds write identical bytes; the card also says what changed since the version it replaces.

Atomic: the version is written into `<out>/.<folder>.tmp-<pid>/`, then the old folder is renamed aside, the new
one renamed into place and the old one removed. A failure or a kill while writing leaves the previous version
untouched (the temp folder is removed, or removed by the next publish); a kill between the two renames leaves the
previous version under `.<folder>.old-<pid>`, which the next publish puts back before anything else.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cmedins.parquet_io import cannot_write, write_table, write_text
from cmedins.runner.hashing import file_sha256

SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")
SPLIT_ORDER = ("train", "validation", "test")


@dataclass
class ConfigData:
    """One config's rows by split (split name -> table), in the order they are published."""

    name: str
    splits: dict[str, pa.Table]
    preference: bool = False

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.splits.values())


@dataclass
class Written:
    """What was written: per file its sha256, bytes and rows; per config and split its rows and files."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    configs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def by_split(table: pa.Table, splits: list[str]) -> dict[str, pa.Table]:
    """The table's rows grouped by split, each group in input order, splits in train/validation/test order."""
    values = pa.array(splits, pa.string())
    names = sorted(set(splits), key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else 99, s))
    return {name: table.filter(pc.equal(values, name)) for name in names}


def shard_count(table: pa.Table, max_rows: int, max_bytes: int) -> int:
    """Shards needed to keep each under `max_rows` rows and about `max_bytes` of uncompressed data."""
    by_rows = math.ceil(table.num_rows / max_rows) if max_rows > 0 else 1
    by_bytes = math.ceil(table.nbytes / max_bytes) if max_bytes > 0 else 1
    return max(1, by_rows, by_bytes)


def write_shards(root: Path, configs: list[ConfigData], *, max_rows: int, max_bytes: int,
                 row_group_rows: int = 5_000) -> Written:
    """Write every config's splits as evenly sized shards; row groups of `row_group_rows` for streaming readers."""
    out = Written()
    for cfg in configs:
        folder = root / "data" / cfg.name
        folder.mkdir(parents=True, exist_ok=True)
        out.configs[cfg.name] = {}
        for split, table in cfg.splits.items():
            n = shard_count(table, max_rows, max_bytes)
            size = math.ceil(table.num_rows / n) if table.num_rows else 0
            names = []
            for i in range(n):
                part = table.slice(i * size, size) if size else table
                rel = f"data/{cfg.name}/{split}-{i:05d}-of-{n:05d}.parquet"
                write_table(part.combine_chunks(), root / rel, row_group_rows=row_group_rows)
                out.files[rel] = {"rows": part.num_rows}
                names.append(rel)
            out.configs[cfg.name][split] = {"rows": table.num_rows, "files": names}
    return out


def checksum_files(root: Path, written: Written, extra: list[str]) -> dict[str, dict[str, Any]]:
    """sha256 and bytes of every data file and of `extra` files (plots, dataset_info.json), sorted by path."""
    files = {rel: dict(meta) for rel, meta in written.files.items()}
    for rel in extra:
        files[rel] = {}
    for rel, meta in files.items():
        path = root / rel
        meta.update(sha256=file_sha256(path), bytes=path.stat().st_size)
    return dict(sorted(files.items()))


def dump_json(value: Any, path: Path) -> None:
    """Sorted keys, fixed indentation, UTF-8, a final newline: the same value always gives the same bytes."""
    write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n", path)


def recover(out: Path, name: str) -> None:
    """Before publishing: put back a previous version a kill left aside, and remove temp folders of dead writes."""
    target = out / name
    olds = sorted(out.glob(f".{name}.old-*"))
    if not target.exists() and olds:
        os.replace(olds[-1], target)
        olds = olds[:-1]
    for p in [*olds, *out.glob(f".{name}.tmp-*")]:
        shutil.rmtree(p, ignore_errors=True)


@contextmanager
def staged(out: Path, name: str) -> Iterator[Path]:
    """A temp folder to write the new version into; on a clean exit it replaces `out/name`, on any error it goes
    and `out/name` stays as it was."""
    recover(out, name)
    tmp = out / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        yield tmp
        target, old = out / name, out / f".{name}.old-{os.getpid()}"
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise cannot_write(exc.filename or out / name, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
