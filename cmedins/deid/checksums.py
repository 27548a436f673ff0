"""Check digits of Chinese identifiers: they raise confidence, they never decide that something is *not* an ID."""

from __future__ import annotations

from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def gb11643_valid(number: str) -> bool:
    """GB 11643-1999 check character of an 18-character resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def plausible_birth(yyyymmdd: str) -> bool:
    """True when the 8 digits are a real calendar date between 1880 and 2100 (the birth-date part of an ID)."""
    try:
        y, m, d = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
        date(y, m, d)
    except ValueError:
        return False
    return 1880 <= y <= 2100


def luhn_valid(number: str) -> bool:
    """Luhn (mod 10) check used by bank cards and many insurance card numbers."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
