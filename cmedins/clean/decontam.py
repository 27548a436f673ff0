"""Decontamination: which training rows overlap an item of an evaluation set.

Two tests, both on normalised text (`normalize.py`), either one is enough:
- long n-gram overlap: the row's query or answer shares a run of `ngram_chars` characters with any question,
  answer or dialogue turn of an evaluation item. N-grams found in more than `ngram_max_items` items of the
  evaluation sets are their own boilerplate (问题分析, 建议到正规医院就诊…) and prove nothing; they are dropped.
- question similarity: the row's whole query is a near copy of an evaluation question (character 3-gram Jaccard
  >= `question_threshold`), which catches short questions and edited copies that no long n-gram survives.
  Candidates come from the same MinHash/LSH code as de-duplication, and are verified exactly.

The index is built once per worker process (the stage's `setup`): sorted NumPy arrays, no per-row Python sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cmedins.clean.evalsets import EvalItem
from cmedins.clean.lsh import band_keys, estimate_floor
from cmedins.clean.minhash import mix64, shingle_codes, signatures
from cmedins.clean.normalize import normalize_texts
from cmedins.clean.similarity import ShingleSets

Q_SHINGLE, Q_PERM, Q_BANDS, Q_ROWS = 3, 128, 32, 4  # as de-duplication's defaults (measured there)
_BITMAP_BITS = 27  # 16 MB: a first look-up that rules out ~99 % of a row's n-grams before the exact search


@dataclass(frozen=True)
class Match:
    """Why a row counts as contaminated; names the evaluation item, never its text."""

    set_name: str
    item_id: str
    how: str  # "ngram" or "question"
    field: str  # the row's field that overlaps
    similarity: float = 1.0

    def describe(self) -> str:
        if self.how == "ngram":
            return f"{self.field} shares a long n-gram with {self.set_name} item {self.item_id}"
        return (f"query is a near copy of {self.set_name} item {self.item_id} "
                f"(question similarity {self.similarity:.3f})")


def _first_hit_per_text(hit: np.ndarray, counts: np.ndarray) -> dict[int, int]:
    """{text index: index into the concatenated codes of its first hit}."""
    where = np.flatnonzero(hit)
    if not len(where):
        return {}
    starts = np.cumsum(counts) - counts
    text_of = np.searchsorted(starts, where, side="right") - 1
    texts, first = np.unique(text_of, return_index=True)
    return dict(zip(texts.tolist(), where[first].tolist(), strict=True))


class EvalIndex:
    """N-grams and question signatures of every item of the evaluation sets."""

    def __init__(self, items: Sequence[EvalItem], ngram_chars: int, ngram_max_items: int,
                 question_threshold: float, question_min_chars: int) -> None:
        self.items = list(items)
        self.ngram_chars = ngram_chars
        self.question_threshold = question_threshold
        self.question_min_chars = question_min_chars
        self.stats = {"eval_items": len(self.items)}
        self._build_ngrams(ngram_max_items)
        self._build_questions()

    def _build_ngrams(self, max_items: int) -> None:
        raw, owner = [], []
        for i, item in enumerate(self.items):
            raw += [*item.questions, *item.answers]
            owner += [i] * (len(item.questions) + len(item.answers))
        texts = normalize_texts(raw)
        codes, counts = shingle_codes(texts, self.ngram_chars)
        item_of = np.repeat(np.asarray(owner, dtype=np.int64), counts)
        order = np.lexsort((item_of, codes))
        codes, item_of = codes[order], item_of[order]
        distinct = np.ones(len(codes), dtype=bool)  # first occurrence of each (code, item)
        distinct[1:] = (codes[1:] != codes[:-1]) | (item_of[1:] != item_of[:-1])
        codes, item_of = codes[distinct], item_of[distinct]
        uniq, first, n_items = np.unique(codes, return_index=True, return_counts=True)
        keep = n_items <= max_items
        self.ngram_codes, self.ngram_item = uniq[keep], item_of[first][keep]
        self.bitmap = np.zeros(1 << (_BITMAP_BITS - 3), dtype=np.uint8)
        slot = mix64(self.ngram_codes) >> np.uint64(64 - _BITMAP_BITS)
        np.bitwise_or.at(self.bitmap, (slot >> np.uint64(3)).astype(np.int64),
                         (np.uint8(1) << (slot & np.uint64(7)).astype(np.uint8)))
        self.stats["eval_ngrams"] = int(keep.sum())
        self.stats["eval_ngrams_boilerplate"] = int((~keep).sum())

    def _build_questions(self) -> None:
        owners = [i for i, item in enumerate(self.items) for _ in item.questions]
        normalized = normalize_texts([q for item in self.items for q in item.questions])
        texts = [t for t in normalized if len(t) >= self.question_min_chars]
        owner = [o for o, t in zip(owners, normalized, strict=True) if len(t) >= self.question_min_chars]
        self.q_texts, self.q_item = texts, np.asarray(owner, dtype=np.int64)
        self.q_sigs = signatures(texts, Q_SHINGLE, Q_PERM)
        keys = band_keys(self.q_sigs, Q_BANDS, Q_ROWS).ravel()
        order = np.argsort(keys, kind="stable")
        self.q_keys, self.q_key_owner = keys[order], np.repeat(np.arange(len(texts)), Q_BANDS)[order]

    def _ngram_matches(self, texts: list[str]) -> dict[int, int]:
        """{text index: eval item index} for texts sharing an n-gram with the index."""
        if not len(self.ngram_codes):
            return {}
        codes, counts = shingle_codes(texts, self.ngram_chars)
        slot = mix64(codes) >> np.uint64(64 - _BITMAP_BITS)
        maybe = np.flatnonzero((self.bitmap[(slot >> np.uint64(3)).astype(np.int64)]
                                >> (slot & np.uint64(7)).astype(np.uint8)) & 1)
        pos = np.zeros(len(codes), dtype=np.int64)
        pos[maybe] = np.searchsorted(self.ngram_codes, codes[maybe]).clip(max=len(self.ngram_codes) - 1)
        hit = np.zeros(len(codes), dtype=bool)
        hit[maybe] = self.ngram_codes[pos[maybe]] == codes[maybe]
        return {t: int(self.ngram_item[pos[c]]) for t, c in _first_hit_per_text(hit, counts).items()}

    def _question_matches(self, queries: list[str]) -> dict[int, tuple[int, float]]:
        """{query index: (eval item index, similarity)} for queries that are near copies of a question."""
        # Jaccard is at most (smaller set) / (larger set): a query with more than longest/threshold shingles
        # cannot reach the threshold with any question, so it needs no signature
        longest = max((len(q) for q in self.q_texts), default=0)
        limit = longest / max(self.question_threshold, 1e-9) + Q_SHINGLE
        usable = [i for i, q in enumerate(queries) if self.question_min_chars <= len(q) <= limit]
        if not usable or not self.q_texts:
            return {}
        sigs = signatures([queries[i] for i in usable], Q_SHINGLE, Q_PERM)
        keys = band_keys(sigs, Q_BANDS, Q_ROWS)
        flat = keys.ravel()
        lo = np.searchsorted(self.q_keys, flat, side="left")
        hi = np.searchsorted(self.q_keys, flat, side="right")
        n_hits = hi - lo
        if not n_hits.any():
            return {}
        row = np.repeat(np.arange(len(flat)) // Q_BANDS, n_hits)
        starts = np.repeat(lo, n_hits) + (np.arange(n_hits.sum()) - np.repeat(np.cumsum(n_hits) - n_hits, n_hits))
        pairs = np.unique(np.stack([row, self.q_key_owner[starts]], axis=1), axis=0)
        est = (sigs[pairs[:, 0]] == self.q_sigs[pairs[:, 1]]).mean(axis=1)
        pairs = pairs[est >= estimate_floor(self.question_threshold, Q_PERM)]
        both = [queries[i] for i in usable] + self.q_texts
        sets = ShingleSets(both, Q_SHINGLE)
        out: dict[int, tuple[int, float]] = {}
        for r, q in pairs.tolist():
            s = sets.similarity(r, len(usable) + q)
            if s >= self.question_threshold and s > out.get(usable[r], (-1, -1.0))[1]:
                out[usable[r]] = (int(self.q_item[q]), s)
        return out

    def match(self, queries: list[str], answers: list[str]) -> list[Match | None]:
        """Per row (normalised query and answer): the first overlap found, or None."""
        n = len(queries)
        found: list[Match | None] = [None] * n
        for r, (item, s) in sorted(self._question_matches(queries).items()):
            it = self.items[item]
            found[r] = Match(it.set_name, it.item_id, "question", "query", s)
        ngram = self._ngram_matches([*queries, *answers])
        for t in sorted(ngram):
            r, fld = (t, "query") if t < n else (t - n, "answer")
            if found[r] is None:
                it = self.items[ngram[t]]
                found[r] = Match(it.set_name, it.item_id, "ngram", fld)
        return found

