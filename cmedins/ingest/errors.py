"""Ingest errors and row-level reason codes.

Two kinds of failure, kept apart on purpose: a file that cannot be read at all stops the build (`IngestError`, one
line), while a row that breaks the contract goes to quarantine with a reason code and the build goes on. Neither
ever carries a cell value: messages name file, row and field only, because cell values may be patient text.
"""

from __future__ import annotations

from cmedins.stage import StageError

# Reason codes written to quarantine.v1 `reason` (the build report counts rows by these).
MISSING_REQUIRED = "missing_required"  # a required field is empty
BAD_ENUM = "bad_enum"  # value outside the field's enum
BAD_DATE = "bad_date"  # not a date in an accepted format, or not a real calendar date
DATE_ORDER = "date_order"  # discharge_date before admission_date
OVERSIZED_TEXT = "oversized_text"  # text longer than the field's max_chars
WRONG_TYPE = "wrong_type"  # value of the wrong type (bad JSON list, bad struct field, non-number...)
BAD_ENCODING = "bad_encoding"  # the row's bytes do not decode in the declared encoding
BAD_COLUMNS = "bad_columns"  # CSV row with the wrong number of columns
BAD_JSON = "bad_json"  # JSONL line that is not a JSON object
DUPLICATE_KEY = "duplicate_key"  # record_id already seen in this source
DATE_RANGE = "date_out_of_range"  # a date before 1900 or after the build's day (or the source's max_date)
BAD_CODE = "bad_icd10"  # an ICD-10 code that is not shaped like one
CSV_STRUCTURE = "csv_structure"  # a stray quote merged physical lines into one record: each line quarantined

REASONS: tuple[str, ...] = (
    MISSING_REQUIRED,
    BAD_ENUM,
    BAD_DATE,
    DATE_ORDER,
    OVERSIZED_TEXT,
    WRONG_TYPE,
    BAD_ENCODING,
    BAD_COLUMNS,
    BAD_JSON,
    DUPLICATE_KEY,
    DATE_RANGE,
    BAD_CODE,
    CSV_STRUCTURE,
)


class IngestError(StageError):
    """A source that cannot be read at all (missing file, unparseable file, bad spec or mapping).

    The message is one line naming the file and what is wrong, never a cell value. It subclasses ValueError so
    that recipe loaders that already report ValueError as a one-line configuration error keep working.
    """


def cannot_read(path: str, what: str) -> IngestError:
    """The standard one-line form: `ingest: cannot read <file>: <what>`."""
    return IngestError(f"ingest: cannot read {path}: {one_line(what)}")


def row_message(source: str, row: int, field: str | None, what: str) -> str:
    """`records.csv row 17, field admission_date: not a date` — the only shape a quarantine message takes."""
    where = f"{source} row {row}" + (f", field {field}" if field else "")
    return f"{where}: {one_line(what)}"


def one_line(text: str) -> str:
    """Collapse whitespace so that a message can never span lines in a log or report."""
    return " ".join(str(text).split())
