"""Task 1, 临床发现事件抽取: one row per annotated sentence; the answer lists all of its events (Fig. 3 style).

Records without annotated events contribute no rows (skip reason `no_events`, counted in the stage stats).
"""

from __future__ import annotations

from typing import Any

import xxhash

from cmedins.tasks.formats import Event, format_events
from cmedins.tasks.record_text import clean
from cmedins.tasks.registry import BuildResult, Item, register_task

# Annotation tools write an empty status for an affirmed finding (CHIP-CDEE does) and sometimes pad values.
_STATUS_ALIASES = {"": "肯定", "肯定": "肯定", "否定": "否定", "不确定": "不确定"}


def normalise_status(raw: Any) -> str:
    value = clean(raw)
    return _STATUS_ALIASES.get(value, value)


def _values(raw: Any) -> tuple[str, ...]:
    return tuple(v for v in (clean(x) for x in (raw or [])) if v)


def make_event(subject: Any, descriptors: Any, anatomy: Any, status: Any) -> Event:
    return Event(clean(subject), _values(descriptors), _values(anatomy), normalise_status(status))


def event_item(sentence: str, events: list[Event], key: str) -> Item:
    return Item(query=sentence, answer=format_events(events), key=key, events=tuple(events))


@register_task("event_extraction", "临床发现事件抽取", extraction=True)
def build(record: dict[str, Any], config: Any) -> BuildResult:
    by_sentence: dict[str, list[dict]] = {}  # dicts keep insertion order: sentences in annotation order
    for ev in record.get("events") or []:
        sentence = clean(ev.get("sentence"))
        if sentence:
            by_sentence.setdefault(sentence, []).append(ev)
    chosen = list(enumerate(by_sentence.items()))
    cap = getattr(config, "event_sentences", None)
    if cap is not None and len(chosen) > cap:  # choose first: synthetic records carry ~10 annotated sentences
        rh = str(record.get("record_hash") or "")
        ranked = sorted(chosen, key=lambda c: xxhash.xxh64_intdigest(f"{rh}\x1f{c[1][0]}".encode()))
        chosen = sorted(ranked[:cap], key=lambda c: c[0])
    items = []
    for i, (sentence, raw) in chosen:
        events = [make_event(e.get("subject"), e.get("descriptors"), e.get("anatomy"), e.get("status")) for e in raw]
        events = [e for e in events if e.subject]
        if events:
            items.append(event_item(sentence, events, f"s{i}"))
    return items or "no_events"
