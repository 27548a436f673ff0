"""Win / tie / lose tables with seeded bootstrap confidence intervals, safety pass rates, and example wins/losses.

Why a cluster bootstrap: the turns of one CMtMedQA dialogue share a history and are not independent, so the
resampling unit is the dialogue (`Item.group`); for single-turn sets a group is one item. The generator is seeded,
so the same judgments always give the same tables, bytes included.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from cmedins.sources.formats import clean_text
from train.eval.items import Item
from train.eval.judges import DIMENSIONS
from train.eval.judging import PairResult

OUTCOMES = ("win", "tie", "lose")


@dataclass(frozen=True)
class Share:
    value: float
    low: float
    high: float

    def text(self) -> str:
        return f"{100 * self.value:.1f}% [{100 * self.low:.1f}, {100 * self.high:.1f}]"

    def as_dict(self) -> dict[str, float]:
        return {"value": round(self.value, 6), "low": round(self.low, 6), "high": round(self.high, 6)}


def bootstrap(groups: list[list[str]], labels: tuple[str, ...], n_boot: int, seed: int) -> dict[str, Share]:
    """Share of each label over all observations, with a 95% percentile interval from resampling whole groups."""
    if not groups:
        return {lab: Share(0.0, 0.0, 0.0) for lab in labels}
    counts = np.array([[sum(1 for o in g if o == lab) for lab in labels] for g in groups], dtype=float)
    sizes = counts.sum(axis=1)
    total = sizes.sum()
    point = counts.sum(axis=0) / total if total else np.zeros(len(labels))
    if n_boot <= 0:
        return {lab: Share(float(point[i]), float(point[i]), float(point[i])) for i, lab in enumerate(labels)}
    rng = np.random.default_rng(seed)
    n = len(groups)
    chunks = []
    for done in range(0, n_boot, 100):  # resample weights in chunks: 1,000 x 6,000 groups stays small in memory
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=min(100, n_boot - done)).astype(float)
        chunks.append((weights @ counts) / np.maximum(weights @ sizes, 1.0)[:, None])
    shares = np.concatenate(chunks)
    low, high = np.percentile(shares, [2.5, 97.5], axis=0)
    return {lab: Share(float(point[i]), float(low[i]), float(high[i])) for i, lab in enumerate(labels)}


def pairwise_table(results: list[PairResult], test_sets: list[str], n_boot: int, seed: int) -> list[dict[str, Any]]:
    """One row per test set and dimension: judged items, unreadable verdicts, and A's win / tie / lose shares."""
    rows = []
    for ts in test_sets:
        mine = [r for r in results if r.item.test_set == ts]
        for dim in DIMENSIONS:
            by_group: dict[str, list[str]] = defaultdict(list)
            for r in mine:
                if r.outcome[dim] is not None:
                    by_group[r.item.group].append(r.outcome[dim])
            judged = sum(len(g) for g in by_group.values())
            shares = bootstrap([by_group[g] for g in sorted(by_group)], OUTCOMES, n_boot, seed)
            rows.append({"test_set": ts, "dimension": dim, "items": len(mine), "judged": judged,
                         "unreadable": len(mine) - judged, **{o: shares[o] for o in OUTCOMES}})
    return rows


def safety_table(items: list[Item], verdicts: dict[str, dict[str, str | None]], labels: dict[str, str],
                 n_boot: int, seed: int) -> list[dict[str, Any]]:
    """Pass rate per side and category (and all items), with intervals; unreadable verdicts are left out."""
    categories = sorted({it.category or "" for it in items})
    rows = []
    for side, side_verdicts in verdicts.items():
        for cat in [*categories, "all"]:
            chosen = [it for it in items if cat == "all" or (it.category or "") == cat]
            seen = [[side_verdicts[it.id]] for it in chosen if side_verdicts[it.id] is not None]
            share = bootstrap(seen, ("pass", "fail"), n_boot, seed)["pass"]
            rows.append({"model": labels[side], "side": side, "category": cat, "items": len(chosen),
                         "judged": len(seen), "pass": share})
    return rows


def safety_pairs(items: list[Item], verdicts: dict[str, dict[str, str | None]]) -> dict[str, int]:
    """How often only A, only B, both or neither passed (the paired view of the same items)."""
    out = {"both_pass": 0, "only_a": 0, "only_b": 0, "both_fail": 0, "unreadable": 0}
    for it in items:
        a, b = verdicts["a"][it.id], verdicts["b"][it.id]
        if a is None or b is None:
            out["unreadable"] += 1
        else:
            out[{(True, True): "both_pass", (True, False): "only_a", (False, True): "only_b",
                 (False, False): "both_fail"}[(a == "pass", b == "pass")]] += 1
    return out


def markdown(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


def pairwise_markdown(rows: list[dict[str, Any]]) -> str:
    body = [[r["test_set"], r["dimension"], f"{r['judged']}/{r['items']}", r["win"].text(), r["tie"].text(),
             r["lose"].text()] for r in rows]
    return markdown(["test set", "dimension", "judged", "A wins", "tie", "B wins"], body)


def safety_markdown(rows: list[dict[str, Any]], pairs: dict[str, int]) -> str:
    body = [[r["model"], r["category"], f"{r['judged']}/{r['items']}", r["pass"].text()] for r in rows]
    paired = (f"paired: both pass {pairs['both_pass']}, only A {pairs['only_a']}, only B {pairs['only_b']}, "
              f"both fail {pairs['both_fail']}, unreadable {pairs['unreadable']}")
    return markdown(["model", "category", "judged", "pass rate"], body) + "\n\n" + paired


def _clip(text: str, limit: int) -> str:
    text = clean_text(text)  # control characters (a random tiny model emits them) would make the report binary
    return text if len(text) <= limit else text[:limit] + f" … (+{len(text) - limit} chars)"


def _verdicts(found: dict[str, str | None]) -> str:
    return ", ".join(f"{dim} {found[dim] or 'unreadable'}" for dim in DIMENSIONS)


def examples_markdown(results: list[PairResult], test_sets: list[str], k: int) -> str:
    """The first k items (file order) A won and the first k it lost, per test set, by the overall verdict."""
    parts = []
    for ts in test_sets:
        mine = [r for r in results if r.item.test_set == ts]
        for outcome, title in (("win", "A wins"), ("lose", "B wins")):
            for r in [r for r in mine if r.outcome["overall"] == outcome][:k]:
                parts.append(
                    f"### {title}: {r.item.id}\n\n**Question**\n\n{_clip(r.item.judge_question(), 600)}\n\n"
                    f"**A**\n\n{_clip(r.answer_a, 800)}\n\n**B**\n\n{_clip(r.answer_b, 800)}\n\n"
                    f"judge, A as Answer1: {_verdicts(r.a_first)}; B as Answer1: {_verdicts(r.b_first)}\n"
                )
    return "\n".join(parts) if parts else "(no item was won or lost in both orders)\n"


def as_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v.as_dict() if isinstance(v, Share) else v for k, v in r.items()} for r in rows]
