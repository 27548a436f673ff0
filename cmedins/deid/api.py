"""The library API: `deidentify_texts` for lists of texts, used by the CLI, the build stage and the benchmarks.

Texts can be grouped (all sections of one record): names and places found anywhere in a group are searched in all
of its texts, and a group may carry its record's patient-block values (record-aware detection), a pseudonym scope
and a date shift. Large inputs are split by group over `config.workers` processes; results keep input order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from cmedins.deid.anonymize import Replacement, apply, replacement_for
from cmedins.deid.config import DeidConfig
from cmedins.deid.detect import candidate_spans, find_given_names, given_name_terms, propagation_terms
from cmedins.deid.detect_lists import alias_names, headed_column_names, list_siblings, speaker_names
from cmedins.deid.detect_names import is_masked_name
from cmedins.deid.detect_ner import ner_person_spans
from cmedins.deid.record_aware import RecordValues, find_terms, search_terms
from cmedins.deid.spans import Span, resolve
from cmedins.deid.text_norm import fold, simplified, visible_view
from cmedins.secret import build_secret


@dataclass(frozen=True, slots=True)
class DeidEntity:
    """One replaced identifier: input span, output span, type, and the rule that found it. Never the value."""

    start: int
    end: int
    entity_type: str
    out_start: int
    out_end: int
    source: str


@dataclass(frozen=True)
class DeidResult:
    """The de-identified text and what was replaced in it."""

    text: str
    entities: tuple[DeidEntity, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return bool(self.entities)

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        """Output coordinates of the input range [start, end): an identifier cut by the range is taken whole."""
        shift = 0
        out_start = None
        for e in self.entities:
            if e.end <= start:
                shift = e.out_end - e.end
                continue
            if out_start is None:
                out_start = e.out_start if e.start < start else start + shift
            if e.start >= end:
                break
            shift = e.out_end - e.end
            if e.end >= end:
                return out_start, e.out_end
        if out_start is None:
            out_start = start + shift
        return out_start, end + shift


@dataclass(frozen=True)
class GroupInfo:
    """Per-group context: record values, pseudonym/date scope, date shift in days, reference year."""

    values: RecordValues | None = None
    scope: str = ""
    offset: int = 0
    ref_year: int = 2001


def deidentify_texts(
    texts: Sequence[str],
    config: DeidConfig | None = None,
    *,
    groups: Sequence[object] | None = None,
    group_info: dict[object, GroupInfo] | None = None,
    secret: bytes | None = None,
) -> list[DeidResult]:
    """De-identify `texts`. `groups[i]` names the group of text i (default: each text alone); `group_info` maps a
    group to its record values, pseudonym scope, date shift and reference year."""
    cfg = config or DeidConfig()
    key = secret if secret is not None else build_secret()
    keys = list(groups) if groups is not None else list(range(len(texts)))
    if len(keys) != len(texts):
        raise ValueError("deid: groups must have one entry per text")
    info = group_info or {}
    workers = max(1, min(cfg.workers, os.cpu_count() or 1))
    if workers > 1 and len(texts) >= 400:
        return _parallel(list(texts), cfg, keys, info, key, workers)
    return _serial(list(texts), cfg, keys, info, key)


def _serial(texts: list[str], cfg: DeidConfig, keys: list, info: dict, secret: bytes) -> list[DeidResult]:
    order: dict[object, list[int]] = {}
    for i, k in enumerate(keys):
        order.setdefault(k, []).append(i)
    views = [visible_view(t) for t in texts]  # detection never sees an invisible character
    model = ner_person_spans([v.text for v in views], cfg.ner_model) if cfg.ner else [[] for _ in texts]
    results: list[DeidResult | None] = [None] * len(texts)
    for k, idx in order.items():
        gi = info.get(k) or GroupInfo()
        terms = search_terms(gi.values) if (cfg.record_aware and gi.values is not None) else []
        originals = [texts[i] for i in idx]
        group_views = [views[i] for i in idx]
        group_texts = [v.text for v in group_views]
        folded = [fold(simplified(t)) for t in group_texts]
        raw = [(candidate_spans(t, cfg.redact_institutions, terms, f) + v.padded_names() if cfg.rules else [])
               + model[i] if t else [] for i, t, f, v in zip(idx, group_texts, folded, group_views, strict=True)]
        if cfg.keep_masked_names:
            raw = [[s for s in r if not is_masked_name(s, t)] for r, t in zip(raw, group_texts, strict=True)]
        spans = [resolve(r, cfg.threshold) for r in raw]
        for j, t in enumerate(group_texts if cfg.rules else []):
            siblings = [*list_siblings(t, spans[j]), *speaker_names(t, spans[j]), *alias_names(t, spans[j]),
                        *headed_column_names(t, spans[j])]
            if siblings:  # the rest of a list or of a chat's speakers that holds a found name (detect_lists)
                raw[j] += siblings
                spans[j] = resolve(raw[j], cfg.threshold)
        extra = propagation_terms(group_texts, spans)
        given = given_name_terms(group_texts, spans) if cfg.rules else []
        if extra or given:
            for j, (t, f) in enumerate(zip(group_texts, folded, strict=True)):
                found = (find_terms(t, f, extra) + find_given_names(t, given)) if t else []
                if found:  # only texts where a propagated name or place occurs are resolved again
                    spans[j] = resolve(raw[j] + found, cfg.threshold)
        for i, t, view, ss in zip(idx, originals, group_views, spans, strict=True):
            results[i] = _anonymize(t, [view.to_original(sp) for sp in ss], cfg, secret, gi)
    return results  # type: ignore[return-value]


def _anonymize(text: str, spans: list[Span], cfg: DeidConfig, secret: bytes, gi: GroupInfo) -> DeidResult:
    if not spans:
        return DeidResult(text)
    reps = [Replacement(s, replacement_for(s, text[s.start:s.end], cfg, secret, gi.scope, gi.offset, gi.ref_year))
            for s in spans]
    out, coords = apply(text, reps)
    ents = tuple(DeidEntity(r.span.start, r.span.end, r.span.entity_type, a, b, r.span.source.split(":")[0])
                 for r, (a, b) in zip(reps, coords, strict=True))
    return DeidResult(out, ents)


def _work(args: tuple) -> list[DeidResult]:
    texts, cfg, keys, info, secret = args
    return _serial(texts, cfg, keys, info, secret)


def _parallel(texts: list[str], cfg: DeidConfig, keys: list, info: dict, secret: bytes,
              workers: int) -> list[DeidResult]:
    # chunks hold whole groups so propagation inside a group still works
    n_chunks = workers * 4
    target = max(1, len(texts) // n_chunks)
    chunks: list[list[int]] = [[]]
    last_key = object()
    for i, k in enumerate(keys):
        if len(chunks[-1]) >= target and k != last_key:
            chunks.append([])
        chunks[-1].append(i)
        last_key = k
    jobs = []
    for idx in chunks:
        ks = [keys[i] for i in idx]
        sub_info = {k: info[k] for k in dict.fromkeys(ks) if k in info}
        jobs.append(([texts[i] for i in idx], cfg, ks, sub_info, secret))
    results: list[DeidResult] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        for part in pool.map(_work, jobs):
            results.extend(part)
    return results
