"""The generator's one random helper: `pick(rng, seq)`, a uniform choice in one C call.

Why not `random.choice`: it is the generator's most frequent call (about 120 per record) and runs in Python
(`_randbelow` with a bit loop); `seq[int(rng.random() * len(seq))]` is uniform to within 2^-53 and several times
faster. The corpus stays a function of the seed only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def below(rng: random.Random, a: int, b: int | None = None) -> int:
    """`rng.randrange(a, b)` (or `randrange(a)`) in one C call; an empty range raises as randrange does."""
    if b is None:
        a, b = 0, a
    if b <= a:
        raise ValueError(f"empty range for below({a}, {b})")
    return a + int(rng.random() * (b - a))
