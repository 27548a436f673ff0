"""Character shingles and MinHash signatures, vectorised over many documents at once.

The signatures are datasketch's: `datasketch.MinHash(num_perm, seed, scheme="affine32", hashfunc=h)` fed each
document's shingles gives exactly these values (a test checks it), where `h` is `shingle_hash32` below. datasketch
applies its permutations one document at a time with a Python call per shingle (about 1,300 documents/s here on
850-character notes); the same arithmetic over a whole chunk of documents, one NumPy pass per permutation with a
segmented minimum (`minimum.reduceat`), computes ~25,000 documents/s on one core.

Shingles are hashed from Unicode code points with a 64-bit polynomial (exact for k <= 3, where 21 bits per code
point fit) and mixed by splitmix64; a document shorter than k has no shingle and no signature (`counts == 0`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import numpy as np

_U64 = np.uint64
_POLY = _U64(0x100000001B3)  # FNV-64 prime: the base of the shingle polynomial
CHUNK_DOCS = 2000  # documents per vectorised chunk: bounds the temporary arrays (~60 MB at 850 characters)
PARALLEL_MIN_DOCS = 20_000  # below this a process pool costs more (spawn + imports) than it saves


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on 64-bit integers with full avalanche."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch's affine32 scheme applies it before its permutations."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _window_codes(points: np.ndarray, k: int) -> np.ndarray:
    """sum(points[i + j] * POLY^(k-1-j)) mod 2^64 for every window i, from halves (log2(k) passes, not k)."""
    if k == 1:
        return points
    if k % 2:
        prev = _window_codes(points, k - 1)
        return prev[:-1] * _POLY + points[k - 1:]
    h = k // 2
    half = _window_codes(points, h)
    return half[:len(half) - h] * _U64(pow(int(_POLY), h, 1 << 64)) + half[h:]


def shingle_codes(texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit codes of every character k-gram of every text, concatenated in order, and the count per text."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    counts = np.maximum(lengths - k + 1, 0)
    total = int(lengths.sum())
    if total < k or not counts.any():
        return np.empty(0, dtype=_U64), counts
    points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(_U64)
    code = _window_codes(points, k)
    # drop the windows that run past the end of their text: the last min(length, k-1) starts of each text
    tail = lengths - counts
    first_bad = np.cumsum(lengths) - lengths + counts
    bad = np.repeat(first_bad - (np.cumsum(tail) - tail), tail) + np.arange(int(tail.sum()))
    valid = np.ones(len(code), dtype=bool)
    valid[bad[bad < len(code)]] = False
    return code[valid], counts


def shingle_hash32(codes: np.ndarray) -> np.ndarray:
    """The 32-bit value datasketch's `hashfunc` returns for each shingle."""
    return (mix64(codes) >> _U64(32)).astype(np.uint32)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b) for `num_perm` and `seed`, drawn as datasketch
    2.x draws them (a test compares with `MinHash(...).permutations`); importing datasketch itself costs half a
    second per process, more than the signatures of 10,000 rows."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _signatures_chunk(texts: Sequence[str], k: int, num_perm: int, seed: int) -> np.ndarray:
    codes, counts = shingle_codes(texts, k)
    out = np.full((len(texts), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    has = counts > 0
    if not has.any():
        return out
    h = _fmix32(shingle_hash32(codes))
    offsets = (np.cumsum(counts) - counts)[has]
    a, b = permutations(num_perm, seed)
    rows = np.flatnonzero(has)
    for j in range(num_perm):
        out[rows, j] = np.minimum.reduceat(h * a[j] + b[j], offsets)
    return out


def signatures(texts: Sequence[str], k: int, num_perm: int, seed: int = 1, workers: int = 1) -> np.ndarray:
    """MinHash signatures (len(texts) x num_perm, uint32), in chunks; on `workers` processes when the input is
    large. Chunks come back in order, so the result does not depend on `workers`."""
    chunks = [texts[i:i + CHUNK_DOCS] for i in range(0, len(texts), CHUNK_DOCS)]
    if not chunks:
        return np.empty((0, num_perm), dtype=np.uint32)
    if workers > 1 and len(texts) >= PARALLEL_MIN_DOCS:
        # spawn, not fork: the build's process already runs Polars/DuckDB threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            n = len(chunks)
            parts = list(pool.map(_signatures_chunk, chunks, [k] * n, [num_perm] * n, [seed] * n))
    else:
        parts = [_signatures_chunk(c, k, num_perm, seed) for c in chunks]
    return np.vstack(parts)
