"""Readers: each turns one file (or one DuckDB query) into a stream of `RawBatch`es with exact row numbers.

Files are read one by one in sorted order, and row numbers restart in each file, so a quarantine message names a
row the hospital engineer can find: CSV rows are data records after the header (blank lines skipped), JSONL rows
are line numbers, Parquet rows are DuckDB's file_row_number + 1, query rows are result ordinals.
"""

from __future__ import annotations

from collections.abc import Iterator

from cmedins.ingest.csv_reader import read_csv
from cmedins.ingest.duckdb_reader import connect, read_duckdb, sql_string
from cmedins.ingest.errors import IngestError
from cmedins.ingest.file_checks import check_file
from cmedins.ingest.jsonl_reader import read_jsonl
from cmedins.ingest.raw import RawBatch
from cmedins.ingest.spec import SourceSpec, source_files


def iter_raw(spec: SourceSpec, batch_rows: int) -> Iterator[RawBatch]:
    """All raw batches of a spec, file by file. A file (or query) with no data rows is an error unless the source
    says `allow_empty: true`: an empty export usually means a failed export, and would build an empty dataset."""
    if spec.kind == "duckdb":
        batches = read_duckdb(connect(), spec.query or "", spec.name, spec.name, batch_rows, file_rows=False)
        yield from _not_empty(batches, f"source {spec.name!r}: the query", spec.allow_empty)
        return
    for path in source_files(spec):
        check_file(path, spec)
        if spec.kind == "csv":
            batches = read_csv(path, spec.encoding, spec.delimiter, batch_rows)
        elif spec.kind == "jsonl":
            batches = read_jsonl(path, batch_rows)
        else:
            sql = "SELECT * FROM read_parquet(" + sql_string(str(path)) + ", file_row_number = true)"
            batches = read_duckdb(connect(), sql, str(path), path.name, batch_rows, file_rows=True)
        yield from _not_empty(batches, f"cannot read {path}:", spec.allow_empty)


def _not_empty(batches: Iterator[RawBatch], what: str, allow_empty: bool) -> Iterator[RawBatch]:
    rows = 0
    for batch in batches:
        rows += batch.rows_read
        yield batch
    if rows == 0 and not allow_empty:
        raise IngestError(f"ingest: {what} has no data rows (empty, or a header only); "
                          "set allow_empty: true on the source if that is expected")
