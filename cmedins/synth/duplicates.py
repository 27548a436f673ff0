"""Planted near duplicates: copy-forward notes and repeat visits whose text differs by 1–10 % of characters.

Edits (insertion, deletion, substitution, sentence reordering) only touch plain prose pieces, so identifier and
medical-term spans stay exact in the copy. An edit inside an annotated sentence can add a qualifier (阵发性, 明显)
or garble a negation cue (未见 -> 未有), so the copy drops that sentence's events rather than teach a wrong or
incomplete answer; reordering moves whole sentences and keeps them. The edit rate written to the ground truth is
*measured* (Levenshtein distance / length of the original's concatenated free text), not the planned budget.
This module deliberately shares no similarity code with the deduplicator.
"""

from __future__ import annotations

import random

from rapidfuzz.distance import Levenshtein

from cmedins.contracts import TEXT_FIELDS
from cmedins.synth.compose import Draft
from cmedins.synth.text import Event, Section, Sentence

MIN_RATE, MAX_RATE = 0.01, 0.10
_FILL = "的了是有无及并后前稍较明显未可者其与等患右左下上中见约于"
_PUNCT = "，。；、"
# What a doctor adds when editing a copied note: qualifiers and short clauses, not random characters.
_INSERTS = (
    "稍",
    "明显",
    "偶有",
    "再次",
    "，较前好转",
    "，无明显变化",
    "，仍",
    "约",
    "略",
    "，继续观察",
    "阵发性",
    "，较前加重",
    "轻度",
    "（复查）",
    "，同前",
)


def free_text(draft: Draft) -> str:
    """All free-text sections joined by newlines: what duplicates are measured on."""
    return "\n".join(draft.sections[f].text for f in TEXT_FIELDS)


def edit_rate(a: str, b: str) -> float:
    return Levenshtein.distance(a, b) / max(1, len(a))


def copy_draft(d: Draft) -> Draft:
    """Deep copy of sections and events (events re-pointed at the copied sentences); structured fields shared."""
    mapping: dict[int, Sentence] = {}
    sections: dict[str, Section] = {}
    for name, sec in d.sections.items():
        new = []
        for s in sec.sentences:
            c = Sentence(list(s.pieces))
            mapping[id(s)] = c
            new.append(c)
        sections[name] = Section(name, new, sec.sep)
    events = [
        Event(e.section, mapping[id(e.sentence)], e.subject, list(e.descriptors), list(e.anatomy), e.status)
        for e in d.events
        if id(e.sentence) in mapping
    ]
    return Draft(dict(d.fields), sections, events)


def _plain_slots(d: Draft) -> list[tuple[Sentence, int]]:
    return [
        (s, i)
        for sec in d.sections.values()
        for s in sec.sentences
        for i, p in enumerate(s.pieces)
        if p[1] is None and len(p[0].strip()) >= 2
    ]


def _edit_once(rng: random.Random, d: Draft, op: str, edited: set[int]) -> int:
    slots = _plain_slots(d)
    if not slots:
        return 0
    s, i = rng.choice(slots)
    edited.add(id(s))
    text = s.pieces[i][0]
    pos = rng.randrange(len(text))
    if op == "insert":
        add = rng.choice(_INSERTS)
        new, cost = text[:pos] + add + text[pos:], len(add)
    elif op == "delete":
        n = min(rng.randrange(1, 4), len(text) - 1)
        new, cost = text[:pos] + text[pos + n :], n
    else:
        old = text[pos]
        if old.isdigit() and old.isascii():
            pool = "0123456789"  # copy-forward notes mostly change numbers
        elif old in _PUNCT:
            pool = _PUNCT
        else:
            pool = _FILL
        ch = rng.choice([c for c in pool if c != old])
        new, cost = text[:pos] + ch + text[pos + 1 :], 1
    s.pieces[i] = (new, None)
    return cost


def _reorder(rng: random.Random, d: Draft, budget: int) -> int:
    """Swap two adjacent sentences whose combined length fits the budget; returns the cost bound used."""
    cands = []
    for sec in d.sections.values():
        ss = sec.sentences
        for k in range(len(ss) - 1):
            n = len(ss[k].text) + len(ss[k + 1].text)
            if 0 < n <= budget:
                cands.append((sec, k, n))
    if not cands:
        return 0
    sec, k, n = rng.choice(cands)
    sec.sentences[k], sec.sentences[k + 1] = sec.sentences[k + 1], sec.sentences[k]
    return n


def plant_near_duplicate(rng: random.Random, original: Draft) -> tuple[Draft, float, str]:
    """A copy edited by 1–10 % of characters; returns (copy, measured edit rate, comma-joined ops)."""
    base = free_text(original)
    for attempt in range(4):
        target = rng.uniform(0.015, 0.09) * (0.7**attempt)
        budget = max(1, int(target * len(base)))
        copy = copy_draft(original)
        ops: set[str] = set()
        edited: set[int] = set()  # ids of the copy's sentences whose text an edit touched
        spent = 0
        if rng.random() < 0.35:
            cost = _reorder(rng, copy, int(budget * 0.7))
            if cost:
                ops.add("reorder")
                spent += cost
        while spent < budget:
            op = rng.choice(("insert", "delete", "substitute", "substitute"))
            cost = _edit_once(rng, copy, op, edited)
            if not cost:
                break
            ops.add(op)
            spent += cost
        rate = edit_rate(base, free_text(copy))
        while rate < MIN_RATE:
            deficit = int((MIN_RATE * 1.3 - rate) * len(base)) + 1
            if not all(_edit_once(rng, copy, "substitute", edited) for _ in range(deficit)):
                break
            ops.add("substitute")
            rate = edit_rate(base, free_text(copy))
        copy.events = [e for e in copy.events if id(e.sentence) not in edited]
        if MIN_RATE <= rate <= MAX_RATE:
            return copy, rate, ",".join(sorted(ops))
    return copy, rate, ",".join(sorted(ops))
