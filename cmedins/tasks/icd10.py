"""ICD-10 code format and the public ICD-10 list (code -> standard name) used to code CHIP-CDN answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Category (I10), subcategory (I10.x, A00.0), clinical extensions (A00.001, I10xx02, A99.999A9), dagger-asterisk
# pairs (A17.0+G01*) and morphology codes (M80100/3), as they occur in the Beijing clinical v601 list.
_CODE = r"[A-Z][0-9]{2}(?:\.[0-9A-Za-z]{1,6}|xx[0-9]{2,3})?"
ICD10_RE = re.compile(rf"^(?:{_CODE}[+*]?(?:{_CODE}\*?)?|M[0-9]{{4,6}}/[0-9])$")


def valid_code(code: str) -> bool:
    return bool(ICD10_RE.match(code))


@dataclass(frozen=True)
class Icd10List:
    """Standard name -> chosen code. Several codes may share a name; the most specific plain code wins."""

    by_name: dict[str, str]
    rows: int
    skipped: int  # rows whose code is not a valid ICD-10 code (the derived TSV has one stray `N N` row)


def _rank(code: str) -> tuple[int, int]:
    """Lower is better: plain codes before dagger/asterisk or morphology codes, then longer (more specific)."""
    special = ("+" in code) or ("*" in code) or ("/" in code)
    return (1 if special else 0, -len(code))


def load_icd10(path: Path) -> Icd10List:
    """Read a TSV `code<TAB>name` with a header line; a malformed line is a one-line error naming file and row."""
    by_name: dict[str, str] = {}
    rows = skipped = 0
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if lineno == 1 and line.lower().startswith("code"):
                continue
            line = line.rstrip("\r\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                raise ValueError(f"{path.name}: row {lineno}: expected 2 tab-separated fields (code, name)")
            code, name = parts[0].strip(), parts[1].strip()
            rows += 1
            if not valid_code(code) or not name:
                skipped += 1
                continue
            old = by_name.get(name)
            if old is None or _rank(code) < _rank(old):
                by_name[name] = code
    return Icd10List(by_name=by_name, rows=rows, skipped=skipped)
