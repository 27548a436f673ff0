"""Detected spans and how overlapping detections are resolved into one non-overlapping set."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """One detected identifier in input coordinates. `source` names the rule (for counts, never the value)."""

    start: int
    end: int
    entity_type: str
    score: float
    source: str = ""


def resolve(spans: list[Span], threshold: float = 0.5) -> list[Span]:
    """Keep the best non-overlapping spans, in text order.

    Higher score wins, then the longer span, then the earlier one: a specific rule (ID checksum, a labelled MRN)
    outranks a generic one (a bare long number) on the same characters. A lower-ranked span that only partly
    overlaps a kept one is clipped to its free part instead of being dropped, so no identifier characters leak
    because two rules disagreed on a boundary.
    """
    cands = sorted((s for s in spans if s.score >= threshold and s.end > s.start),
                   key=lambda s: (-s.score, -(s.end - s.start), s.start, s.entity_type))
    kept: list[Span] = []
    taken = bytearray()
    for s in cands:
        if len(taken) < s.end:
            taken.extend(b"\0" * (s.end - len(taken)))
        free = [i for i in range(s.start, s.end) if not taken[i]]
        if not free:
            continue
        if len(free) == s.end - s.start:
            kept.append(s)
            taken[s.start:s.end] = b"\1" * (s.end - s.start)
            continue
        # partly covered: keep the free runs (a leftover of 1 char of a long span still hides a digit or a name char)
        run_start = free[0]
        prev = free[0]
        for i in free[1:] + [-1]:
            if i != prev + 1:
                kept.append(Span(run_start, prev + 1, s.entity_type, s.score, s.source))
                taken[run_start:prev + 1] = b"\1" * (prev + 1 - run_start)
                run_start = i
            prev = i
    kept.sort(key=lambda s: (s.start, s.end))
    return _merge_adjacent(kept)


def _merge_adjacent(spans: list[Span]) -> list[Span]:
    """Join touching spans of the same type (a clipped address and its rest) so one placeholder replaces them."""
    out: list[Span] = []
    for s in spans:
        if out and out[-1].end == s.start and out[-1].entity_type == s.entity_type:
            p = out[-1]
            out[-1] = Span(p.start, s.end, p.entity_type, max(p.score, s.score), p.source)
        else:
            out.append(s)
    return out
