"""Turn items into rows: sampling by weight, checks, template and format choice, caps, quarantine and counters.

Shared by the record stage (`tasks`) and the public-source stage (`tasks_public`), so that both apply the same
templates, checks and provenance rules. Per item, in order:

1. item checks (`checks.check_item`): empty or placeholder-only text, lengths, event grounding, code format;
2. leakage (`answer_in_query`) and safety (`unsafe_answer`, counted by kind) — properties of the pair;
3. the per-task cap on rows sharing one normalised query (`query_cap`): over it the item is dropped, or for a
   ranked task (event extraction) replaced by the record's next candidate;
4. the template, seeded by record hash among those asking for a format the item has; a template that would make
   the row an exact copy (task, instruction, query, answer) of an earlier row is passed over for the next one;
5. answer checks on the chosen format: it parses back to the item's values (`unparseable`), holds no
   de-identification placeholder (`placeholder_in_answer`) and states no fact its query lacks
   (`ungrounded_answer`, counted by kind).

All of this needs the rows built before, so the `tasks` stage runs over the whole table; but only the rows of the
same task, so groups of tasks can run apart, each over every record in order (`build_record`, `stage.py`).
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import xxhash

from cmedins.stage import reject
from cmedins.tasks.checks import check_answer, check_item
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.grounding import Lexicon, trim
from cmedins.tasks.leakage import leaks
from cmedins.tasks.record_text import norm
from cmedins.tasks.registry import Item, TaskSpec, get_task
from cmedins.tasks.rules import Rules, load_rules
from cmedins.tasks.safety import check as safety_check
from cmedins.tasks.safety import patient_of
from cmedins.tasks.templates import Template, load_templates, pool_for, unit

STAGE = "tasks"


@dataclass
class Origin:
    """Where items come from: provenance of the rows and the position named in quarantine messages."""

    source: str  # task_row.source: records, chip-cdee, chip-cdn
    source_name: str  # quarantine.source: "deid" or the public file name
    row: int  # 1-based position in that source
    record_hash: str
    department: str | None = None
    deid_version: str | None = None
    patient_key: str | None = None  # public entries have none: their rows repeat record_hash
    record: dict[str, Any] | None = None  # the de-identified record (safety checks read the patient from it)


@dataclass
class _Prepared:
    """An item that passed every check, with its template and answer, waiting to become a row."""

    item: Item
    template: Template
    answer: str
    fmt: str
    copy: int
    query_hash: int  # xxh64 of the query and of the normalised query (`_norm_hash`): computed once per item,
    query_key: int  # not once per check and row (a diagnosis query is thousands of characters)


@dataclass
class _Variety:
    """What the variety figures of one task count, kept as rows are added (the rows themselves are written out
    slice by slice): 64-bit hashes of distinct instructions, queries and answers (exact but for a collision,
    ~1e-7 at a million rows), template ids, and rows per normalised query."""

    instructions: set[int] = field(default_factory=set)
    queries: set[int] = field(default_factory=set)
    answers: set[int] = field(default_factory=set)
    templates: set[str] = field(default_factory=set)
    per_query: Counter = field(default_factory=Counter)

    def add(self, instruction: str, query_hash: int, answer: str, template_id: str, query_key: int) -> None:
        """One row; the query by its xxh64 and the xxh64 of its normalised text (`_norm_hash`)."""
        self.instructions.add(xxhash.xxh64_intdigest(instruction.encode("utf-8")))
        self.queries.add(query_hash)
        self.answers.add(xxhash.xxh64_intdigest(answer.encode("utf-8")))
        self.templates.add(template_id)
        self.per_query[query_key] += 1


def _norm_hash(query: str) -> int:
    """The key of a query for the per-task cap and the most-repeated-query figure: xxh64 of its normalised text."""
    return xxhash.xxh64_intdigest(norm(query).encode("utf-8"))


@dataclass
class Collector:
    """Rows, quarantine entries and counters of one stage call, and what the cross-row rules remember."""

    config: TasksConfig
    seed: int
    lexicon: Lexicon | None = None
    rows: Any = None  # RowBuffer
    quarantine: list[dict] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)
    inputs_used: int = 0  # records that yielded at least one row (the runner's fan-out accounting)
    inputs_quarantined: int = 0  # records that yielded none: each has a quarantine row saying why
    seen: set[int] = field(default_factory=set)  # hashes of (task, instruction, query, answer) of emitted rows
    per_query: Counter = field(default_factory=Counter)  # (task, normalised query hash) -> rows
    variety: dict[str, _Variety] = field(default_factory=dict)  # per task, over every row added

    def __post_init__(self) -> None:
        from cmedins.tasks.rows import RowBuffer

        self.rows = RowBuffer(self.config.system_prompt)
        if self.lexicon is None:
            self.lexicon = Lexicon(self.rules)

    @property
    def rules(self) -> Rules:
        return load_rules(self.config.rules_dir)

    def copies(self, task: str, record_hash: str) -> int:
        """Rows per eligible item for this record: weight's integer part, plus one with its fractional chance."""
        w = self.config.weights.get(task, 1.0)
        whole = math.floor(w)
        return whole + (1 if unit(self.seed, "weight", record_hash, task) < w - whole else 0)

    def refuse(self, origin: Origin, task: str, reason: str, fld: str | None, payload: dict | None) -> None:
        where = f"{origin.source_name} row {origin.row} (record {origin.record_hash[:12]})"
        reject(self.quarantine, self.stats, stage=STAGE, source=origin.source_name, row=origin.row,
               key=origin.record_hash, reason=reason, field=fld, payload=payload,
               message=f"{where}: task {task}: field {fld or '-'}: {reason}")
        self.stats[f"quarantined:{task}"] += 1
        self.stats[f"refused:{task}:{reason}"] += 1

    def _refuse_item(self, origin: Origin, spec: TaskSpec, item: Item, reason: str, fld: str,
                     extra: dict | None = None) -> None:
        self.refuse(origin, spec.name, reason, fld, {"task": spec.name, "query": item.query, "answer": item.answer,
                                                     **(extra or {})})

    def _capped(self, task: str, query_key: int) -> bool:
        cap = self.config.query_cap.get(task)
        return cap is not None and self.per_query[task, query_key] >= cap

    def _prepare(self, spec: TaskSpec, item: Item, origin: Origin, copies: int) -> list[_Prepared] | str:
        """The rows of one item, or why it gives none: `refused` (quarantined here) or `capped`."""
        cfg, name = self.config, spec.name
        for key, n in item.counters:
            self.stats[key] += n
        if item.trim and self.lexicon is not None:
            text, dropped = trim(item.answer, item.query, self.lexicon)
            self.stats[f"trimmed_sentences:{name}"] += dropped
            if item.fallback and len(norm(text)) < max(20, 0.4 * len(norm(item.answer))):
                self.stats[f"fallback_composed:{name}"] += 1
                text = item.fallback
            item = replace(item, answer=text)
        failed = check_item(name, item, extraction=spec.extraction, max_query=cfg.max_query_chars,
                            max_answer=cfg.max_answer_chars, min_overlap=cfg.min_subject_overlap)
        if failed:
            self._refuse_item(origin, spec, item, *failed)
            return "refused"
        if cfg.leakage != "off" and leaks(item.query, item.leak_terms):
            self.stats[f"leakage_quarantined:{name}"] += 1
            self._refuse_item(origin, spec, item, "answer_in_query", "query")
            return "refused"
        if item.drugs and origin.record is not None:
            unsafe = [f for f in safety_check(item.drugs, patient_of(origin.record, self.rules), self.rules)
                      if f.action == "quarantine"]
            if unsafe:
                for f in unsafe:
                    self.stats[f"unsafe:{f.kind}"] += 1
                self._refuse_item(origin, spec, item, "unsafe_answer", "answer",
                                  {"kinds": sorted({f.kind for f in unsafe})})
                return "refused"
        query_key = _norm_hash(item.query)
        if self._capped(name, query_key):
            self.stats[f"capped:{name}"] += 1
            return "capped"
        answers = item.formats()
        prepared: list[_Prepared] = []
        query_hash = xxhash.xxh64_intdigest(item.query.encode("utf-8"))
        query_digest = f"{query_hash:016x}"  # = xxh64_hexdigest
        answer_digest = {f: xxhash.xxh64_hexdigest(a.encode("utf-8")) for f, a in answers.items()}
        for c in range(copies):
            pool = pool_for(name, self.seed, origin.record_hash, item.key, cfg.english_fraction, set(answers))
            chosen = None
            for step in range(len(pool)):
                tpl = pool[(c + step) % len(pool)]
                answer = answers.get(tpl.format, item.answer)
                # the query and the answer by their digests: hashing them whole at every step costs more than a row
                h = xxhash.xxh64_intdigest(f"{name}\x1f{tpl.instruction}\x1f{query_digest}\x1f"
                                           f"{answer_digest.get(tpl.format, '')}".encode())
                if h not in self.seen:
                    chosen = (tpl, answer, h)
                    if step:
                        self.stats[f"retemplated:{name}"] += 1
                    break
            if chosen is None:
                self.stats[f"duplicate:{name}"] += 1
                continue
            tpl, answer, h = chosen
            failed = check_answer(name, tpl.format, answer, item, self.lexicon, spec.extraction, cfg.max_answer_chars)
            if failed:
                reason, fld, kinds = failed
                for kind in kinds:
                    self.stats[f"ungrounded:{name}:{kind}"] += 1
                self._refuse_item(origin, spec, item, reason, fld,
                                  {"format": tpl.format, "facts": kinds} if kinds else {"format": tpl.format})
                return "refused"
            self.seen.add(h)
            prepared.append(_Prepared(item, tpl, answer, tpl.format, c, query_hash, query_key))
        if not prepared:
            return "duplicate"
        if cfg.query_cap.get(name) is not None:
            self.per_query[name, query_key] += len(prepared)
        return prepared

    def _add(self, spec: TaskSpec, p: _Prepared, origin: Origin) -> None:
        self.rows.add(task=spec.name, task_zh=spec.zh, template=p.template, query=p.item.query, answer=p.answer,
                      answer_format=p.fmt, source=origin.source, source_record_hash=origin.record_hash,
                      patient_key=origin.patient_key or origin.record_hash, department=origin.department,
                      deid_version=origin.deid_version, key=p.item.key, copy=p.copy)
        self.stats[f"rows:{spec.name}"] += 1
        self.stats[f"lang:{p.template.language}"] += 1
        self.stats[f"format:{spec.name}:{p.fmt}"] += 1
        if origin.department:
            self.stats[f"dept:{origin.department}"] += 1
        self.variety.setdefault(spec.name, _Variety()).add(p.template.instruction, p.query_hash, p.answer,
                                                           p.template.id, p.query_key)

    def emit(self, spec: TaskSpec, items: list[Item], origin: Origin, copies: int, limit: int | None = None) -> int:
        """Check, cap and template each item; returns how many rows were kept. With `limit` (ranked tasks) the
        items come best first and at most `limit` of them are kept, written in their `order`."""
        kept: list[_Prepared] = []
        taken = 0
        for item in items:
            if limit is not None and taken >= limit:
                break
            got = self._prepare(spec, item, origin, copies)
            if isinstance(got, list):
                kept += got
                taken += 1
        kept.sort(key=lambda p: (p.item.order, p.copy))  # stable: unranked items (order 0) keep their order
        for p in kept:
            self._add(spec, p, origin)
        return len(kept)

    def finish(self, specs: list[TaskSpec]) -> None:
        """Per-task variety figures of the rows built: distinct instructions, queries and answers, templates used,
        and the rows of the most repeated normalised query (over every row: the stage sees the whole table)."""
        for spec in specs:
            v = self.variety.get(spec.name, _Variety())
            self.stats[f"distinct_instructions:{spec.name}"] = len(v.instructions)
            self.stats[f"distinct_queries:{spec.name}"] = len(v.queries)
            self.stats[f"distinct_answers:{spec.name}"] = len(v.answers)
            self.stats[f"templates_used:{spec.name}"] = len(v.templates)
            self.stats[f"top_query_rows:{spec.name}"] = max(v.per_query.values(), default=0)


def enabled_specs(config: TasksConfig) -> list[TaskSpec]:
    """The enabled tasks in config order, after importing plugin modules; fails early on a task without templates."""
    for module in config.plugins:
        importlib.import_module(module)
    specs = [get_task(name) for name in config.tasks]
    for spec in specs:
        load_templates(spec.name)
    return specs


def origin_of(record: dict[str, Any], pos: int) -> Origin:
    """Provenance of the record at 1-based position `pos` of the input table."""
    return Origin("records", "deid", pos, record.get("record_hash") or "", record.get("department"),
                  record.get("deid_version"), record.get("patient_key") or None, record)


def missing_provenance(record: dict[str, Any]) -> str | None:
    """The provenance field a record lacks (it then yields no rows: every row must trace back to its record and
    patient), or None."""
    return "record_hash" if not record.get("record_hash") else "patient_key" if not record.get("patient_key") else None


@dataclass
class TaskTally:
    """What one task did with one record: rows kept, quarantine entries written, why it gave no row."""

    rows: int = 0
    refused: int = 0
    skip: str | None = None


def build_record(record: dict[str, Any], pos: int, specs: list[TaskSpec], out: Collector) -> list[TaskTally]:
    """`specs` over one record (a record with its provenance), appending rows and quarantine entries to `out`.

    Every cross-row rule (caps, the duplicate check, variety) keeps its state per task, so groups of tasks may
    run apart, each over every record in order, and give the rows one pass over all tasks gives (`stage.py`)."""
    origin, config = origin_of(record, pos), out.config
    tallies = []
    for spec in specs:
        rows_before, refused_before, skip = len(out.rows), len(out.quarantine), None
        n = out.copies(spec.name, origin.record_hash)
        if n == 0:
            out.stats[f"sampled_out:{spec.name}"] += 1
            skip = f"{spec.name}:sampled_out"
        else:
            try:
                result = spec.build(record, config)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # malformed nested fields
                out.refuse(origin, spec.name, "bad_record", None, {"error": type(exc).__name__})
                result = None
            if isinstance(result, str):
                out.stats[f"skipped:{spec.name}:{result}"] += 1
                if result == "no_events":
                    out.stats["no_events"] += 1
                skip = f"{spec.name}:{result}"
            elif result is not None:
                limit = config.event_sentences if spec.ranked else None
                if not out.emit(spec, result, origin, n, limit):
                    skip = f"{spec.name}:no_row"
        tallies.append(TaskTally(len(out.rows) - rows_before, len(out.quarantine) - refused_before, skip))
    return tallies


def account_record(out: Collector, pos: int, tallies: list[TaskTally] | None,
                   record: Callable[[], dict[str, Any]]) -> None:
    """The record's accounting once every task has seen it (`tallies` in task order; None for a record without
    provenance): used when a task kept a row; else quarantined, with an entry saying why when no task did.
    `record()` gives the record, asked for only to name it in such an entry."""
    out.stats["records"] += 1
    if tallies is not None and any(t.rows for t in tallies):
        out.stats["records_with_rows"] += 1
        out.inputs_used += 1
        return
    if tallies is None:
        rec = record()
        missing = missing_provenance(rec) or "record_hash"
        out.refuse(origin_of(rec, pos), "all", f"missing_{missing}", missing, None)
    elif not any(t.refused for t in tallies):
        out.refuse(origin_of(record(), pos), "all", "no_rows", None, {"skipped": [t.skip for t in tallies if t.skip]})
    out.stats["records_without_rows"] += 1
    out.inputs_quarantined += 1


def count_zero(stats: Counter, specs: list[TaskSpec]) -> None:
    """The counters the build report reads exist even when zero, so every batch reports the same keys."""
    base = ("records", "records_with_rows", "records_without_rows", "no_events")
    for key in (*base, *(f"rows:{s.name}" for s in specs)):
        stats[key] += 0


def build_records(records: list[dict[str, Any]], config: TasksConfig, seed: int, row_offset: int = 0,
                  out: Collector | None = None, finish: bool = True) -> Collector:
    """All enabled tasks over de-identified records, in this process; every record yields a row or a quarantine
    entry.

    `row_offset` is the number of records before this slice, so quarantine rows name the record's row in the
    whole upstream table. Pass the same `out` for consecutive slices of one table (the caps, the duplicate check
    and the variety figures span them); without one, the lexicon is built from `records`."""
    if out is None:
        out = Collector(config, seed, lexicon=Lexicon.from_records(records, load_rules(config.rules_dir)))
    specs = enabled_specs(config)
    count_zero(out.stats, specs)
    for pos, record in enumerate(records, start=row_offset + 1):
        tallies = None if missing_provenance(record) else build_record(record, pos, specs, out)
        account_record(out, pos, tallies, lambda record=record: record)
    if finish:
        out.finish(specs)
    return out
