"""Vectorised date parsing: the accepted spellings of a calendar date, validated by a round trip.

Arrow's strptime rolls 2020-02-30 over into March, so every parsed date is formatted back and compared with its
normalised input: only real calendar dates survive.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

ACCEPTED = "YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, YYYY年M月D日 or YYYY.MM.DD"

_REWRITES = (
    (r"^(\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{4}\.\d{1,2}\.\d{1,2}|\d{8})[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$",
     r"\1"),  # a time of day after the date is dropped (many EMR exports write datetimes)
    (r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3"),
    (r"^(\d{4})/(\d{1,2})/(\d{1,2})$", r"\1-\2-\3"),
    (r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$", r"\1-\2-\3"),
    (r"^(\d{4})年(\d{1,2})月(\d{1,2})日$", r"\1-\2-\3"),
    (r"^(\d{4})-(\d)-", r"\1-0\2-"),
    (r"-(\d)$", r"-0\1"),
)


def parse_dates(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Strings -> (date32 array, bad mask). Null and empty input is a null date and not bad."""
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    text = pc.if_else(pc.equal(pc.utf8_length(text), 0), pa.scalar(None, pa.string()), text)
    norm = text
    for pattern, replacement in _REWRITES:
        norm = pc.replace_substring_regex(norm, pattern=pattern, replacement=replacement)
    shaped = pc.match_substring_regex(norm, pattern=r"^\d{4}-\d{2}-\d{2}$")
    candidate = pc.if_else(shaped, norm, pa.scalar(None, pa.string()))
    stamps = pc.strptime(candidate, format="%Y-%m-%d", unit="s", error_is_null=True)
    round_trip = pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), candidate)
    ok = pc.fill_null(round_trip, False)
    dates = pc.if_else(ok, pc.cast(stamps, pa.date32()), pa.scalar(None, pa.date32()))
    bad = pc.and_(pc.is_valid(text), pc.invert(ok))
    return dates, bad
