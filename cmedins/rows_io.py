"""Reading a file of {id, text} rows (JSONL or Parquet) for the per-file tools (`cmedins deid`, `cmedins clean`).

Both tools take any user file, so both need the same one-line errors naming the file, the line or row and the
field (never a value): one reader keeps them the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


class InputError(Exception):
    """Bad input: one line naming the file, the line/row and the field, never a value."""


def read_jsonl(path: Path, id_col: str, text_col: str) -> list[dict[str, Any]]:
    """The rows of a JSON Lines file (blank lines skipped), each checked by `check_row`."""
    rows: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise InputError(f"{path.name}: line {n}: not valid JSON") from None
                if not isinstance(row, dict):
                    raise InputError(f"{path.name}: line {n}: expected a JSON object")
                check_row(row.get(id_col, None), id_col in row, row.get(text_col), text_col in row, path.name,
                       f"line {n}", id_col, text_col)
                rows.append(row)
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None
    return rows


def check_row(ident: Any, has_id: bool, text: Any, has_text: bool, name: str, where: str, id_col: str,
              text_col: str) -> None:
    """The row has a non-empty id and a text field that is a string or null."""
    if not has_id or ident is None or ident == "":
        raise InputError(f"{name}: {where}: missing field '{id_col}'")
    if not has_text:
        raise InputError(f"{name}: {where}: missing field '{text_col}'")
    if text is not None and not isinstance(text, str):
        raise InputError(f"{name}: {where}: field '{text_col}' is not a string")


def read_parquet(path: Path, id_col: str, text_col: str) -> pa.Table:
    """A Parquet file with the id and text columns, the text a string column, no null id."""
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - a corrupt file is one line, not a traceback
        raise InputError(f"{path.name}: not a readable Parquet file ({type(exc).__name__})") from None
    for col in (id_col, text_col):
        if col not in table.column_names:
            raise InputError(f"{path.name}: missing column '{col}'")
    kind = table.schema.field(text_col).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        raise InputError(f"{path.name}: column '{text_col}' is not a string column")
    ids = table.column(id_col)
    if ids.null_count:
        first = ids.to_pylist().index(None)
        raise InputError(f"{path.name}: row {first + 1}: missing field '{id_col}'")
    return table
