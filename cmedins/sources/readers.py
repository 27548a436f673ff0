"""Read a source's raw rows: local JSON / JSONL / CSV / TSV / Parquet files, or a Hugging Face dataset.

Public datasets are published loosely: ChatMed's and BELLE's `.json` files are JSON Lines, CMtMedQA's is an
indented array, Toyhom's CSV is GB18030. So the layout is read from the content, not the extension: a `.json` file
whose first character is `[` is an array, one starting with `{` is JSON Lines (or one object holding the array
under `json_key`). A line that does not parse is a row-level problem (quarantined as `unreadable_row`, the rest
of the file is read); a file that cannot be read at all is a `StageError`, one line naming the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from cmedins.sources.spec import SourceSpec
from cmedins.stage import StageError


@dataclass(frozen=True)
class RawRow:
    """One row as read: its file, 1-based line/element number in that file, and the parsed value (or None with
    `problem` set when it could not be parsed)."""

    file: str
    line: int
    value: Any
    problem: str | None = None


def read_rows(spec: SourceSpec, files: list[Path] | None = None) -> Iterator[RawRow]:
    """Every raw row of the source, file by file in sorted order, up to `max_rows`."""
    if spec.hub is not None:
        rows: Iterator[RawRow] = _hub_rows(spec)
    else:
        paths = files if files is not None else spec.files()
        if not paths:
            raise StageError(f"{spec.label}: no file matches {spec.path}")
        rows = (row for path in paths for row in _file_rows(spec, path))
    for n, row in enumerate(rows, 1):
        if spec.max_rows is not None and n > spec.max_rows:
            return
        yield row


def _decode(spec: SourceSpec, path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StageError(f"{spec.label}: cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    encoding = "utf-8-sig" if spec.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else spec.encoding
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise StageError(f"{spec.label}: {path} is not valid {spec.encoding} (byte {exc.start}); "
                         "set `encoding` (e.g. gb18030)") from None


def _file_rows(spec: SourceSpec, path: Path) -> Iterator[RawRow]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_rows(spec, path)
    elif suffix in (".csv", ".tsv"):
        yield from _csv_rows(spec, path, spec.delimiter or ("\t" if suffix == ".tsv" else ","))
    elif suffix in (".json", ".jsonl"):
        yield from _json_rows(spec, path)
    else:
        raise StageError(f"{spec.label}: {path}: unsupported file type {suffix or '(none)'}; "
                         "use .json, .jsonl, .csv, .tsv or .parquet")


def _json_rows(spec: SourceSpec, path: Path) -> Iterator[RawRow]:
    text = _decode(spec, path)
    start = text.lstrip()[:1]
    if not start:
        raise StageError(f"{spec.label}: {path} is empty")
    if start == "[" or spec.json_key:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StageError(f"{spec.label}: {path} is not valid JSON (line {exc.lineno})") from None
        if spec.json_key:
            if not isinstance(data, dict) or not isinstance(data.get(spec.json_key), list):
                raise StageError(f"{spec.label}: {path} has no list under json_key {spec.json_key!r}")
            data = data[spec.json_key]
        if not isinstance(data, list):
            raise StageError(f"{spec.label}: {path} is not a JSON array")
        for i, value in enumerate(data, 1):
            yield RawRow(path.name, i, value)
        return
    lines = text.split("\n")  # not splitlines(): U+2028 is legal inside a JSON string
    first = next((ln for ln in lines if ln.strip()), "")
    try:
        json.loads(first)
    except json.JSONDecodeError:
        raise StageError(f"{spec.label}: {path}: neither a JSON array nor JSON Lines; if it is one object, name the "
                         "list in it with json_key") from None
    for i, line in enumerate(lines, 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            yield RawRow(path.name, i, json.loads(line))
        except json.JSONDecodeError as exc:
            yield RawRow(path.name, i, None, f"line {i} is not valid JSON (column {exc.colno})")


def _csv_rows(spec: SourceSpec, path: Path, delimiter: str) -> Iterator[RawRow]:
    text = _decode(spec, path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = list(spec.columns) if spec.columns else next(reader, None)
    if not header:
        raise StageError(f"{spec.label}: {path} has no header row (give `columns`)")
    for i, cells in enumerate(reader, 1 if spec.columns else 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield RawRow(path.name, i, None, f"line {i} has {len(cells)} cells, the header {len(header)}")
            continue
        yield RawRow(path.name, i, dict(zip(header, cells, strict=True)))


def _parquet_rows(spec: SourceSpec, path: Path) -> Iterator[RawRow]:
    try:
        pf = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise StageError(f"{spec.label}: {path} is not a readable parquet file ({type(exc).__name__})") from None
    n = 0
    for batch in pf.iter_batches(batch_size=4096):
        for value in batch.to_pylist():
            n += 1
            yield RawRow(path.name, n, value)


def _hub_rows(spec: SourceSpec) -> Iterator[RawRow]:
    """Rows of a Hugging Face dataset, only when the optional `datasets` package is installed."""
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError:
        raise StageError(f"{spec.label}: hub dataset {spec.hub!r} needs the `datasets` package (pip install "
                         "datasets); or download its files and give `path`") from None
    try:
        data = datasets.load_dataset(spec.hub, spec.hub_config, split=spec.split, revision=spec.revision)
    except Exception as exc:  # the hub client raises many types; one line with the type, never a traceback
        raise StageError(f"{spec.label}: cannot load hub dataset {spec.hub!r} ({type(exc).__name__})") from None
    name = spec.hub.replace("/", "_")
    for i, value in enumerate(data, 1):
        yield RawRow(name, i, dict(value))
