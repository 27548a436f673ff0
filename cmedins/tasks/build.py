"""Turn items into rows: sampling by weight, template choice, checks, quarantine and counters.

Shared by the record stage (`tasks`) and the public-source stage (`tasks_public`), so that both apply the same
templates, checks and provenance rules.
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cmedins.stage import reject
from cmedins.tasks.checks import check_item
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.registry import Item, TaskSpec, get_task
from cmedins.tasks.templates import choose, load_templates, unit

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


@dataclass
class Collector:
    """Rows, quarantine entries and counters of one stage call."""

    config: TasksConfig
    seed: int
    rows: Any = None  # RowBuffer
    quarantine: list[dict] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)
    inputs_used: int = 0  # records that yielded at least one row (the runner's fan-out accounting)
    inputs_quarantined: int = 0  # records that yielded none: each has a quarantine row saying why

    def __post_init__(self) -> None:
        from cmedins.tasks.rows import RowBuffer

        self.rows = RowBuffer(self.config.system_prompt)

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

    def emit(self, spec: TaskSpec, items: list[Item], origin: Origin, copies: int) -> int:
        """Check and template each item; returns how many rows were kept."""
        cfg, kept = self.config, 0
        for item in items:
            failed = check_item(spec.name, item, extraction=spec.extraction, max_query=cfg.max_query_chars,
                                max_answer=cfg.max_answer_chars, min_overlap=cfg.min_subject_overlap)
            if failed:
                reason, fld = failed
                self.refuse(origin, spec.name, reason, fld, {"task": spec.name, "query": item.query,
                                                              "answer": item.answer})
                continue
            for c in range(copies):
                tpl = choose(spec.name, self.seed, origin.record_hash, item.key, cfg.english_fraction, offset=c)
                self.rows.add(task=spec.name, task_zh=spec.zh, instruction=tpl.text, query=item.query,
                              answer=item.answer, language=tpl.language, template_id=tpl.id, source=origin.source,
                              source_record_hash=origin.record_hash, department=origin.department,
                              deid_version=origin.deid_version, key=item.key, copy=c)
                self.stats[f"rows:{spec.name}"] += 1
                self.stats[f"lang:{tpl.language}"] += 1
                if origin.department:
                    self.stats[f"dept:{origin.department}"] += 1
                kept += 1
        return kept


def enabled_specs(config: TasksConfig) -> list[TaskSpec]:
    """The enabled tasks in config order, after importing plugin modules; fails early on a task without templates."""
    for module in config.plugins:
        importlib.import_module(module)
    specs = [get_task(name) for name in config.tasks]
    for spec in specs:
        load_templates(spec.name)
    return specs


def build_records(records: list[dict[str, Any]], config: TasksConfig, seed: int, row_offset: int = 0) -> Collector:
    """All enabled tasks over de-identified records; every record yields a row or a quarantine entry.

    `row_offset` is the number of records before this slice, so quarantine rows name the record's row in the
    whole upstream table."""
    out = Collector(config, seed)
    specs = enabled_specs(config)
    # the counters the build report reads exist even when zero, so every batch reports the same keys
    base = ("records", "records_with_rows", "records_without_rows", "no_events")
    for key in (*base, *(f"rows:{s.name}" for s in specs)):
        out.stats[key] += 0
    for pos, record in enumerate(records, start=row_offset + 1):
        rh = record.get("record_hash") or ""
        origin = Origin("records", "deid", pos, rh, record.get("department"), record.get("deid_version"))
        kept, refused_before, skips = 0, len(out.quarantine), []
        if not rh:  # no provenance key, no rows: every row must trace back to its record
            out.refuse(origin, "all", "missing_record_hash", "record_hash", None)
            out.stats["records"] += 1
            out.stats["records_without_rows"] += 1
            out.inputs_quarantined += 1
            continue
        for spec in specs:
            n = out.copies(spec.name, rh)
            if n == 0:
                out.stats[f"sampled_out:{spec.name}"] += 1
                skips.append(f"{spec.name}:sampled_out")
                continue
            try:
                result = spec.build(record, config)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # malformed nested fields
                out.refuse(origin, spec.name, "bad_record", None, {"error": type(exc).__name__})
                continue
            if isinstance(result, str):
                out.stats[f"skipped:{spec.name}:{result}"] += 1
                if result == "no_events":
                    out.stats["no_events"] += 1
                skips.append(f"{spec.name}:{result}")
                continue
            kept += out.emit(spec, result, origin, n)
        out.stats["records"] += 1
        if kept:
            out.stats["records_with_rows"] += 1
            out.inputs_used += 1
        else:
            out.stats["records_without_rows"] += 1
            out.inputs_quarantined += 1
            if len(out.quarantine) == refused_before:
                out.refuse(origin, "all", "no_rows", None, {"skipped": skips})
    return out
