"""Cached jieba POS tagging of short windows.

Detectors ask jieba about a few characters around a candidate (is 陈述 a word? is 张建国 a name?). The same windows
recur across records (a hospital's name, a doctor's signature), so results are memoised per process.
"""

from __future__ import annotations

from functools import lru_cache

import jieba
import jieba.posseg as pseg

jieba.setLogLevel(60)


@lru_cache(maxsize=65536)
def tags(window: str, hmm: bool = True) -> tuple[tuple[str, str], ...]:
    """(word, flag) pairs of `window`."""
    return tuple((p.word, p.flag) for p in pseg.lcut(window, HMM=hmm))
