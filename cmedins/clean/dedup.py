"""Exact and near duplicates of a list of texts: the one implementation behind the `dedup` stage and the CLI.

1. Exact: rows whose normalised text (and group) are equal form a cluster (`cmedins/clean/normalize.py`).
2. Near: one representative per exact cluster, if long enough, gets a MinHash signature; LSH banding proposes
   candidate pairs; each pair is compared exactly (shingle Jaccard or containment) and, when it reaches the
   threshold, joined by union-find.
3. Survivors: within each union-find component, rows are taken in priority order (`prefer`); a row is removed
   when it is similar (a verified pair) to a row already kept, and names the most similar one; otherwise it is
   kept. So every removed row is itself within the threshold of the row it names: a chain A~B~C, with A and C
   unlike, does not remove C because of A (on templated short rows chains otherwise join unrelated rows).

Nothing here depends on input order beyond `prefer: first`, or on the number of workers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import xxhash

from cmedins.clean.config import DedupConfig
from cmedins.clean.lsh import band_keys, candidate_pairs, screen_pairs
from cmedins.clean.minhash import signatures
from cmedins.clean.normalize import normalize_series, normalize_texts
from cmedins.clean.similarity import ShingleSets

EXACT, NEAR = "exact_duplicate", "near_duplicate"
_SIZE_BINS = ((2, "2"), (3, "3"), (4, "4"), (5, "5"), (10, "6-10"))


@dataclass
class Duplicates:
    """Per input row: the kept row it duplicates (itself when kept), why it was removed and how similar it is."""

    survivor: np.ndarray  # int64 row index
    reason: list[str | None]  # None (kept), EXACT or NEAR
    similarity: np.ndarray  # float64, to the survivor; 1.0 for exact duplicates and kept rows
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def removed(self) -> np.ndarray:
        return np.flatnonzero(self.survivor != np.arange(len(self.survivor)))


class _UnionFind:
    """Union-find whose root is always the member with the best (lowest) rank: the root is the survivor."""

    def __init__(self, rank: np.ndarray) -> None:
        self.parent = list(range(len(rank)))
        self.rank = rank

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if self.rank[ra] < self.rank[rb]:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def _priority(ids: Sequence[str], lengths: np.ndarray, prefer: str) -> np.ndarray:
    """rank[i]: position of row i in keep-first order."""
    n = len(ids)
    if prefer == "first":
        order = np.arange(n)
    else:  # longest first, then smallest id, then first in input
        order = np.lexsort((np.arange(n), np.array([str(i) for i in ids]), -lengths))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


def _group_codes(groups: Sequence[str]) -> np.ndarray:
    """A stable 64-bit code per group value (Python's own hash is salted per process)."""
    cache: dict[str, int] = {}
    return np.array([cache.setdefault(g, xxhash.xxh64_intdigest(g.encode("utf-8"))) for g in groups],
                    dtype=np.uint64)


def _size_label(size: int) -> str:
    for limit, label in _SIZE_BINS:
        if size <= limit:
            return label
    return "11+"


def find_duplicates(ids: Sequence[str], texts: Sequence[str | None] | pl.Series,
                    groups: Sequence[str] | None = None, config: DedupConfig | None = None) -> Duplicates:
    """Clusters of exact and near duplicates among `texts` (rows of different `groups` never match)."""
    config = config or DedupConfig()
    n = len(texts)
    norm = normalize_series(texts).to_list() if isinstance(texts, pl.Series) else normalize_texts(texts)
    group_values = [str(g) for g in groups] if groups is not None else [""] * n
    lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=n)
    rank = _priority(ids, lengths, config.prefer)
    order = np.argsort(rank)

    # 1. exact: the first row of each (group, text) in priority order represents it
    rep = np.empty(n, dtype=np.int64)
    first: dict[tuple[str, str], int] = {}
    for i in order.tolist():
        rep[i] = first.setdefault((group_values[i], norm[i]), i)

    # 2. near, among representatives long enough
    uf = _UnionFind(rank)
    sets = ShingleSets(norm, config.shingle_chars)
    usable = np.flatnonzero((rep == np.arange(n)) & (lengths >= max(config.near_min_chars, config.shingle_chars)))
    stats: Counter[str] = Counter(signed_rows=len(usable))
    neighbours: dict[int, list[tuple[float, int]]] = {}
    if len(usable) >= 2:
        sigs = signatures([norm[i] for i in usable], config.shingle_chars, config.num_perm, config.seed,
                          config.workers)
        keys = band_keys(sigs, config.bands, config.rows, _group_codes([group_values[i] for i in usable]))
        # the MinHash estimate is of Jaccard: it cannot screen containment pairs
        screen = screen_pairs(sigs, config.threshold) if config.similarity == "jaccard" else None
        cand = candidate_pairs(keys, max_bucket=config.max_bucket, screen=screen)
        pairs = cand.pairs
        stats.update(candidate_pairs=cand.proposed, compared_pairs=len(pairs), oversized_buckets=cand.oversized)
        for a, b in usable[pairs].tolist():
            s = sets.similarity(a, b, config.similarity)
            if s >= config.threshold:
                stats["similar_pairs"] += 1
                uf.union(a, b)
                neighbours.setdefault(a, []).append((s, b))
                neighbours.setdefault(b, []).append((s, a))

    # 3. survivors: in priority order, a representative joins the most similar kept neighbour, or is kept
    survivor = np.arange(n, dtype=np.int64)
    similarity = np.ones(n)
    for i in sorted(neighbours, key=lambda r: rank[r]):
        kept = [(s, -rank[j], j) for s, j in neighbours[i] if survivor[j] == j and rank[j] < rank[i]]
        if kept:
            s, _, j = max(kept)
            survivor[i], similarity[i] = j, s
    reason: list[str | None] = [None] * n
    for i in range(n):
        r = int(rep[i])
        if r != i:  # an exact copy follows its representative
            survivor[i], similarity[i] = survivor[r], similarity[r]
        if survivor[i] != i:
            reason[i] = EXACT if norm[i] == norm[int(survivor[i])] else NEAR
    components = Counter(uf.find(int(rep[i])) for i in range(n))
    groups_kept = Counter(survivor.tolist())
    for size in groups_kept.values():
        if size > 1:
            stats[f"cluster_size:{_size_label(size)}"] += 1
    stats["components_split"] = sum(1 for root, size in components.items() if size > groups_kept[root])
    return Duplicates(survivor, reason, similarity, dict(sorted(stats.items())))


def find_duplicates_by_group(ids: Sequence[str], groups: Sequence[str],
                             texts_of: Callable[[np.ndarray], pl.Series], config: DedupConfig) -> Duplicates:
    """`find_duplicates` one group at a time: rows of different groups never match, so the result is the same as
    over all rows at once, but only one group's texts (`texts_of(positions)`) are normalised and held at a time,
    which bounds the memory of a large table by its largest group (at 1.46M task rows: 6.5 GB of text copies)."""
    n = len(ids)
    survivor, similarity = np.arange(n, dtype=np.int64), np.ones(n)
    reason: list[str | None] = [None] * n
    stats: Counter[str] = Counter()
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    for g in sorted(members):
        idx = np.array(members[g], dtype=np.int64)
        found = find_duplicates([ids[i] for i in idx], texts_of(idx), [g] * len(idx), config)
        survivor[idx], similarity[idx] = idx[found.survivor], found.similarity
        for i, r in zip(idx.tolist(), found.reason, strict=True):
            reason[i] = r
        stats.update(found.stats)
    return Duplicates(survivor, reason, similarity, dict(sorted(stats.items())))
