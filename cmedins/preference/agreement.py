"""Agreement between annotators, the adjudication queue, and the lexicographic decision that turns judgements
into chosen / rejected.

- Agreement, per dimension and per annotator pair, over the pairs both judged: raw agreement p_o and Cohen's kappa
  (p_o - p_e) / (1 - p_e), p_e from each annotator's own label frequencies (A, B, tie). Kappa is undefined when
  p_e = 1 (both always gave the same label): reported as None.
- Decision (the paper's Safety > Professionalism > Fluency): the first dimension whose label is not a tie decides
  the winner; all three ties means no preference, and the pair is dropped with the reason `tie`.
- Two annotators whose decisions differ (winner or tie) send the pair to the adjudication queue; the expert's
  judgement then decides. A pair with one annotator only, or disputed and not adjudicated, is dropped with a reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

import polars as pl

from cmedins.preference.candidates import DIMENSIONS
from cmedins.preference.labelstudio import CHOICES


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two label sequences over the same items; None when chance agreement is 1."""
    n = len(a)
    if n == 0:
        return None
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[c] * cb[c] for c in set(ca) | set(cb)) / (n * n)
    return None if p_e == 1 else (p_o - p_e) / (1 - p_e)


def agreement_table(labels: pl.DataFrame) -> pl.DataFrame:
    """Per annotator pair and dimension: pairs judged by both, raw agreement and kappa."""
    rows = []
    wide = labels.pivot(on="annotator", index=["pair_id", "dimension"], values="label", aggregate_function="first")
    annotators = sorted(c for c in wide.columns if c not in ("pair_id", "dimension"))
    for x, y in combinations(annotators, 2):
        for dim in DIMENSIONS:
            both = wide.filter((pl.col("dimension") == dim) & pl.col(x).is_not_null() & pl.col(y).is_not_null())
            if both.height == 0:
                continue
            a, b = both[x].to_list(), both[y].to_list()
            rows.append({"annotator_a": x, "annotator_b": y, "dimension": dim, "pairs": both.height,
                         "agreement": sum(p == q for p, q in zip(a, b, strict=True)) / both.height,
                         "kappa": cohen_kappa(a, b)})
    return pl.DataFrame(rows, schema={"annotator_a": pl.String, "annotator_b": pl.String, "dimension": pl.String,
                                      "pairs": pl.Int64, "agreement": pl.Float64, "kappa": pl.Float64})


def decide(labels: dict[str, str]) -> tuple[str, str | None]:
    """(winner A|B|tie, deciding dimension) from one judgement {dimension: label}, Safety > Professionalism >
    Fluency."""
    for dim in DIMENSIONS:
        label = labels.get(dim, "tie")
        if label not in CHOICES:
            raise ValueError(f"unknown label {label!r} for {dim}")
        if label != "tie":
            return label, dim
    return "tie", None


@dataclass
class Outcome:
    """What the judgements of one pair decided."""

    pair_id: str
    winner: str | None  # A, B, or None when the pair is dropped
    dimension: str | None
    agreement: float  # share of dimensions on which the two annotators agreed
    adjudicated: bool
    dropped: str | None  # tie, disputed (not adjudicated yet), single_annotation


def _by_annotator(labels: pl.DataFrame) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for pair, who, dim, label in labels.select("pair_id", "annotator", "dimension", "label").iter_rows():
        out.setdefault(pair, {}).setdefault(who, {})[dim] = label
    return out


def outcomes(labels: pl.DataFrame, expert: pl.DataFrame | None = None) -> list[Outcome]:
    """One outcome per judged pair; `expert` (the adjudication round's labels) settles disputed pairs."""
    judged, settled = _by_annotator(labels), _by_annotator(expert) if expert is not None else {}
    out = []
    for pair in sorted(judged):
        people = judged[pair]
        if len(people) < 2:
            out.append(Outcome(pair, None, None, 0.0, False, "single_annotation"))
            continue
        first, second = (people[k] for k in sorted(people)[:2])
        agreed = sum(first.get(d) == second.get(d) for d in DIMENSIONS) / len(DIMENSIONS)
        (w1, d1), (w2, d2) = decide(first), decide(second)
        if w1 == w2:
            winner, dim, adjudicated = w1, d1 if d1 == d2 else min((d1, d2), key=_rank), False
        elif pair in settled:
            winner, dim = decide(next(iter(settled[pair].values())))
            adjudicated = True
        else:
            out.append(Outcome(pair, None, None, agreed, False, "disputed"))
            continue
        out.append(Outcome(pair, None if winner == "tie" else winner, dim, agreed, adjudicated,
                           "tie" if winner == "tie" else None))
    return out


def _rank(dim: str | None) -> int:
    return DIMENSIONS.index(dim) if dim in DIMENSIONS else len(DIMENSIONS)


def adjudication_queue(results: list[Outcome]) -> list[str]:
    """The pairs whose two annotators' decisions differ and that no expert has settled."""
    return [o.pair_id for o in results if o.dropped == "disputed"]
