"""File-level checks before a file is read: one clear line for a file that is the wrong kind of file altogether.

Without them a compressed CSV is reported as "not valid UTF-8", a GB18030 export declared as UTF-8 quarantines every
row one by one, a JSON array given as JSON Lines becomes one bad row, and a tab-separated file becomes one column.
Each check reads at most the first 64 KiB.
"""

from __future__ import annotations

from pathlib import Path

from cmedins.ingest.errors import IngestError
from cmedins.ingest.spec import SourceSpec

_SAMPLE = 1 << 16
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed",
    b"PK\x03\x04": "a zip archive",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"(\xb5/\xfd": "zstd-compressed",
}
_DELIMITERS = {"\t": "a tab", ";": "';'", "|": "'|'", ",": "','"}
_MIN_EVIDENCE = 3  # non-ASCII lines needed before an encoding is judged from a sample


def _fail(path: Path, what: str) -> IngestError:
    return IngestError(f"ingest: cannot read {path}: {what}")


def check_file(path: Path, spec: SourceSpec) -> None:
    """Raise one IngestError line when `path` cannot be what `spec` says it is."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SAMPLE)
    except OSError as exc:
        raise _fail(path, exc.strerror or "cannot open") from None
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise _fail(path, f"it is {what}; decompress it first (kind {spec.kind} reads plain files)")
    if spec.kind == "parquet":
        if head and not head.startswith(b"PAR1"):
            raise _fail(path, "not a Parquet file (no PAR1 header)")
        return
    text_head = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if spec.kind == "jsonl" and text_head.lstrip()[:1] == b"[":
        raise _fail(path, "a JSON array, not JSON Lines (one object per line): write one object per line")
    _check_encoding(path, head, spec.encoding if spec.kind == "csv" else "utf-8")
    if spec.kind == "csv":
        _check_delimiter(path, head, spec)


def _lines(head: bytes) -> list[bytes]:
    """Complete lines of the sample (the last one may be cut) that hold non-ASCII bytes."""
    lines = head.split(b"\n")
    if len(head) == _SAMPLE:
        lines = lines[:-1]
    return [line for line in lines if any(b > 0x7F for b in line)]


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _check_encoding(path: Path, head: bytes, declared: str) -> None:
    """Every non-ASCII line of the sample decodes in the other encoding and none in the declared one: the file is
    in the other encoding. One bad row among good ones is left to row-level quarantine."""
    lines = _lines(head)
    if len(lines) < _MIN_EVIDENCE:
        return
    if declared == "utf-8":
        if not any(_decodes(x, "utf-8") for x in lines) and all(_decodes(x, "gb18030") for x in lines):
            raise _fail(path, "not UTF-8: it reads as GB18030 (set encoding: gb18030 on the source)")
    elif all(_decodes(x, "utf-8") for x in lines):
        raise _fail(path, "declared GB18030 but it reads as UTF-8 (set encoding: utf-8 on the source)")


def _check_delimiter(path: Path, head: bytes, spec: SourceSpec) -> None:
    """A header without the declared delimiter but with another common one: name it, don't read one wide column."""
    first = head.split(b"\n", 1)[0].decode(spec.encoding if spec.encoding != "utf-8" else "utf-8-sig", "replace")
    if spec.delimiter in first:
        return
    counts = {d: first.count(d) for d in _DELIMITERS if d != spec.delimiter}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] >= 2:
        hint = "\\t" if best == "\t" else best
        raise _fail(path, f"the header has no {_DELIMITERS.get(spec.delimiter, repr(spec.delimiter))} but "
                          f"{counts[best]} × {_DELIMITERS[best]}: set delimiter: \"{hint}\" on the source")
