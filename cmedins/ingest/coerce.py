"""Contract checks and type coercion of one raw batch, vectorised with pyarrow.compute.

Every check yields a boolean mask; a row's first failure (in contract field order) becomes its quarantine reason.
Only list fields given as JSON, and rows that Arrow refuses, are looked at one by one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmedins.contracts import Contract, FieldSpec
from cmedins.ingest.dates import ACCEPTED, parse_dates
from cmedins.ingest.errors import (
    BAD_CODE,
    BAD_DATE,
    BAD_ENUM,
    DATE_ORDER,
    DATE_RANGE,
    MISSING_REQUIRED,
    OVERSIZED_TEXT,
    WRONG_TYPE,
)
from cmedins.ingest.mapping import ColumnMap
from cmedins.ingest.nested import coerce_list_column, describe
from cmedins.ingest.normalize import normalize_array
from cmedins.ingest.raw import RawColumn

MIN_DATE = date(1900, 1, 1)
# The shape of an ICD-10 code as hospitals write it (WHO I10, clinical extensions I10.x00 / E11.900x001 / A33xx01,
# dagger-asterisk pairs A01.003+G01*, morphology codes M8140/3): checked for shape, not looked up in a list.
ICD10_SHAPE = r"^([A-Z][0-9]{2}[0-9A-Za-z.]{0,9}(\+[A-Z][0-9]{2}[0-9A-Za-z.]{0,6}\*?)?[+*]?|M[0-9]{4,6}/[0-9])$"

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


def _float_as_integer_text(values: pa.Array, spec: FieldSpec, fails: Failures, counts: Counter) -> pa.Array:
    """A float column where the contract wants text: pandas writes integer ids with nulls as float64, and a plain
    cast would publish 2.0220104729e+10. Integral values below 2**53 are exact: they become their digits (counted
    as `float_as_integer:<field>`); any other value is refused."""
    exact = pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), 2.0 ** 53))
    exact = pc.fill_null(exact, True)
    fails.add(pc.invert(exact), WRONG_TYPE, spec.name, "a non-integral number where text is expected")
    counts[f"float_as_integer:{spec.name}"] += pc.sum(pc.and_(exact, pc.is_valid(values))).as_py() or 0
    whole = pc.if_else(exact, values, pa.scalar(None, values.type))
    return whole.cast(pa.int64()).cast(pa.string())


def _string_field(values: RawColumn | None, spec: FieldSpec, n: int, fails: Failures, counts: Counter) -> pa.Array:
    values = _combine(values) if values is not None else None
    if isinstance(values, pa.Array) and pa.types.is_floating(values.type):
        text, bad = _float_as_integer_text(values, spec, fails, counts), []
    else:
        text, bad = as_strings(values, n)
    fails.add(bad, WRONG_TYPE, spec.name, "not a string")
    if pc.any(pc.match_substring_regex(text, pattern=_LEADING_JUNK)).as_py():
        text = pc.replace_substring_regex(text, pattern=_LEADING_JUNK, replacement="")
    text = normalize_array(text, counts)
    if not spec.free_text:
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


def _check_dates(arrays: dict[str, pa.Array], contract: Contract, fails: Failures, max_date: date) -> None:
    """No date before 1900 or after `max_date` (the day of the build unless the source pins it); no birth after
    admission and no discharge before admission."""
    for spec in contract.fields:
        if spec.type == "date32" and spec.name in arrays:
            d = arrays[spec.name]
            out = pc.or_(pc.less(d, pa.scalar(MIN_DATE)), pc.greater(d, pa.scalar(max_date)))
            fails.add(out, DATE_RANGE, spec.name, f"outside {MIN_DATE.isoformat()}..{max_date.isoformat()}")
    adm = arrays.get("admission_date")
    if adm is None:
        return
    if "discharge_date" in arrays:
        fails.add(pc.less(arrays["discharge_date"], adm), DATE_ORDER, "discharge_date",
                  "discharge_date is before admission_date")
    if "patient_birth_date" in arrays:
        fails.add(pc.greater(arrays["patient_birth_date"], adm), DATE_ORDER, "patient_birth_date",
                  "patient_birth_date is after admission_date")


def _check_codes(arr: pa.Array, spec: FieldSpec, fails: Failures) -> None:
    """Rows whose list field holds an `icd10_code` that is not shaped like one."""
    if not (pa.types.is_list(arr.type) and pa.types.is_struct(arr.type.value_type)):
        return
    if arr.type.value_type.get_field_index("icd10_code") < 0:
        return
    codes = pc.struct_field(pc.list_flatten(arr), "icd10_code")
    bad = pc.and_(pc.is_valid(codes), pc.invert(pc.fill_null(pc.match_substring_regex(codes, ICD10_SHAPE), False)))
    rows = pc.filter(pc.list_parent_indices(arr), bad).to_pylist()
    fails.add(sorted(set(rows)), BAD_CODE, spec.name, "an icd10_code that is not shaped like an ICD-10 code")


def coerce_batch(columns: dict[str, RawColumn], n: int, cmap: ColumnMap, contract: Contract,
                 counts: Counter | None = None, max_date: date | None = None) -> tuple[list[pa.Array], Failures]:
    """One array per contract field (in contract order) and the batch's failures; `counts` collects the
    normalisations applied (`normalize.KINDS`) and exact float-to-text conversions."""
    counts = Counter() if counts is None else counts
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
                arr = normalize_array(arr, counts)
                _check_codes(arr, spec, fails)
        elif spec.type == "string":
            arr = _string_field(values, spec, n, fails, counts)
        elif spec.type == "date32":
            arr = _date_field(values, spec, n, fails)
        else:
            arr = _scalar_field(values, spec, n, fails)
        if spec.required:
            fails.add(pc.is_null(arr), MISSING_REQUIRED, spec.name, "required field is empty")
        arrays.append(arr)
    _check_dates(dict(zip(contract.names, arrays, strict=True)), contract, fails, max_date or date.today())
    return arrays, fails
