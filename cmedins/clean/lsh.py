"""LSH banding over MinHash signatures: which pairs of documents are worth an exact comparison.

Each band of `rows` signature values becomes one 64-bit bucket key (salted with the band number and the
document's group, so that rows of different tasks never meet). Documents sharing a bucket in any band form
candidate pairs. The banding is done with a sort over all (key, document) entries rather than datasketch's
`MinHashLSH` dictionary: the same buckets, no Python call per document and band, and pairs in a fixed order.

A bucket of more than `max_bucket` documents (boilerplate shared by many distinct rows) would cost its size squared
in comparisons; its members are instead paired with the next `max_bucket - 1` members in document order (a sliding
window), which keeps the work linear and is counted as `lsh:oversized_buckets`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cmedins.clean.minhash import mix64

_U64 = np.uint64


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy 2's default hash-based unique was 5x slower on millions of int64 here)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def band_keys(sigs: np.ndarray, bands: int, rows: int, groups: np.ndarray | None = None) -> np.ndarray:
    """(n, bands) uint64 bucket keys; `groups` (n,) uint64 salts the keys so that only same-group rows collide."""
    n = sigs.shape[0]
    salt = np.zeros(n, dtype=_U64) if groups is None else groups.astype(_U64)
    keys = np.empty((n, bands), dtype=_U64)
    for band in range(bands):
        h = mix64(salt ^ _U64(((band + 1) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF))
        for col in sigs[:, band * rows:(band + 1) * rows].T:
            h = mix64(h ^ col.astype(_U64))
        keys[:, band] = h
    return keys


@dataclass
class Candidates:
    """Candidate pairs (i < j, sorted, unique) and how they were found."""

    pairs: np.ndarray  # (m, 2) int64, after `screen`
    buckets: int = 0  # buckets with two or more documents, summed over bands
    oversized: int = 0  # buckets larger than max_bucket (windowed)
    proposed: int = 0  # pairs the buckets proposed, before `screen` (a pair found in k bands counts k times)


def _bucket_pairs(d: np.ndarray, starts: np.ndarray, sizes: np.ndarray, max_bucket: int) -> tuple[list[np.ndarray],
                                                                                                  int]:
    """Pairs within buckets of two or more, vectorised per bucket size (buckets of one size at once)."""
    pieces: list[np.ndarray] = []
    oversized = 0
    for size in np.unique(sizes[sizes >= 2]).tolist():
        first = starts[sizes == size]
        members = d[first[:, None] + np.arange(size)]  # (buckets, size)
        if size <= max_bucket:
            i, j = np.triu_indices(size, k=1)
        else:  # a sliding window: each member with the next max_bucket - 1
            oversized += len(first)
            i = np.concatenate([np.arange(size - step) for step in range(1, max_bucket)])
            j = np.concatenate([np.arange(step, size) for step in range(1, max_bucket)])
        pieces.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
    return pieces, oversized


def candidate_pairs(keys: np.ndarray, usable: np.ndarray | None = None, max_bucket: int = 64,
                    screen: Callable[[np.ndarray], np.ndarray] | None = None) -> Candidates:
    """Pairs of documents (row indices of `keys`) that share at least one bucket key. `usable` (n,) bool leaves
    documents out entirely. `screen` (pairs -> bool mask) is applied band by band, so that the pairs of one band
    are all that is ever held: on templated text the candidates grow with the square of the input (a million at
    70,000 rows), the screened ones do not."""
    n, bands = keys.shape
    docs = np.arange(n, dtype=np.int64) if usable is None else np.flatnonzero(usable)
    empty = np.empty((0, 2), dtype=np.int64)
    if len(docs) < 2:
        return Candidates(empty)
    kept: list[np.ndarray] = []
    total = buckets = oversized = 0
    for band in range(bands):
        order = np.argsort(keys[docs, band], kind="stable")  # by key, then document: a fixed order
        k, d = keys[docs[order], band], docs[order]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(k) != 0) + 1])
        sizes = np.diff(np.concatenate([starts, [len(k)]]))
        pieces, big = _bucket_pairs(d, starts, sizes, max_bucket)
        buckets += int((sizes >= 2).sum())
        oversized += big
        if not pieces:
            continue
        pairs = np.sort(np.concatenate(pieces), axis=1)
        total += len(pairs)
        kept.append(pairs[screen(pairs)] if screen is not None else pairs)
    pairs = np.concatenate(kept) if kept else empty
    code = sorted_unique(pairs[:, 0] * n + pairs[:, 1])
    return Candidates(np.stack([code // n, code % n], axis=1), buckets=buckets, oversized=oversized, proposed=total)


def estimate_floor(threshold: float, num_perm: int) -> float:
    """The MinHash estimate below which a pair is not worth an exact comparison: 3.5 standard deviations of the
    estimate under the threshold (a pair truly at the threshold passes with probability 0.9998)."""
    return threshold - 3.5 * (threshold * (1 - threshold) / num_perm) ** 0.5


def estimated_similarity(sigs: np.ndarray, pairs: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """MinHash's Jaccard estimate (share of equal signature values) for each pair, in chunks to bound memory."""
    out = np.empty(len(pairs))
    for start in range(0, len(pairs), chunk):
        p = pairs[start:start + chunk]
        out[start:start + chunk] = (sigs[p[:, 0]] == sigs[p[:, 1]]).mean(axis=1)
    return out


def screen_pairs(sigs: np.ndarray, threshold: float, quick_perm: int = 32) -> Callable[[np.ndarray], np.ndarray]:
    """A `screen` for `candidate_pairs`: keep the pairs whose MinHash estimate could still reach `threshold` (a
    first estimate on `quick_perm` permutations, then the full one, each against its floor)."""
    quick = np.ascontiguousarray(sigs[:, :quick_perm]) if sigs.shape[1] > 2 * quick_perm else None

    def keep(pairs: np.ndarray) -> np.ndarray:
        mask = np.ones(len(pairs), dtype=bool)
        if quick is not None:
            mask &= estimated_similarity(quick, pairs) >= estimate_floor(threshold, quick_perm)
        where = np.flatnonzero(mask)
        mask[where] = estimated_similarity(sigs, pairs[where]) >= estimate_floor(threshold, sigs.shape[1])
        return mask

    return keep
