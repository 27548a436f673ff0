"""Views of a text for detection: full width folded to ASCII, invisible characters taken out.

Detectors run on the folded text so that ＋８６ １３８… and 1３8… match the same patterns as ASCII, while spans stay in
the coordinates of the original text (one character in, one character out). Invisible format characters (a
zero-width space inside 138​0013​8000) cannot be folded one-for-one, so detection runs on a view without them and
its spans are mapped back to the original text, where the replacement then takes the invisible characters too. The
same view closes the padding space of a name written `庞　丽`.
The build normalises text at ingest already; this covers every other caller of the library and the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from cmedins.deid.spans import Span

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                        "\ufeff]")

_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_TABLE[0x3000] = 0x20  # ideographic space
_TABLE[0x2014] = ord("-")  # em dash used as a separator in numbers
_TABLE[0x2013] = ord("-")
_TABLE[0x2212] = ord("-")
_TABLE[0x00A0] = 0x20


def fold(text: str) -> str:
    """Full-width ASCII forms → ASCII, same length."""
    return text.translate(_TABLE)


@dataclass(frozen=True)
class VisibleView:
    """`text` without invisible characters; `index[i]` is the original position of its character i."""

    text: str
    index: tuple[int, ...] | None = None  # None: nothing was removed, positions are the original ones

    def to_original(self, span: Span) -> Span:
        if self.index is None:
            return span
        return replace(span, start=self.index[span.start], end=self.index[span.end - 1] + 1)


# A two-character name padded to the width of three in a form or signature line: 庞　丽, 韩 冬 (a surname, one space,
# one or two Han characters, then no more Han text). Detection reads it without the space, so every name rule
# sees 庞丽; the replacement still covers the original span, space included.
_PADDED_NAME = re.compile("(?<=[一-鿿])[　 ](?=[一-鿿]{1,2}(?![一-鿿]))")


def _surnames() -> frozenset[str]:
    from cmedins.deid.lexicon import lexicon

    lx = lexicon()
    return frozenset(s for s in lx.surnames if len(s) == 1) - lx.weak_surnames


def visible_view(text: str) -> VisibleView:
    """The text without invisible characters and without the padding space inside a name (`_PADDED_NAME`)."""
    drop = {m.start() for m in _INVISIBLE.finditer(text)}
    if "　" in text or " " in text:
        surnames = _surnames()
        drop |= {m.start() for m in _PADDED_NAME.finditer(text) if text[m.start() - 1] in surnames}
    if not drop:
        return VisibleView(text)
    keep = [i for i in range(len(text)) if i not in drop]
    return VisibleView("".join(text[i] for i in keep), tuple(keep))
