"""A key -> row cache in a folder of parquet parts: generated answers and judge verdicts are computed once.

Why parts instead of one file: parquet cannot be appended to, and a long GPU generation or a judge run that stops
half way (an endpoint outage, a killed job) must keep what it already paid for. Each flush writes one new part
(atomically: a temporary file, then a rename); reading loads every part. Nothing secret is ever stored: rows hold
hashes, settings and outputs, never an API key.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from train.config import UsageError


def digest(*parts: Any) -> str:
    """A stable sha256 of JSON-serialisable parts (dict keys sorted)."""
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ParquetCache:
    """Rows with a string `key` column; `get` reads, `put` buffers, `flush` writes a part (also every `flush_every`)."""

    def __init__(self, folder: str | Path, flush_every: int = 64) -> None:
        self.folder = Path(folder)
        self.flush_every = flush_every
        self.rows: dict[str, dict[str, Any]] = {}
        self.pending: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        for part in sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []:
            try:
                for row in pq.read_table(part).to_pylist():
                    self.rows[row["key"]] = row
            except (OSError, ValueError, KeyError) as exc:
                raise UsageError(f"cache part {part} is unreadable ({type(exc).__name__}); delete it") from None

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str) -> dict[str, Any] | None:
        return self.rows.get(key)

    def put(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.rows[row["key"]] = row
            self.pending.append(row)
            full = len(self.pending) >= self.flush_every
        if full:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            rows, self.pending = self.pending, []
        if not rows:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = digest(sorted(r["key"] for r in rows))[:24]
        path = self.folder / f"part-{name}.parquet"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        pq.write_table(pa.Table.from_pylist(rows), tmp)
        os.replace(tmp, path)
