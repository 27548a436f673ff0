"""Simulated annotators and expert for the offline demo: deterministic, with a configurable error rate, and
written in Label Studio's export format so the demo goes through the same import, agreement and adjudication code
as real annotation. Everything they produce is marked `simulated` in the rows and the dataset card.

An annotator starts from the pair's expected judgement (`candidates.truth`) and, on each dimension, with
probability `error_rate`, gives another label instead (chosen by a seeded hash of seed, annotator, pair and
dimension). The expert does the same with `expert_error_rate` (default 0).
"""

from __future__ import annotations

import xxhash

from cmedins.preference.candidates import DIMENSIONS
from cmedins.preference.labelstudio import CHOICES


def _draw(seed: int, *key: str) -> float:
    return xxhash.xxh3_64_intdigest("\x1f".join((str(seed), *key)).encode()) / 2**64


def judge(truth: dict[str, str], annotator: str, pair_id: str, error_rate: float, seed: int) -> dict[str, str]:
    """One annotator's labels for one pair."""
    labels = {}
    for dim in DIMENSIONS:
        label = truth[dim]
        if _draw(seed, "err", annotator, pair_id, dim) < error_rate:
            others = [c for c in CHOICES if c != label]
            label = others[int(_draw(seed, "alt", annotator, pair_id, dim) * len(others))]
        labels[dim] = label
    return labels


def annotate(pairs: list[dict], error_rate: float, seed: int) -> list[dict]:
    """Judgements of each pair's two assigned annotators ({pair_id, annotators, truth} per pair)."""
    return [{"pair_id": p["pair_id"], "annotator": who,
             "labels": judge(p["truth"], who, p["pair_id"], error_rate, seed)}
            for p in pairs for who in p["annotators"]]


def adjudicate(pairs: list[dict], queue: set[str], error_rate: float, seed: int) -> list[dict]:
    """The expert's judgements of the queued pairs."""
    return [{"pair_id": p["pair_id"], "annotator": "expert",
             "labels": judge(p["truth"], "expert", p["pair_id"], error_rate, seed)}
            for p in pairs if p["pair_id"] in queue]
