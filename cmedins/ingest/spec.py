"""What to read: one `SourceSpec` per recipe source, and the files it covers (for cache keys)."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cmedins.ingest.errors import IngestError

KINDS = ("parquet", "csv", "jsonl", "duckdb")
ENCODINGS = ("utf-8", "gb18030")
_ENCODING_ALIASES = {"utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb2312": "gb18030"}
_FIELDS = ("name", "kind", "path", "encoding", "query", "mapping", "delimiter", "max_date", "allow_empty")


@dataclass(frozen=True)
class SourceSpec:
    """One input source of a recipe.

    `mapping` maps a contract field to the source column holding it; a field without an entry is read from the
    column of the same name. GBK and GB2312 are subsets of GB18030, so both are read as GB18030.
    `max_date` (YYYY-MM-DD): dates after it are quarantined (date_out_of_range); by default the day the build runs,
    so pin it to rebuild an old export identically. `allow_empty`: a file with no data rows is an error unless true.
    """

    name: str
    kind: str
    path: str | None = None
    encoding: str = "utf-8"
    query: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","
    max_date: str | None = None
    allow_empty: bool = False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SourceSpec:
        """Validate a recipe's source mapping; every problem is a one-line IngestError (a ValueError)."""
        if not isinstance(d, dict):
            raise IngestError("ingest: a source must be a mapping with at least name and kind")
        name = d.get("name")
        label = f"source {name!r}" if name else "source"
        unknown = sorted(set(d) - set(_FIELDS))
        if unknown:
            raise IngestError(f"ingest: {label}: unknown option(s) {', '.join(unknown)}; known: {', '.join(_FIELDS)}")
        if not isinstance(name, str) or not name.strip():
            raise IngestError("ingest: every source needs a non-empty `name`")
        kind = d.get("kind")
        if kind not in KINDS:
            raise IngestError(f"ingest: {label}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        path, query = d.get("path"), d.get("query")
        if kind == "duckdb":
            if not isinstance(query, str) or not query.strip():
                raise IngestError(f"ingest: {label}: kind duckdb needs a `query`")
        else:
            if query is not None:
                raise IngestError(f"ingest: {label}: `query` is only for kind duckdb")
            if not isinstance(path, str) or not path.strip():
                raise IngestError(f"ingest: {label}: kind {kind} needs a `path` (a file or a glob)")
        encoding = str(d.get("encoding", "utf-8")).lower()
        encoding = _ENCODING_ALIASES.get(encoding, encoding)
        if encoding not in ENCODINGS:
            raise IngestError(f"ingest: {label}: encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
        if encoding != "utf-8" and kind != "csv":
            raise IngestError(f"ingest: {label}: encoding applies to csv only ({kind} is always UTF-8)")
        mapping = d.get("mapping") or {}
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()
        ):
            raise IngestError(f"ingest: {label}: mapping must map contract field names to source column names")
        delimiter = d.get("delimiter", ",")
        if delimiter == "\\t":
            delimiter = "\t"
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
            raise IngestError(f"ingest: {label}: delimiter must be one character other than a quote or newline")
        max_date = d.get("max_date")
        if max_date is not None:
            try:
                max_date = date.fromisoformat(str(max_date)).isoformat()
            except ValueError:
                raise IngestError(f"ingest: {label}: max_date must be a date YYYY-MM-DD, not {max_date!r}") from None
        allow_empty = d.get("allow_empty", False)
        if not isinstance(allow_empty, bool):
            raise IngestError(f"ingest: {label}: allow_empty must be true or false")
        return cls(
            name=name,
            kind=kind,
            path=path,
            encoding=encoding,
            query=query,
            mapping=dict(sorted(mapping.items())),
            delimiter=delimiter,
            max_date=max_date,
            allow_empty=allow_empty,
        )


_QUOTED = re.compile(r"'([^']+)'")


def source_files(spec: SourceSpec) -> list[Path]:
    """The files a spec reads, sorted, so that a cache key can hash them.

    For kind duckdb these are the quoted strings in the query that name existing files or match a glob: a query's
    inputs are not otherwise knowable without running it.
    """
    if spec.kind == "duckdb":
        found: set[Path] = set()
        for literal in _QUOTED.findall(spec.query or ""):
            found.update(Path(p) for p in glob.glob(literal) if Path(p).is_file())
        return sorted(found)
    assert spec.path is not None
    if glob.has_magic(spec.path):
        files = sorted(Path(p) for p in glob.glob(spec.path, recursive=True) if Path(p).is_file())
        if not files:
            raise IngestError(f"ingest: cannot read {spec.path}: no file matches this pattern")
        return files
    path = Path(spec.path)
    if not path.exists():
        raise IngestError(f"ingest: cannot read {spec.path}: no such file")
    if not path.is_file():
        raise IngestError(f"ingest: cannot read {spec.path}: not a file")
    return [path]
