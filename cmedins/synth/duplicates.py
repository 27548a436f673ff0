"""Planted near duplicates: copy-forward notes and repeat visits whose text differs by 1–10 % of characters.

Edits are the ones a doctor makes to a copied note and keep every word whole (`vocab_edits`): a synonym for a word, a
qualifier or clause added or dropped, a count updated, a character mistyped as another of the same pinyin, two
findings listed in the other order. A repeat-visit copy moves every date of the note with the visit, so its timeline
stays whole too. Edits only touch plain prose pieces, so identifier and medical-term spans stay exact in the copy;
a sentence whose text an edit touched drops its events (an added 稍 or a mistyped cue would make them wrong), while
reordering moves whole sentences and keeps them. The edit rate written to the ground truth is *measured*
(Levenshtein distance / length of the original's concatenated free text), not the planned budget.
This module deliberately shares no similarity code with the deduplicator.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from rapidfuzz.distance import Levenshtein

from cmedins.contracts import TEXT_FIELDS
from cmedins.synth.compose import Draft
from cmedins.synth.identifiers import shift_date_surface
from cmedins.synth.rand import below, pick
from cmedins.synth.text import Event, Section, Sentence
from cmedins.synth.vocab_edits import (
    CLAUSES,
    DROPPABLE,
    NUMBER_UNITS,
    QUALIFIERS,
    REORDERABLE,
    SYNONYMS,
    TYPOS,
)

MIN_RATE, MAX_RATE = 0.01, 0.10
_EDITABLE = tuple(f for f in TEXT_FIELDS if f != "chief_complaint")  # the complaint is quoted elsewhere verbatim
_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?=" + "|".join(NUMBER_UNITS) + ")")
_CJK = re.compile(r"[\u4e00-\u9fff]")


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


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def shift_visit(d: Draft, days: int, edited: set[int]) -> int:
    """Move the copy's visit and every date its text states by `days` (fewer if the patient's age would change)."""
    f = d.fields
    birth, adm = f.get("patient_birth_date"), f["admission_date"]
    if birth is not None and (adm - birth).days < 365:
        return 0  # an infant's note is not copied forward months later (新生儿 would no longer hold)
    while days > 0 and birth is not None and _age(birth, adm + timedelta(days=days)) != _age(birth, adm):
        days //= 2
    if days <= 0:
        return 0
    f["admission_date"] = adm + timedelta(days=days)
    if f.get("discharge_date") is not None:
        f["discharge_date"] = f["discharge_date"] + timedelta(days=days)
    for sec in d.sections.values():
        for s in sec.sentences:
            for i, (text, tag) in enumerate(s.pieces):
                if tag == "P:DATE":
                    new = shift_date_surface(text, days, adm)
                    if new is not None and new != text:
                        s.pieces[i] = (new, tag)
                        edited.add(id(s))
    return days


def _slots(d: Draft) -> list[tuple[Sentence, int, str]]:
    return [
        (s, i, name)
        for name in _EDITABLE
        for s in d.sections[name].sentences
        for i, p in enumerate(s.pieces)
        if p[1] is None and len(p[0].strip()) >= 2
    ]


def _words_at(text: str, word: str) -> list[int]:
    out, k = [], text.find(word)
    while k != -1:
        out.append(k)
        k = text.find(word, k + len(word))
    return out


def _insert(rng: random.Random, text: str) -> str | None:
    """A qualifier before a word (加重 -> 明显加重) or a clause before the full stop (…，较前好转。)."""
    spots = [(k, pos) for k in QUALIFIERS if k in text for pos in _words_at(text, k)]
    if spots and rng.random() < 0.6:
        word, pos = pick(rng, spots)
        q = pick(rng, QUALIFIERS[word])
        if text[max(0, pos - len(q)) : pos] == q or any(text[max(0, pos - len(x)) : pos] == x for x in DROPPABLE):
            return None
        return text[:pos] + q + text[pos:]
    if text.endswith("。") and len(text) > 4 and _CJK.match(text[-2]):
        return text[:-1] + "，" + pick(rng, CLAUSES) + "。"
    return None


def _delete(rng: random.Random, text: str) -> str | None:
    """Drop a qualifier (无明显诱因 -> 无诱因) or a whole clause between commas."""
    spots = [(w, pos) for w in DROPPABLE if w in text for pos in _words_at(text, w)]
    if spots and rng.random() < 0.5:
        w, pos = pick(rng, spots)
        return text[:pos] + text[pos + len(w) :]
    parts = re.split(r"(，)", text)
    clauses = [k for k in range(2, len(parts) - 1, 2) if parts[k] and not parts[k].endswith(("。", "；"))]
    if clauses:
        k = pick(rng, clauses)
        return "".join(parts[: k - 1] + parts[k + 1 :])
    return None


def _substitute(rng: random.Random, text: str) -> str | None:
    """A synonym (most edits), an updated count, or a same-pinyin character typed for the intended one (now and
    then, and never next to a number: 5天前 stays legible as a time)."""
    r = rng.random()
    if r < 0.6:
        spots = [(a, b, pos) for a, b in SYNONYMS if a in text for pos in _words_at(text, a)]
        if not spots:
            return None
        a, b, pos = pick(rng, spots)
        return text[:pos] + b + text[pos + len(a) :]
    if r < 0.8:
        nums = list(_NUMBER.finditer(text))
        if not nums:
            return None
        m = pick(rng, nums)
        old = m.group(1)
        if "." in old:
            new = f"{max(0.1, float(old) + pick(rng, (-0.3, -0.2, 0.2, 0.3))):.1f}"
        else:
            new = str(max(1, int(old) + pick(rng, (-5, -2, -1, 1, 2, 5))))
        return text[: m.start()] + new + text[m.end() :] if new != old else None
    spots = [
        k
        for k, ch in enumerate(text)
        if ch in TYPOS and not (text[k - 1 : k].isdigit() or text[k + 1 : k + 2].isdigit())
        and not text[max(0, k - 2) : k].endswith(("余", "个"))
        and not (ch in "前后" and text[k - 1 : k] in ("天", "周", "月", "年", "时"))  # 3天前 keeps its 前
    ]
    if not spots:
        return None
    k = pick(rng, spots)
    return text[:k] + TYPOS[text[k]] + text[k + 1 :]


_OPS = {"insert": _insert, "delete": _delete, "substitute": _substitute}


def _edit_once(rng: random.Random, slots: list[tuple[Sentence, int, str]], op: str, edited: set[int]) -> int:
    """One edit of one plain piece not edited before (edits stacked on one phrase would garble it); the edited
    piece leaves `slots`."""
    if not slots:
        return 0
    for _ in range(12):
        k = below(rng, len(slots))
        s, i, _name = slots[k]
        old = s.pieces[i][0]
        new = _OPS[op](rng, old)
        if new is not None and new != old:
            s.pieces[i] = (new, None)
            edited.add(id(s))
            slots[k] = slots[-1]
            slots.pop()
            return Levenshtein.distance(old, new)
    return 0


def _reorder(rng: random.Random, d: Draft, budget: int) -> int:
    """Swap two adjacent sentences of a list-like section within the budget; returns the cost bound used."""
    cands = []
    for name in REORDERABLE:
        ss = d.sections[name].sentences
        for k in range(1, len(ss) - 1):  # the first sentence (vital signs, the lead) stays first
            n = len(ss[k].text) + len(ss[k + 1].text)
            if 0 < n <= budget:
                cands.append((name, k, n))
    if not cands:
        return 0
    name, k, n = pick(rng, cands)
    ss = d.sections[name].sentences
    ss[k], ss[k + 1] = ss[k + 1], ss[k]
    return n


def plant_near_duplicate(rng: random.Random, original: Draft, shift: int = 0) -> tuple[Draft, float, str]:
    """A copy edited by 1–10 % of characters (its visit moved `shift` days later, dates in the text with it);
    returns (copy, measured edit rate, comma-joined ops)."""
    base = free_text(original)
    copy, rate, ops = original, 0.0, set()
    for attempt in range(4):
        target = rng.uniform(0.015, 0.09) * (0.7**attempt)
        budget = max(1, int(target * len(base)))
        copy = copy_draft(original)
        ops: set[str] = set()
        edited: set[int] = set()  # ids of the copy's sentences whose text an edit touched
        if shift and shift_visit(copy, shift, edited):
            ops.add("redate")  # the repeat visit's dates, moved together
        spent = Levenshtein.distance(base, free_text(copy)) if shift else 0
        if rng.random() < 0.35:
            cost = _reorder(rng, copy, int(budget * 0.7))
            if cost:
                ops.add("reorder")
                spent += cost
        slots = _slots(copy)  # the plain pieces still unedited
        misses = 0
        while spent < budget and misses < 8:
            op = pick(rng, ("insert", "delete", "substitute", "substitute"))
            cost = _edit_once(rng, slots, op, edited)
            if not cost:
                misses += 1
                continue
            ops.add(op)
            spent += cost
        rate = edit_rate(base, free_text(copy))
        tries = 0
        while rate < MIN_RATE and tries < 40:
            tries += 1
            op = pick(rng, ("insert", "substitute"))
            if _edit_once(rng, slots, op, edited):
                ops.add(op)
                rate = edit_rate(base, free_text(copy))
        copy.events = [e for e in copy.events if id(e.sentence) not in edited]
        if MIN_RATE <= rate <= MAX_RATE:
            return copy, rate, ",".join(sorted(ops))
    return copy, rate, ",".join(sorted(ops))
