"""Task 1, 临床发现事件抽取: one row per annotated sentence; the answer lists all of its events.

Records without annotated events contribute no rows (skip reason `no_events`, counted in the stage stats). The
builder returns every annotated sentence of the record, best first (a stable order by record hash and sentence);
the collector keeps the first `event_sentences` that pass the checks and the per-query cap, so a sentence every
record shares (`双下肢无水肿。`) gives way to one of the record's own once it has been used `query_cap` times.
Answers come in four formats: Fig. 3 style (default), PromptCBLUE's CHIP-CDEE lines (`cblue`), a numbered list and
JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import xxhash

from cmedins.tasks.formats import Event, format_events, format_events_cblue, format_events_json, format_events_list
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


def event_item(sentence: str, events: list[Event], key: str, order: int = 0) -> Item:
    """One sentence and its events, in every answer format."""
    def answers() -> dict[str, str]:
        return {"cblue": format_events_cblue(events), "list": format_events_list(events),
                "json": format_events_json(events)}

    return Item(query=sentence, answer=format_events(events), key=key, events=tuple(events), answers=answers,
                order=order)


@register_task("event_extraction", "临床发现事件抽取", extraction=True, ranked=True)
def build(record: dict[str, Any], config: Any) -> BuildResult:
    by_sentence: dict[str, list[dict]] = {}  # dicts keep insertion order: sentences in annotation order
    for ev in record.get("events") or []:
        sentence = clean(ev.get("sentence"))
        if sentence and clean(ev.get("subject")):
            by_sentence.setdefault(sentence, []).append(ev)
    if not by_sentence:
        return "no_events"
    rh = str(record.get("record_hash") or "")
    ranked = sorted(enumerate(by_sentence.items()), key=lambda c: xxhash.xxh64_intdigest(f"{rh}\x1f{c[1][0]}".encode()))
    return _items(ranked)


def _items(ranked: list[tuple[int, tuple[str, list[dict]]]]) -> Iterator[Item]:
    """The candidates best first, built only as far as the collector reads (it stops at `event_sentences`)."""
    for i, (sentence, raw) in ranked:
        events = [make_event(e.get("subject"), e.get("descriptors"), e.get("anatomy"), e.get("status")) for e in raw]
        yield event_item(sentence, [e for e in events if e.subject], f"s{i}", order=i)
