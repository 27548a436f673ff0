"""CSV (UTF-8 or GB18030): DuckDB's parallel reader where it is safe, an exact reader everywhere else.

Both apply the same rules. UTF-8 files are streamed by DuckDB first; at the first row DuckDB refuses, the exact
reader (Python's csv module over surrogate-escaped text) resumes at that row. GB18030 files (DuckDB cannot load its
encodings extension offline), files with an odd number of quote characters (DuckDB 2.0 silently drops every row
after an unterminated quote, even with strict_mode and store_rejects) and files with a bad header go to the exact
reader directly. Undecodable bytes are kept as lone surrogates, so one bad byte costs exactly one row
(bad_encoding) rather than the file, and clean batches are converted by Arrow in bulk.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cmedins.ingest.duckdb_reader import connect, rechunk, sql_string
from cmedins.ingest.errors import BAD_COLUMNS, BAD_ENCODING, CSV_STRUCTURE, cannot_read, one_line
from cmedins.ingest.raw import RawBatch, has_surrogate, reject_row, to_json

_LEADING_JUNK = "\ufeff\u3000 \t"
_CODECS = {"utf-8": "utf-8-sig", "gb18030": "gb18030"}
_ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GB18030"}

csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # long free text must not fail as "field larger than"


def _normalise_header(names: list[str]) -> list[str]:
    return [n.strip(_LEADING_JUNK).strip() for n in names]


def read_csv(path: Path, encoding: str, delimiter: str, batch_rows: int) -> Iterator[RawBatch]:
    """Stream a CSV file with a header row. Blank lines are skipped and not counted as rows.

    A UTF-8 file is first streamed by DuckDB (several times faster). DuckDB stops at the first row it refuses;
    the exact reader below then resumes at that row, so clean files are fast and dirty ones still lose exactly
    their bad rows. A file with an odd number of quote characters (an unterminated quote, or a quote inside an
    unquoted cell) goes to the exact reader directly: DuckDB would silently drop everything after such a quote.
    """
    done = 0
    if encoding == "utf-8" and _fast_path_safe(path):
        fast = _duckdb_csv(path, delimiter, batch_rows)
        while True:
            try:
                batch = next(fast)
            except StopIteration:
                return
            except Exception:  # noqa: BLE001 — any refusal (DuckDB or its Arrow stream: OSError) means "go exact"
                fast.close()
                break
            if _may_hold_swallowed_rows(batch, delimiter):  # the exact reader decides, line by line
                fast.close()
                break
            done += len(batch.rows)
            yield batch
    yield from _python_csv(path, encoding, delimiter, batch_rows, skip=done)


def _fast_path_safe(path: Path) -> bool:
    """Balanced quotes and no lone CR: DuckDB drops everything after an unterminated quote and splits a row at a
    lone CR inside an unquoted cell (which common CSV writers produce), so such files go to the exact reader."""
    quotes = crs = crlfs = 0
    last = b""
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 24):
                quotes += chunk.count(b'"')
                crs += chunk.count(b"\r")
                crlfs += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
                last = chunk[-1:]
    except OSError as exc:
        raise cannot_read(str(path), exc.strerror or "cannot open") from None
    return quotes % 2 == 0 and crs == crlfs


def _may_hold_swallowed_rows(batch: RawBatch, delimiter: str) -> bool:
    """A cell with a line break followed by a line holding a whole row's worth of delimiters: a stray quote may
    have swallowed rows (see `_stray_quote`). Quoted notes with ordinary line breaks stay on the fast path."""
    ncols = len(batch.columns)
    if ncols < 3:
        pattern = "\n"
    else:
        d = re.escape(delimiter)
        pattern = f"\n[^\n]*({d}[^\n]*){{{ncols - 1}}}"
    return any(pc.any(pc.match_substring_regex(col, pattern)).as_py() for col in batch.columns.values())


def _duckdb_csv(path: Path, delimiter: str, batch_rows: int) -> Iterator[RawBatch]:
    """DuckDB's parallel CSV reader with our header; raises duckdb.Error at the first row it cannot take."""
    header = _read_header(path, "utf-8", delimiter)
    if header is None or len(set(header)) != len(header) or "" in header or any(has_surrogate(h) for h in header):
        raise ValueError("header needs the exact reader")  # which reports it (or reads an empty file as no rows)
    columns = "{" + ", ".join(f"'c{j}': 'VARCHAR'" for j in range(len(header))) + "}"
    sql = (
        f"SELECT * FROM read_csv({sql_string(str(path))}, columns = {columns}, header = true, "
        f"delim = {sql_string(delimiter)}, quote = '\"', escape = '\"', auto_detect = false, strict_mode = true)"
    )  # DuckDB's default max_line_size (2 MB) keeps its buffers small; a longer row sends us to the exact reader
    next_row = 1
    for table in rechunk(connect().sql(sql).to_arrow_reader(batch_rows), batch_rows):
        rows = list(range(next_row, next_row + table.num_rows))
        next_row += table.num_rows
        cols = {name: table.column(j) for j, name in enumerate(header)}
        yield RawBatch(source=path.name, rows=rows, columns=cols, payload=lambda i, t=table: _csv_payload(header, t, i))
    if next_row == 1:  # header only: one empty batch, so that the mapping is still checked against the header
        yield RawBatch(source=path.name, rows=[], columns={n: pa.array([], pa.string()) for n in header},
                       payload=lambda i: "{}")


def _csv_payload(header: list[str], table: pa.Table, i: int) -> str:
    """The same payload as the exact reader's: a CSV cell is never null, only empty."""
    values = table.slice(i, 1).to_pylist()[0].values()
    return to_json({name: "" if v is None else v for name, v in zip(header, values, strict=True)})


def _read_header(path: Path, encoding: str, delimiter: str) -> list[str] | None:
    try:
        with open(path, encoding=_CODECS[encoding], errors="surrogateescape", newline="") as text:
            header = next(csv.reader(text, delimiter=delimiter, strict=True), None)
    except (csv.Error, OSError):
        return None  # the exact reader reports it
    return None if header is None else _normalise_header(header)


class _PhysicalLines:
    """The file's lines split at LF only, so that a lone CR inside a cell is content, not a row break (it becomes
    U+2028, which normalisation turns into a line break); a file whose only line ends are CRs is read as such.
    Keeps the raw lines of the record being parsed, so a suspicious record can be quarantined line by line."""

    def __init__(self, text: io.TextIOWrapper, cr_lines: bool) -> None:
        self._text, self._cr_lines = text, cr_lines
        self.pending: list[str] = []

    def __iter__(self) -> Iterator[str]:
        for line in self._text:
            if "\r" in line and not self._cr_lines:
                line = line.replace("\r\n", "\n").replace("\r", "\u2028")
            self.pending.append(line)
            yield line


def _only_cr_line_ends(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    return b"\r" in head and b"\n" not in head


def _stray_quote(lines: list[str], ncols: int, delimiter: str) -> bool:
    """A record over several physical lines is a quoted cell with line breaks, or a stray quote that swallowed the
    rows after it. Tell them apart: a continuation line that is, on its own, a complete row of the file."""
    if len(lines) < 2 or ncols < 3:
        return False
    for line in lines[1:]:
        fields = next(csv.reader([line.rstrip("\n")], delimiter=delimiter), [])
        if len(fields) == ncols:
            return True
    return False


def _python_csv(path: Path, encoding: str, delimiter: str, batch_rows: int, skip: int) -> Iterator[RawBatch]:
    """The exact reader: Python's csv module over surrogate-escaped text; skips the first `skip` data rows."""
    source = path.name
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed by the TextIOWrapper below)
        cr_lines = _only_cr_line_ends(path)
    except OSError as exc:
        raise cannot_read(str(path), exc.strerror or "cannot open") from None
    enc_name = _ENCODING_NAMES[encoding]
    with io.TextIOWrapper(fh, encoding=_CODECS[encoding], errors="surrogateescape",
                          newline="" if cr_lines else "\n") as text:
        lines = _PhysicalLines(text, cr_lines)
        reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
        start_line = 1
        try:
            header = next(reader, None)
            if header is None:
                return  # an empty file is zero rows, not an error
            header = _normalise_header(header)
            if any(has_surrogate(h) for h in header):
                raise cannot_read(str(path), f"the header row is not valid {enc_name}")
            if len(set(header)) != len(header) or "" in header:
                raise cannot_read(str(path), "the header row has empty or repeated column names")
            ncols = len(header)
            good: list[list[str]] = []
            nums: list[int] = []
            rejects: list[dict] = []
            row = 0
            while True:
                start_line = reader.line_num + 1
                lines.pending = []
                try:
                    record = next(reader, None)
                except csv.Error as exc:
                    if "unexpected end of data" in str(exc):
                        raise
                    # a quote where the format allows none: quarantine the lines it spoiled and read on
                    what = f"not valid CSV at line {reader.line_num} ({one_line(str(exc))})"
                    for physical in lines.pending:
                        row += 1
                        if row > skip:
                            payload = to_json({"line": physical.rstrip("\n")})
                            rejects.append(reject_row(source, row, CSV_STRUCTURE, None, what, payload))
                    continue
                if record is None:
                    break
                if not record:
                    continue
                if _stray_quote(lines.pending, ncols, delimiter):
                    end_line = reader.line_num
                    what = (f"a quote opened on line {start_line} closes on line {end_line}: the lines between "
                            "would merge into one record")
                    for physical in lines.pending:
                        row += 1
                        if row > skip:
                            payload = to_json({"line": physical.rstrip("\n")})
                            rejects.append(reject_row(source, row, CSV_STRUCTURE, None, what, payload))
                    continue
                row += 1
                if row <= skip:
                    continue
                if len(record) != ncols:
                    payload = to_json(record)
                    what = f"expected {ncols} columns, found {len(record)}"
                    rejects.append(reject_row(source, row, BAD_COLUMNS, None, what, payload))
                else:
                    good.append(record)
                    nums.append(row)
                if len(good) + len(rejects) >= batch_rows:
                    yield _csv_batch(source, header, good, nums, rejects, enc_name)
                    good, nums, rejects = [], [], []
            yield _csv_batch(source, header, good, nums, rejects, enc_name)
        except csv.Error as exc:
            what = "unterminated quote" if "unexpected end of data" in str(exc) else one_line(str(exc))
            raise cannot_read(str(path), f"not valid CSV (line {start_line}: {what})") from None
        except OSError as exc:
            raise cannot_read(str(path), exc.strerror or "read error") from None


def _csv_batch(
    source: str, header: list[str], good: list[list[str]], nums: list[int], rejects: list[dict], enc_name: str
) -> RawBatch:
    """Columns as Arrow strings; only when Arrow refuses a batch (lone surrogates) are rows checked one by one."""
    try:
        columns = _string_columns(header, good)
    except (UnicodeEncodeError, pa.ArrowException):
        clean, clean_nums = [], []
        for record, row in zip(good, nums, strict=True):
            bad = next((j for j, cell in enumerate(record) if has_surrogate(cell)), None)
            if bad is None:
                clean.append(record)
                clean_nums.append(row)
            else:
                payload = to_json(dict(zip(header, record, strict=True)))
                what = f"bytes are not valid {enc_name}"
                rejects.append(reject_row(source, row, BAD_ENCODING, header[bad], what, payload))
        good, nums = clean, clean_nums
        columns = _string_columns(header, good)
    rejects.sort(key=lambda r: r["row"])

    def payload(i: int) -> str:
        return to_json(dict(zip(header, good[i], strict=True)))

    return RawBatch(source=source, rows=nums, columns=columns, payload=payload, rejects=rejects)


def _string_columns(header: list[str], records: list[list[str]]) -> dict[str, pa.Array]:
    if not records:
        return {name: pa.array([], type=pa.string()) for name in header}
    cols = zip(*records, strict=True)
    return {name: pa.array(col, type=pa.string()) for name, col in zip(header, cols, strict=True)}
