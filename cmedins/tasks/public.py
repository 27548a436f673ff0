"""Public annotated sources as task rows: CHIP-CDEE sentences for task 1, CHIP-CDN wordings for task 4.

They go through the same templates, checks and provenance as the records. Their quirks are handled here: the
empty tendency that means 肯定, tendency values with trailing spaces, a BOM at the start of a text, `##`-joined
multi-diagnoses, standard names missing from the ICD-10 list (quarantined as unknown_icd10_name) and unlabelled
entries (the test splits: quarantined as no_events / no_label).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cmedins.tasks.build import Collector, Origin, enabled_specs
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.diagnosis_normalization import coded_item
from cmedins.tasks.event_extraction import event_item, make_event
from cmedins.tasks.formats import Coded
from cmedins.tasks.icd10 import load_icd10
from cmedins.tasks.record_text import clean
from cmedins.tasks.registry import TaskSpec


def read_json_array(path: Path) -> list[Any]:
    """The entries of a JSON array file; a missing or malformed file is a one-line error naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name}: not valid UTF-8 JSON ({type(exc).__name__} at {getattr(exc, 'pos', '?')})") \
            from None
    if not isinstance(data, list):
        raise ValueError(f"{path.name}: expected a JSON array of entries")
    return data


def entry_hash(source: str, entry: Any) -> str:
    """Provenance key of a public entry: a hash of its content, stable across files and builds."""
    body = json.dumps(entry, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{source}\x1f{body}".encode()).hexdigest()[:32]


def _entries(out: Collector, path: Path, limit: int | None) -> list[Any]:
    entries = read_json_array(path)
    entries = entries[:limit] if limit is not None else entries
    out.stats[f"entries:{path.name}"] += len(entries)
    return entries


def add_cdee(out: Collector, spec: TaskSpec, path: Path, limit: int | None) -> None:
    for pos, entry in enumerate(_entries(out, path, limit), start=1):
        origin = Origin("chip-cdee", path.name, pos, entry_hash("chip-cdee", entry))
        if not isinstance(entry, dict) or not isinstance(entry.get("event", []), list):
            out.refuse(origin, spec.name, "bad_entry", None, {"entry": entry})
            continue
        events = []
        for ev in entry.get("event") or []:
            if not isinstance(ev, dict):
                continue
            event = make_event(ev.get("core_name"), ev.get("character"), ev.get("anatomy_list"), ev.get("tendency"))
            if event.subject:
                events.append(event)
        if not events:
            out.stats["no_events"] += 1
            out.refuse(origin, spec.name, "no_events", "event", None)
            continue
        n = out.copies(spec.name, origin.record_hash)
        if n == 0:
            out.stats[f"sampled_out:{spec.name}"] += 1
            continue
        out.emit(spec, [event_item(clean(entry.get("text")), events, "s0")], origin, n)


def add_cdn(out: Collector, spec: TaskSpec, path: Path, by_name: dict[str, str], limit: int | None) -> None:
    for pos, entry in enumerate(_entries(out, path, limit), start=1):
        origin = Origin("chip-cdn", path.name, pos, entry_hash("chip-cdn", entry))
        if not isinstance(entry, dict):
            out.refuse(origin, spec.name, "bad_entry", None, {"entry": entry})
            continue
        names = [clean(x) for x in str(entry.get("normalized_result") or "").split("##")]
        names = list(dict.fromkeys(x for x in names if x))  # drop empties and repeats, keep order
        if not names:
            out.refuse(origin, spec.name, "no_label", "normalized_result", None)
            continue
        missing = [x for x in names if x not in by_name]
        if missing:
            out.refuse(origin, spec.name, "unknown_icd10_name", "normalized_result",
                       {"text": entry.get("text"), "missing": missing})
            continue
        n = out.copies(spec.name, origin.record_hash)
        if n == 0:
            out.stats[f"sampled_out:{spec.name}"] += 1
            continue
        coded = [Coded(x, by_name[x]) for x in names]
        out.emit(spec, [coded_item([clean(entry.get("text"))], coded)], origin, n)


def build_public(config: TasksConfig, seed: int) -> Collector:
    """Task rows from the public files the config names, for the enabled tasks only, files in config order."""
    out = Collector(config, seed)
    specs = {s.name: s for s in enabled_specs(config)}
    if "event_extraction" in specs:
        for p in config.cdee_paths:
            add_cdee(out, specs["event_extraction"], Path(p), config.public_limit)
    if "diagnosis_normalization" in specs and config.cdn_paths:
        icd = load_icd10(Path(config.icd10_path or ""))
        out.stats["icd10_names"] = len(icd.by_name)
        for p in config.cdn_paths:
            add_cdn(out, specs["diagnosis_normalization"], Path(p), icd.by_name, config.public_limit)
    out.finish([s for s in specs.values() if s.name in ("event_extraction", "diagnosis_normalization")])
    return out
