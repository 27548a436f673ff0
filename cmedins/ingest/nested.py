"""List fields (labs, diagnoses, medications, events, list<string>): JSON text or nested values -> Arrow lists.

CSV carries these as JSON text in a cell, JSONL as JSON values. JSON text is parsed in bulk by Arrow's JSON reader
(see `_from_json_text`); JSONL values and the rows Arrow refuses take the reference path, value by value, which
decides what is bad. Both apply the same rules: a JSON type other than the contract's is refused (wrong_type),
extra keys inside a struct item are ignored, missing keys are empty.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from cmedins.contracts import FieldSpec


def describe(spec: FieldSpec) -> str:
    """`a JSON list of {item, value, unit} objects` — contract names only, safe for messages."""
    if spec.type == "list<struct>":
        return "a JSON list of {" + ", ".join(f.name for f in spec.fields) + "} objects"
    return "a JSON list of strings"


_SCAN = json.JSONDecoder().scan_once  # the C scanner behind json.loads, without its per-call Python layers
_BLANK = " \t\r\n\ufeff\u3000"


def _decode(value: Any) -> tuple[Any, bool]:
    """(Python value, ok). Strings are parsed as JSON; empty strings and None are null; anything else must be a
    list."""
    if value is None:
        return None, True
    if isinstance(value, str):
        if not value or value[0] in _BLANK or value[-1] in _BLANK:
            value = value.strip(_BLANK)
            if not value:
                return None, True
        try:
            obj, end = _SCAN(value, 0)
        except (StopIteration, ValueError):
            return None, False
        if end != len(value):
            return None, False
        value = obj
    if not isinstance(value, list):
        return None, False
    return value, True


def coerce_list_column(values: Any, spec: FieldSpec) -> tuple[pa.Array, list[int]]:
    """(array of the contract's list type, indices of rows with a value of the wrong shape or type)."""
    target = spec.arrow_type
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if values.type == target:
            return values, []
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            return _from_json_text(values.cast(pa.string()), target)
        try:
            return values.cast(target), []
        except (pa.ArrowException, NotImplementedError):
            values = values.to_pylist()
    return _from_python(list(values), target)


def _from_python(values: list[Any], target: pa.DataType) -> tuple[pa.Array, list[int]]:
    """The reference path, value by value: JSON text or Python lists (JSONL) -> Arrow, refusing bad rows."""
    decoded: list[Any] = []
    bad: list[int] = []
    for i, value in enumerate(values):
        obj, ok = _decode(value)
        decoded.append(obj)
        if not ok:
            bad.append(i)
    try:
        return pa.array(decoded, type=target), bad
    except (pa.ArrowException, TypeError, ValueError):
        pass
    for i, obj in enumerate(decoded):
        if obj is None:
            continue
        try:
            pa.array([obj], type=target)
        except (pa.ArrowException, TypeError, ValueError):
            decoded[i] = None
            bad.append(i)
    return pa.array(decoded, type=target), sorted(bad)


# ------------------------------------------------------------------------------------------- bulk JSON text
# Arrow's JSON reader parses a whole column at C++ speed with the same rules as the reference path (a number where
# a string is due, an object where a list is due: refused; extra keys ignored; missing keys empty). Each cell becomes
# one line `{"v": <cell>}`; a cell holding a raw line break could span lines, so those rows take the reference path.
# A slice that Arrow refuses is halved until the bad rows are isolated in small slices for the reference path, so
# a few bad rows cost a few small re-parses, not the batch.
_SMALL = 16
_TRIM = " \t\r\n\ufeff\u3000"


def _from_json_text(cells: pa.Array, target: pa.DataType) -> tuple[pa.Array, list[int]]:
    trimmed = pc.utf8_trim(cells, characters=_TRIM)
    trimmed = pc.if_else(pc.equal(pc.utf8_length(trimmed), 0), pa.scalar(None, pa.string()), trimmed)
    multiline = pc.fill_null(pc.match_substring_regex(trimmed, pattern="[\r\n]"), False)
    framed = pc.binary_join_element_wise('{"v":', pc.fill_null(trimmed, "null"), "}\n", "")
    framed = pc.if_else(multiline, pa.scalar('{"v":null}\n'), framed)
    n = len(cells)
    slow: list[int] = np.flatnonzero(multiline.to_numpy(zero_copy_only=False)).tolist()
    stack = [(0, n)]
    pieces: dict[int, pa.Array] = {}
    while stack:
        lo, hi = stack.pop()
        if hi <= lo:
            continue
        parsed = _parse_lines(framed.slice(lo, hi - lo), target, hi - lo)
        if parsed is not None:
            pieces[lo] = parsed
        elif hi - lo <= _SMALL:
            pieces[lo] = pa.nulls(hi - lo, type=target)
            slow.extend(range(lo, hi))
        else:
            mid = (lo + hi) // 2
            stack.extend([(mid, hi), (lo, mid)])
    parts = [pieces[k] for k in sorted(pieces)]
    result = pa.concat_arrays(parts) if parts else pa.nulls(0, type=target)
    if not slow:
        return result, []
    slow = sorted(set(slow))
    fixed, bad_local = _from_python([cells[i].as_py() for i in slow], target)
    take = np.arange(n, dtype=np.int64)
    take[slow] = n + np.arange(len(slow), dtype=np.int64)
    merged = pa.concat_arrays([result, fixed]).take(pa.array(take))
    return merged, [slow[j] for j in bad_local]


def _parse_lines(framed: pa.Array, target: pa.DataType, expected: int) -> pa.Array | None:
    """Parse `{"v": ...}` lines with Arrow; None when Arrow refuses them or the row count does not match."""
    if expected == 0:
        return pa.nulls(0, type=target)
    framed = framed.cast(pa.string())
    offsets = np.frombuffer(framed.buffers()[1], dtype=np.int32, count=len(framed) + 1, offset=framed.offset * 4)
    data = framed.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    options = pj.ParseOptions(explicit_schema=pa.schema([("v", target)]), unexpected_field_behavior="ignore")
    longest = int(np.diff(offsets).max())
    read = pj.ReadOptions(use_threads=True, block_size=max(1 << 22, 2 * longest))  # a line never straddles blocks
    try:
        table = pj.read_json(pa.BufferReader(data), read_options=read, parse_options=options)
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != expected or table.schema.field("v").type != target:
        return None
    return table.column("v").combine_chunks()
