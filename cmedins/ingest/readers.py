"""Readers: each turns one file (or one DuckDB query) into a stream of `RawBatch`es with exact row numbers.

Files are read one by one in sorted order, and row numbers restart in each file, so a quarantine message names a
row the hospital engineer can find: CSV rows are data records after the header (blank lines skipped), JSONL rows
are line numbers, Parquet rows are DuckDB's file_row_number + 1, query rows are result ordinals.
"""

from __future__ import annotations

from collections.abc import Iterator

from cmedins.ingest.csv_reader import read_csv
from cmedins.ingest.duckdb_reader import connect, read_duckdb, sql_string
from cmedins.ingest.jsonl_reader import read_jsonl
from cmedins.ingest.raw import RawBatch
from cmedins.ingest.spec import SourceSpec, source_files


def iter_raw(spec: SourceSpec, batch_rows: int) -> Iterator[RawBatch]:
    """All raw batches of a spec, file by file."""
    if spec.kind == "duckdb":
        yield from read_duckdb(connect(), spec.query or "", spec.name, spec.name, batch_rows, file_rows=False)
        return
    for path in source_files(spec):
        if spec.kind == "csv":
            yield from read_csv(path, spec.encoding, spec.delimiter, batch_rows)
        elif spec.kind == "jsonl":
            yield from read_jsonl(path, batch_rows)
        else:
            sql = "SELECT * FROM read_parquet(" + sql_string(str(path)) + ", file_row_number = true)"
            yield from read_duckdb(connect(), sql, str(path), path.name, batch_rows, file_rows=True)
