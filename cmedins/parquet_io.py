"""Parquet writing with fixed settings, so that the same rows always give the same bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

WRITE_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True, "use_dictionary": True}


def write_table(table: pa.Table, path: Path, row_group_rows: int = 10_000) -> None:
    """Write atomically (temp file + rename): a killed build never leaves a half-written file behind."""
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, row_group_size=row_group_rows, **WRITE_OPTIONS)
    os.replace(tmp, path)


class RowGroupWriter:
    """Streams batches into one parquet file with row groups of exactly `rows` rows (the last may be shorter).

    The runner hands row group i of a stage's output to the next stage as its batch i, so fixed-size row groups
    make batching independent of how the upstream stage happened to chunk its output.
    """

    def __init__(self, path: Path, schema: pa.Schema, rows: int) -> None:
        self.path, self.rows = path, rows
        self._tmp = path.with_name(path.name + ".tmp")
        self._writer = pq.ParquetWriter(self._tmp, schema, **WRITE_OPTIONS)
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows_written = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self.rows:
            self._flush(self.rows)

    def _flush(self, n: int) -> None:
        buffered = pa.concat_tables(self._pending)
        head, tail = buffered.slice(0, n), buffered.slice(n)
        self._writer.write_table(head.combine_chunks(), row_group_size=n)
        self.rows_written += head.num_rows
        self._pending = [tail] if tail.num_rows else []
        self._pending_rows = tail.num_rows

    def close(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._writer.close()
        os.replace(self._tmp, self.path)
