"""Text normalisation at ingest, before anything else (de-identification included) reads the text.

Hospital exports carry characters that hide identifiers from detectors and corrupt published text: a zero-width
space inside a phone number (13８0013​8000 is still a phone number to a reader, not to a regex), control characters
and escape sequences, HTML left by rich-text editors (`<br>`, `&nbsp;`), full-width digits and letters, and, in
JSON, escaped lone surrogates that no UTF-8 writer can encode. Each is repaired the same way in every string field
(nested ones included) and counted by kind (`normalised:<kind>` in the build report):

- `html`: tags become a line break (block tags) or nothing; entities become their character;
- `line_break`: CR LF, lone CR, U+2028/U+2029 become LF;
- `control`: ANSI escape sequences and other C0/C1 control characters (NUL, ESC...) are removed; TAB and LF stay;
- `invisible`: format characters (zero-width spaces and joiners, BOM, soft hyphen, bidi controls) are removed;
- `space`: no-break, ideographic and other special spaces become a plain space;
- `width`: full-width digits and Latin letters become ASCII (Chinese punctuation is left alone: NFKC would turn
  `，` into `,` and `①` into `1`, which changes clinical text);
- `surrogate`: a lone surrogate becomes U+FFFD.

Rows are counted once per kind. A text that is empty after this counts as missing (see `coerce`).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

KINDS = ("html", "line_break", "control", "invisible", "space", "width", "surrogate")

_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
_INVISIBLE = ("\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
              "\ufeff\ufff9-\ufffb")
_SPACE = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_WIDE = "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_TAG = r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>"
_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "html": re.compile(f"{_TAG}|{_ENTITY}"),
    "line_break": re.compile("\r\n?|[\u2028\u2029]"),
    "control": re.compile(f"\x1b\\[[0-?]*[ -/]*[@-~]|[{_CONTROL}]"),  # ANSI escape sequences whole
    "invisible": re.compile(f"[{_INVISIBLE}]"),
    "space": re.compile(f"[{_SPACE}]"),
    "width": re.compile(f"[{_WIDE}]"),
    "surrogate": re.compile("[\ud800-\udfff]"),
}
_BLOCK_TAGS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"})
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
_WIDTH_TABLE = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                for cp in range(r[0], r[1] + 1)}

# The same set as one RE2 pattern (pyarrow.compute): only rows that match go through Python at all.
_SUSPECT_RE2 = (
    f"{_TAG}|{_ENTITY}|[\\r{_CONTROL}\\x{{00AD}}\\x{{034F}}\\x{{061C}}\\x{{115F}}\\x{{1160}}\\x{{180E}}"
    "\\x{200B}-\\x{200F}\\x{2028}-\\x{202E}\\x{2060}-\\x{2064}\\x{2066}-\\x{206F}\\x{FEFF}\\x{FFF9}-\\x{FFFB}"
    "\\x{00A0}\\x{1680}\\x{2000}-\\x{200A}\\x{205F}\\x{3000}"
    "\\x{FF10}-\\x{FF19}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}]"
)


def _html_tag(m: re.Match[str]) -> str:
    text = m.group()
    if text.startswith("&"):
        return html.unescape(text)
    name = _TAG_NAME.match(text)
    return "\n" if name and name.group(1).lower() in _BLOCK_TAGS else ""


def normalize_text(text: str, counts: Counter | None = None) -> str:
    """`text` normalised as the module docstring says; each kind that changed something is counted once."""
    for kind, pattern in _PATTERNS.items():
        if not pattern.search(text):
            continue
        if kind == "html":
            new = pattern.sub(_html_tag, text)
        elif kind == "line_break":
            new = pattern.sub("\n", text)
        elif kind == "space":
            new = pattern.sub(" ", text)
        elif kind == "width":
            new = text.translate(_WIDTH_TABLE)
        elif kind == "surrogate":
            new = pattern.sub("\ufffd", text)
        else:
            new = pattern.sub("", text)
        if new != text and counts is not None:
            counts[kind] += 1
        text = new
    return text


def normalize_value(value: Any, counts: Counter | None = None) -> Any:
    """Every string inside a JSON-like value (dict keys included) normalised."""
    if isinstance(value, str):
        return normalize_text(value, counts)
    if isinstance(value, list):
        return [normalize_value(v, counts) for v in value]
    if isinstance(value, dict):
        return {normalize_text(k) if isinstance(k, str) else k: normalize_value(v, counts) for k, v in value.items()}
    return value


def normalize_array(arr: pa.Array, counts: Counter) -> pa.Array:
    """A string array normalised; nested (list / struct) arrays have every string child normalised.

    Vectorised screening first: on a clean export no row leaves Arrow.
    """
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        suspect = pc.fill_null(pc.match_substring_regex(arr, pattern=_SUSPECT_RE2), False)
        if not pc.any(suspect).as_py():
            return arr
        fixed = [normalize_text(s, counts) if s is not None and hit else s
                 for s, hit in zip(arr.to_pylist(), suspect.to_pylist(), strict=True)]
        return pa.array(fixed, type=arr.type)
    if pa.types.is_list(arr.type):
        values = normalize_array(arr.values, counts)
        if values is arr.values:
            return arr
        return pa.ListArray.from_arrays(arr.offsets, values, type=arr.type, mask=arr.is_null())
    if pa.types.is_struct(arr.type):
        children = [arr.field(i) for i in range(arr.type.num_fields)]
        fixed = [normalize_array(c, counts) for c in children]
        if all(a is b for a, b in zip(children, fixed, strict=True)):
            return arr
        return pa.StructArray.from_arrays(fixed, fields=list(arr.type), mask=arr.is_null())
    return arr
