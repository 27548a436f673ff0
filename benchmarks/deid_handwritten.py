"""Hand-written, independently annotated evaluation snippets for the Chinese clinical-text de-identifier.

    python benchmarks/deid_handwritten.py            # validate benchmarks/data/deid_handwritten/notes.txt
    python benchmarks/deid_handwritten.py PATH       # validate another file in the same format

File format (UTF-8): blocks separated by one or more blank lines. A snippet block starts with a header line
`# kind: <note kind>`; the remaining lines are the snippet, with every identifier marked inline as
`[[TYPE|text]]`. Newlines inside a snippet are kept. A block made only of lines starting with `##` is a comment
and is skipped. Markup may not nest, every `[[` must be closed by `]]`, and TYPE must be one of `ENTITY_TYPES`.

`load_handwritten()` returns one dict per snippet, in file order:
    {"id": "hw-0001", "kind": "护理记录", "text": <plain text>, "spans": [{"start", "end", "type", "text"}]}
with `text[start:end] == span["text"]`. Any malformed block raises `HandwrittenFormatError` naming the line.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "deid_handwritten" / "notes.txt"

ENTITY_TYPES = frozenset(
    {
        "PERSON",
        "DATE",
        "AGE_OVER_89",
        "ID_NUMBER",
        "PHONE",
        "EMAIL",
        "ADDRESS",
        "ORGANIZATION",
        "MRN",
        "INSURANCE",
        "BANK",
        "IP",
        "HANDLE",
        "PLATE",
        "URL",
    }
)
# Types counted together as "number-like" in the summary.
NUMBER_LIKE_TYPES = ("ID_NUMBER", "PHONE", "MRN", "INSURANCE", "BANK", "IP", "HANDLE", "PLATE", "EMAIL", "URL")

HEADER_PREFIX = "# kind:"
COMMENT_PREFIX = "##"
OPEN, SEP, CLOSE = "[[", "|", "]]"
MIN_CHARS, MAX_CHARS = 30, 400

# Targets the evaluation set was written to meet (checked by the validator, not by the loader).
TARGETS = {"snippets": 240, "kinds": 12, "PERSON": 300, "DATE": 120, "ADDRESS": 60, "ORGANIZATION": 40}
TARGET_NUMBER_LIKE = 80
TARGET_IDENTIFIER_FREE = 40


class HandwrittenFormatError(ValueError):
    """A block of the hand-written file does not follow the format."""


def _parse_markup(marked: str, line_no: int) -> tuple[str, list[dict]]:
    """Strip `[[TYPE|text]]` markup from `marked`; return the plain text and its spans.

    `line_no` is the file line where `marked` starts, used in error messages.
    """
    out: list[str] = []
    spans: list[dict] = []
    pos = 0
    plain_len = 0

    def where(offset: int) -> str:
        return f"line {line_no + marked.count(chr(10), 0, offset)}"

    while True:
        open_at = marked.find(OPEN, pos)
        close_at = marked.find(CLOSE, pos)
        if close_at != -1 and (open_at == -1 or close_at < open_at):
            raise HandwrittenFormatError(f"{where(close_at)}: ']]' without a matching '[['")
        if open_at == -1:
            out.append(marked[pos:])
            break
        chunk = marked[pos:open_at]
        out.append(chunk)
        plain_len += len(chunk)
        end_at = marked.find(CLOSE, open_at + len(OPEN))
        if end_at == -1:
            raise HandwrittenFormatError(f"{where(open_at)}: '[[' is never closed by ']]'")
        inner = marked[open_at + len(OPEN) : end_at]
        if OPEN in inner:
            raise HandwrittenFormatError(f"{where(open_at)}: nested '[[' inside a span: {inner!r}")
        if SEP not in inner:
            raise HandwrittenFormatError(f"{where(open_at)}: span {inner!r} has no '|' between TYPE and text")
        etype, text = inner.split(SEP, 1)
        if etype not in ENTITY_TYPES:
            raise HandwrittenFormatError(f"{where(open_at)}: unknown entity type {etype!r}")
        if SEP in text:
            raise HandwrittenFormatError(f"{where(open_at)}: span text {text!r} contains '|'")
        if not text or text != text.strip() or "\n" in text:
            raise HandwrittenFormatError(
                f"{where(open_at)}: span text {text!r} is empty, has surrounding whitespace or a newline"
            )
        spans.append({"start": plain_len, "end": plain_len + len(text), "type": etype, "text": text})
        out.append(text)
        plain_len += len(text)
        pos = end_at + len(CLOSE)
    plain = "".join(out)
    for stray in (OPEN, CLOSE):
        if stray in plain:
            raise HandwrittenFormatError(f"line {line_no}: leftover markup {stray!r} in plain text")
    for span in spans:
        if plain[span["start"] : span["end"]] != span["text"]:  # defensive: offsets must round-trip
            raise HandwrittenFormatError(f"line {line_no}: span offsets do not match text for {span['text']!r}")
    return plain, spans


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Group lines into blank-line separated blocks; each block carries its 1-based first line number."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for i, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                start = i
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def load_handwritten(path: str | Path | None = None) -> list[dict]:
    """Parse the hand-written snippet file; raise `HandwrittenFormatError` on any malformed block."""
    path = Path(path) if path is not None else DEFAULT_PATH
    raw = path.read_text(encoding="utf-8")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    lines = [line.rstrip("\r") for line in raw.split("\n")]
    records: list[dict] = []
    for start, block in _blocks(lines):
        comment_lines = [line.startswith(COMMENT_PREFIX) for line in block]
        if all(comment_lines):
            continue
        if any(comment_lines):
            raise HandwrittenFormatError(f"{path}: block at line {start} mixes '##' comment lines with a snippet")
        header = block[0]
        if not header.startswith(HEADER_PREFIX):
            raise HandwrittenFormatError(f"{path}: block at line {start} does not start with '{HEADER_PREFIX} ...'")
        kind = header[len(HEADER_PREFIX) :].strip()
        if not kind:
            raise HandwrittenFormatError(f"{path}: line {start}: empty note kind")
        body = block[1:]
        if not body:
            raise HandwrittenFormatError(f"{path}: block at line {start} has a header but no snippet text")
        for offset, line in enumerate(body, start=1):
            if line.startswith("#"):
                raise HandwrittenFormatError(f"{path}: line {start + offset}: second header/comment inside a block")
        marked = "\n".join(line.rstrip() for line in body)
        try:
            text, spans = _parse_markup(marked, start + 1)
        except HandwrittenFormatError as exc:
            raise HandwrittenFormatError(f"{path}: {exc}") from None
        records.append({"id": f"hw-{len(records) + 1:04d}", "kind": kind, "text": text, "spans": spans})
    if not records:
        raise HandwrittenFormatError(f"{path}: no snippets found")
    return records


def validate(records: list[dict]) -> list[str]:
    """Checks beyond parsing: lengths, duplicates, span round-trips. Returns a list of problems."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for rec in records:
        text = rec["text"]
        if not MIN_CHARS <= len(text) <= MAX_CHARS:
            problems.append(f"{rec['id']} ({rec['kind']}): {len(text)} characters, outside {MIN_CHARS}-{MAX_CHARS}")
        if text in seen:
            problems.append(f"{rec['id']}: duplicate of {seen[text]}")
        seen.setdefault(text, rec["id"])
        last_end = 0
        for span in rec["spans"]:
            if text[span["start"] : span["end"]] != span["text"]:
                problems.append(f"{rec['id']}: span {span} does not match text[start:end]")
            if span["start"] < last_end:
                problems.append(f"{rec['id']}: overlapping spans at {span['start']}")
            if span["type"] not in ENTITY_TYPES:
                problems.append(f"{rec['id']}: unknown type {span['type']}")
            last_end = span["end"]
    return problems


def summarize(records: list[dict]) -> dict:
    per_kind = Counter(rec["kind"] for rec in records)
    per_type = Counter(span["type"] for rec in records for span in rec["spans"])
    free = sum(1 for rec in records if not rec["spans"])
    return {
        "snippets": len(records),
        "kinds": len(per_kind),
        "per_kind": per_kind,
        "per_type": per_type,
        "spans": sum(per_type.values()),
        "number_like": sum(per_type[t] for t in NUMBER_LIKE_TYPES),
        "identifier_free": free,
    }


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    try:
        records = load_handwritten(path)
    except HandwrittenFormatError as exc:
        print(f"FORMAT ERROR: {exc}", file=sys.stderr)
        return 2
    problems = validate(records)
    s = summarize(records)
    print(f"file: {path}")
    free = s["identifier_free"]
    print(f"snippets: {s['snippets']}  kinds: {s['kinds']}  spans: {s['spans']}  identifier-free: {free}")
    print("\nper note kind:")
    for kind, n in sorted(s["per_kind"].items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:4d}  {kind}")
    print("\nper entity type:")
    for etype in sorted(ENTITY_TYPES, key=lambda t: (-s["per_type"][t], t)):
        print(f"  {s['per_type'][etype]:4d}  {etype}")
    print(f"  {s['number_like']:4d}  (number-like total: {', '.join(NUMBER_LIKE_TYPES)})")

    shortfalls = []
    for key, want in TARGETS.items():
        have = s[key] if key in s else s["per_type"][key]
        if have < want:
            shortfalls.append(f"{key}: {have} < {want}")
    if s["number_like"] < TARGET_NUMBER_LIKE:
        shortfalls.append(f"number-like: {s['number_like']} < {TARGET_NUMBER_LIKE}")
    if s["identifier_free"] < TARGET_IDENTIFIER_FREE:
        shortfalls.append(f"identifier-free: {s['identifier_free']} < {TARGET_IDENTIFIER_FREE}")
    for line in shortfalls:
        print(f"TARGET NOT MET: {line}")
    for line in problems:
        print(f"PROBLEM: {line}", file=sys.stderr)
    if problems:
        return 1
    print("\nOK: all spans round-trip and all snippets are well formed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
