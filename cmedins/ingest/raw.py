"""The hand-off between a reader and the contract checks: one batch of rows as the source had them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from cmedins.ingest.errors import row_message

# A column as read: an Arrow array (CSV cells as strings, Parquet/DuckDB typed) or Python objects (JSONL values).
RawColumn = pa.Array | pa.ChunkedArray | list[Any]


@dataclass
class RawBatch:
    """Rows of one file before mapping and coercion.

    `rows` are the 1-based data row numbers of the rows in `columns` (readers already refused some rows, e.g. bad
    bytes or a wrong column count, into `rejects`). `payload(i)` renders row i as JSON only when it is quarantined,
    so the common path never pays for it. `fixed_columns` is false for JSONL, where each line has its own keys
    and a missing key is an empty value rather than a mapping error.
    """

    source: str
    rows: list[int]
    columns: dict[str, RawColumn]
    payload: Callable[[int], str]
    rejects: list[dict] = field(default_factory=list)
    normalised: dict[str, int] = field(default_factory=dict)  # repairs made while reading (JSON lone surrogates)
    fixed_columns: bool = True

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.rejects)


_SURROGATE = re.compile("[\udc80-\udcff]")


def has_surrogate(text: str) -> bool:
    """True when `text` holds undecodable bytes (read with errors="surrogateescape")."""
    return _SURROGATE.search(text) is not None


def to_json(value: Any) -> str:
    """Payload JSON: keeps Chinese readable, never fails on dates, never emits invalid UTF-8.

    Undecodable bytes become the literal text `\\xNN` inside the JSON string, so the payload still parses.
    """
    text = json.dumps(value, ensure_ascii=False, default=str)
    return _SURROGATE.sub(lambda m: "\\\\x%02x" % (ord(m.group()) - 0xDC00), text)


def reject_row(source: str, row: int, reason: str, field: str | None, what: str, payload: str | None) -> dict:
    """The arguments of `cmedins.stage.reject` for a row refused while reading (before any contract check);
    `read_source` passes them on once it has the batch's counters."""
    return {"stage": "ingest", "source": source, "row": row, "reason": reason, "field": field,
            "message": row_message(source, row, field, what), "payload": payload}
