"""Fold full-width characters to ASCII without changing string length.

Detectors run on the folded text so that ＋８６ １３８… and 1３8… match the same patterns as ASCII, while spans stay in
the coordinates of the original text (one character in, one character out).
"""

from __future__ import annotations

_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_TABLE[0x3000] = 0x20  # ideographic space
_TABLE[0x2014] = ord("-")  # em dash used as a separator in numbers
_TABLE[0x2013] = ord("-")
_TABLE[0x2212] = ord("-")
_TABLE[0x00A0] = 0x20


def fold(text: str) -> str:
    """Full-width ASCII forms → ASCII, same length."""
    return text.translate(_TABLE)
