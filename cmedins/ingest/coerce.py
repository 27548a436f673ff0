"""Contract checks and type coercion of one raw batch, vectorised with pyarrow.compute.

Every check yields a boolean mask; a row's first failure (in contract field order) becomes its quarantine reason.
Only list fields given as JSON, and rows that Arrow refuses, are looked at one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmedins.contracts import Contract, FieldSpec
from cmedins.ingest.dates import ACCEPTED, parse_dates
from cmedins.ingest.errors import (
    BAD_DATE,
    BAD_ENUM,
    DATE_ORDER,
    MISSING_REQUIRED,
    OVERSIZED_TEXT,
    WRONG_TYPE,
)
from cmedins.ingest.mapping import ColumnMap
from cmedins.ingest.nested import coerce_list_column, describe
from cmedins.ingest.raw import RawColumn

_LEADING_JUNK = r"^[\x{FEFF}\x{3000}]+"
_TRUE = ("true", "t", "yes", "y", "1", "是")
_FALSE = ("false", "f", "no", "n", "0", "否")
_NUMBER = {
    "int32": r"^[+-]?\d{1,9}$",
    "int64": r"^[+-]?\d{1,18}$",
    "float64": r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$",
}


@dataclass
class Failures:
    """The first failure of each row: `first[i]` indexes `kinds` (reason, field, what), -1 for a clean row."""

    n: int
    first: np.ndarray = field(init=False)
    kinds: list[tuple[str, str | None, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.first = np.full(self.n, -1, dtype=np.int32)

    def add(self, mask: Any, reason: str, field_name: str | None, what: str) -> None:
        """Record a failure for the rows of `mask` (Arrow/numpy bool or a list of indices) not failed yet."""
        if isinstance(mask, list):
            idx = np.asarray(mask, dtype=np.int64)
            if idx.size == 0:
                return
            sel = np.zeros(self.n, dtype=bool)
            sel[idx] = True
        elif isinstance(mask, np.ndarray):
            sel = mask
        else:
            sel = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        sel = sel & (self.first == -1)
        if sel.any():
            self.kinds.append((reason, field_name, what))
            self.first[sel] = len(self.kinds) - 1

    @property
    def ok(self) -> np.ndarray:
        return self.first == -1


def _combine(values: RawColumn) -> Any:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _python_to_strings(values: list[Any], accept: tuple[type, ...] = (str,)) -> tuple[pa.Array, list[int]]:
    """JSONL values: JSON strings as they are, other accepted JSON types spelled out, everything else refused.

    JSON carries its own types, so a number where the contract wants text (or a date) is a wrong type, not a value
    to reinterpret: it usually means a column mapped to the wrong field.
    """
    try:
        return pa.array(values, type=pa.string()), []
    except (pa.ArrowException, TypeError):
        pass
    out: list[str | None] = []
    bad: list[int] = []
    for i, v in enumerate(values):
        if v is None or isinstance(v, str):
            out.append(v)
        elif isinstance(v, accept) and not (isinstance(v, bool) and bool not in accept):
            out.append(("true" if v else "false") if isinstance(v, bool) else repr(v))
        else:
            out.append(None)
            bad.append(i)
    return pa.array(out, type=pa.string()), bad


_JSON_TYPES: dict[str, tuple[type, ...]] = {"int32": (int,), "int64": (int,), "float64": (int, float), "bool": (bool,)}


def as_strings(values: RawColumn | None, n: int, json_type: str = "string") -> tuple[pa.Array, list[int]]:
    """Any raw column as Arrow strings plus the rows whose value has the wrong type for `json_type`.

    Typed Arrow columns (Parquet, DuckDB) are cast as a whole: a numeric id column is a schema choice, not a bad row.
    """
    if values is None:
        return pa.nulls(n, type=pa.string()), []
    values = _combine(values)
    if isinstance(values, list):
        return _python_to_strings(values, (str, *_JSON_TYPES.get(json_type, ())))
    if pa.types.is_string(values.type):
        return values, []
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_nested(values.type):
        return pa.nulls(n, type=pa.string()), np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False)).tolist()
    try:
        return values.cast(pa.string()), []
    except (pa.ArrowException, NotImplementedError):
        return _python_to_strings(values.to_pylist(), (str, int, float, bool))


_BLANK = r"^[\s\x{00A0}\x{3000}\x{FEFF}]*$"


def _nullify_empty(text: pa.Array) -> pa.Array:
    """Empty and whitespace-only cells are missing values (a match, not a trimmed copy of every long text)."""
    blank = pc.match_substring_regex(text, pattern=_BLANK)
    if not pc.any(blank).as_py():
        return text
    return pc.if_else(blank, pa.scalar(None, pa.string()), text)


def _string_field(values: RawColumn | None, spec: FieldSpec, n: int, fails: Failures) -> pa.Array:
    text, bad = as_strings(values, n)
    fails.add(bad, WRONG_TYPE, spec.name, "not a string")
    if pc.any(pc.match_substring_regex(text, pattern=_LEADING_JUNK)).as_py():
        text = pc.replace_substring_regex(text, pattern=_LEADING_JUNK, replacement="")
    if spec.max_chars is None:
        text = pc.utf8_trim_whitespace(text)
    text = _nullify_empty(text)
    if spec.enum:
        outside = pc.and_(pc.is_valid(text), pc.invert(pc.is_in(text, value_set=pa.array(spec.enum))))
        fails.add(outside, BAD_ENUM, spec.name, "not one of " + "/".join(spec.enum))
    if spec.max_chars is not None:
        fails.add(pc.greater(pc.utf8_length(text), spec.max_chars), OVERSIZED_TEXT, spec.name,
                  f"longer than {spec.max_chars} characters")
    return text


def _date_field(values: RawColumn | None, spec: FieldSpec, n: int, fails: Failures) -> pa.Array:
    values = _combine(values) if values is not None else None
    if isinstance(values, pa.Array) and pa.types.is_date32(values.type):
        return values
    if isinstance(values, pa.Array) and (pa.types.is_timestamp(values.type) or pa.types.is_date64(values.type)):
        return values.cast(pa.date32())
    text, bad = as_strings(values, n)
    fails.add(bad, WRONG_TYPE, spec.name, "not a date string")
    dates, bad_mask = parse_dates(text)
    fails.add(bad_mask, BAD_DATE, spec.name, f"not a date ({ACCEPTED})")
    return dates


def _scalar_field(values: RawColumn | None, spec: FieldSpec, n: int, fails: Failures) -> pa.Array:
    """int32 / int64 / float64 / bool, from typed columns or from text."""
    target = spec.arrow_type
    values = _combine(values) if values is not None else None
    if isinstance(values, pa.Array) and not pa.types.is_string(values.type) and not pa.types.is_nested(values.type):
        try:
            return values.cast(target)
        except (pa.ArrowException, NotImplementedError):
            pass
    text, bad = as_strings(values, n, spec.type)
    text = _nullify_empty(pc.utf8_trim_whitespace(text))
    what = f"not a {spec.type} value"
    fails.add(bad, WRONG_TYPE, spec.name, what)
    if spec.type == "bool":
        lower = pc.utf8_lower(text)
        is_true, is_false = pc.is_in(lower, value_set=pa.array(_TRUE)), pc.is_in(lower, value_set=pa.array(_FALSE))
        fails.add(pc.and_(pc.is_valid(text), pc.invert(pc.or_(is_true, is_false))), WRONG_TYPE, spec.name, what)
        return pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
    shaped = pc.match_substring_regex(text, pattern=_NUMBER[spec.type])
    fails.add(pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(shaped, False))), WRONG_TYPE, spec.name, what)
    return pc.if_else(shaped, text, pa.scalar(None, pa.string())).cast(target)


def coerce_batch(columns: dict[str, RawColumn], n: int, cmap: ColumnMap, contract: Contract) -> tuple[
    list[pa.Array], Failures
]:
    """One array per contract field (in contract order) and the batch's failures."""
    fails = Failures(n)
    arrays: list[pa.Array] = []
    for spec in contract.fields:
        src = cmap.sources.get(spec.name)
        values = columns.get(src) if src is not None else None
        if spec.type in ("list<struct>", "list<string>"):
            if values is None:
                arr = pa.nulls(n, type=spec.arrow_type)
            else:
                arr, bad = coerce_list_column(values, spec)
                fails.add(bad, WRONG_TYPE, spec.name, f"not {describe(spec)}")
        elif spec.type == "string":
            arr = _string_field(values, spec, n, fails)
        elif spec.type == "date32":
            arr = _date_field(values, spec, n, fails)
        else:
            arr = _scalar_field(values, spec, n, fails)
        if spec.required:
            fails.add(pc.is_null(arr), MISSING_REQUIRED, spec.name, "required field is empty")
        arrays.append(arr)
    names = contract.names
    if "admission_date" in names and "discharge_date" in names:
        adm, dis = arrays[names.index("admission_date")], arrays[names.index("discharge_date")]
        fails.add(pc.less(dis, adm), DATE_ORDER, "discharge_date", "discharge_date is before admission_date")
    return arrays, fails
