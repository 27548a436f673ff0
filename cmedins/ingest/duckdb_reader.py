"""DuckDB-backed reading: Parquet files and SQL queries, streamed as Arrow in fixed-size batches."""

from __future__ import annotations

import re
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from cmedins.ingest.errors import IngestError, cannot_read
from cmedins.ingest.raw import RawBatch, to_json


def connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory database per file: no shared state, no progress bar on the terminal."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def sql_string(text: str) -> str:
    """A SQL string literal (paths may contain quotes)."""
    return "'" + text.replace("'", "''") + "'"


_QUOTED_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")


def _duckdb_error(exc: Exception) -> str:
    """DuckDB's first line, with quoted literals blanked: conversion errors quote cell values."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _QUOTED_LITERAL.sub("'…'", first)[:200]


def read_duckdb(
    con: duckdb.DuckDBPyConnection, sql: str, label: str, source: str, batch_rows: int, *, file_rows: bool
) -> Iterator[RawBatch]:
    """Stream a DuckDB result in Arrow batches; Parquet rows are numbered by DuckDB's file_row_number."""
    what = "not a readable Parquet file" if file_rows else "query failed"
    try:
        reader = con.sql(sql).to_arrow_reader(batch_rows)
        next_row = 1
        for table in rechunk(reader, batch_rows):
            if file_rows:
                rows = [r + 1 for r in table.column("file_row_number").to_pylist()]
                table = table.drop_columns(["file_row_number"])
            else:
                rows = list(range(next_row, next_row + table.num_rows))
            next_row += table.num_rows
            yield RawBatch(
                source=source,
                rows=rows,
                columns={name: table.column(name) for name in table.column_names},
                payload=lambda i, t=table: to_json(t.slice(i, 1).to_pylist()[0]),
            )
        if next_row == 1:  # no batch at all: still report the columns so that the mapping can be checked
            names = [n for n in reader.schema.names if n != "file_row_number"]
            yield RawBatch(source=source, rows=[], columns={n: [] for n in names}, payload=lambda i: "{}")
    except (duckdb.Error, pa.ArrowException, OSError) as exc:  # errors met while streaming arrive as OSError
        if file_rows:
            raise cannot_read(label, f"{what}: {_duckdb_error(exc)}") from None
        raise IngestError(f"ingest: source {label}: {what}: {_duckdb_error(exc)}") from None


def rechunk(reader: pa.RecordBatchReader, batch_rows: int) -> Iterator[pa.Table]:
    """Tables of exactly `batch_rows` rows (the last may be shorter) from DuckDB's vector-sized batches.

    Fewer, larger batches amortise the per-batch cost of the checks, and fixed sizes make batching independent of
    how DuckDB's threads happened to chunk the stream.
    """
    pending: list[pa.RecordBatch] = []
    count = 0
    for rb in reader:
        pending.append(rb)
        count += rb.num_rows
        while count >= batch_rows:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            yield table.slice(0, batch_rows)  # zero-copy; the checks combine each column once
            rest = table.slice(batch_rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema=reader.schema)
