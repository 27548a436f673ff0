"""The `deid` build stage: record.v1 in, deid_record.v1 out; the only stage that ever reads raw patient text.

Per record: keys become HMACs, the birth date becomes an age (capped at 90), visit dates become year-month or are
shifted by the patient's HMAC-derived offset, and every free-text field, diagnosis text and event sentence goes
through `deidentify_texts` as one group (record-aware, names propagated across sections). An event sentence is
cut from its de-identified section at the mapped position, so it still occurs there verbatim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from cmedins.contracts import TEXT_FIELDS, load_contract
from cmedins.deid.anonymize import date_offset
from cmedins.deid.api import DeidResult, GroupInfo, deidentify_texts
from cmedins.deid.config import DeidConfig
from cmedins.deid.record_aware import RecordValues
from cmedins.entities import PLACEHOLDERS
from cmedins.secret import keyed_hash
from cmedins.stage import StageContext, StageOutput, quarantine_rows, register_stage

__all__ = ["DeidConfig", "deid_stage", "TEXT_FIELDS"]


@dataclass
class _Prepared:
    """One record's texts, in `deidentify_texts` order, and where each goes back."""

    row: dict[str, Any]
    slots: list[tuple[str, int]]  # (field, index) per text; index -1 for scalar fields


def _age(birth: date | None, at: date) -> int | None:
    if birth is None:
        return None
    years = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    if years < 0:
        raise ValueError("patient_birth_date")
    return min(years, 90)


def _visit_date(d: date | None, cfg: DeidConfig, offset: int) -> str | None:
    if d is None:
        return None
    if cfg.date_mode == "year":
        return f"{d.year:04d}"
    if cfg.date_mode == "year_month":
        return f"{d.year:04d}-{d.month:02d}"
    return (d + timedelta(days=offset)).isoformat()


def _values(row: dict[str, Any], cfg: DeidConfig) -> RecordValues:
    return RecordValues(
        name=row.get("patient_name"), id_number=row.get("patient_id_number"), phone=row.get("patient_phone"),
        address=row.get("patient_address"), birth_date=row.get("patient_birth_date"), mrn=row.get("patient_mrn"),
        insurance_no=row.get("patient_insurance_no"), employer=row.get("patient_employer"),
        record_id=row.get("record_id"), patient_id=row.get("patient_id"),
        hospital=row.get("hospital") if cfg.redact_institutions else None,
    )


def prepare(config: DeidConfig) -> None:
    """Build the detectors' costly state once per worker process, before its first batch: jieba's dictionary, the
    name, date and place patterns and the lexicons all load on first use, so one short note runs through them."""
    deidentify_texts(["患者张三，男，45岁，1980年3月2日生，住北京市海淀区中关村大街1号，电话13800000000。"],
                     DeidConfig(**{**config.__dict__, "workers": 1}))


@register_stage("deid", config=DeidConfig, kind="map", input_contract="record", output_contract="deid_record",
                setup=prepare)
def deid_stage(table: pa.Table, config: DeidConfig, ctx: StageContext) -> StageOutput:
    """De-identify a slice of records (see module docstring)."""
    cfg = config if config.workers == 1 else DeidConfig(**{**config.__dict__, "workers": 1})
    rows = table.to_pylist()
    texts: list[str] = []
    groups: list[int] = []
    info: dict[int, GroupInfo] = {}
    prepared: list[_Prepared | None] = []
    quarantined: list[dict] = []
    kept_rows: list[dict] = []
    stats: dict[str, int] = {"texts_scanned": 0, "texts_changed": 0, "chars": 0, "events_dropped_not_in_section": 0,
                             f"date_policy:{cfg.date_mode}": table.num_rows}

    for n, row in enumerate(rows):
        hospital, pid = row.get("hospital") or "", row.get("patient_id") or ""
        patient_key = keyed_hash(ctx.secret, hospital, pid)
        offset = date_offset(ctx.secret, patient_key, cfg.max_date_shift_days)
        admission = row.get("admission_date")
        info[n] = GroupInfo(values=_values(row, cfg) if cfg.record_aware else None, scope=patient_key,
                            offset=offset, ref_year=admission.year if admission else 2001)
        slots: list[tuple[str, int]] = []
        for f in TEXT_FIELDS:
            if row.get(f):
                texts.append(row[f])
                groups.append(n)
                slots.append((f, -1))
        for j, dx in enumerate(row.get("diagnoses") or []):
            if dx and dx.get("text"):
                texts.append(dx["text"])
                groups.append(n)
                slots.append(("diagnoses", j))
        prepared.append(_Prepared(row, slots))

    results = deidentify_texts(texts, cfg, groups=groups, group_info=info, secret=ctx.secret)
    pos = 0
    for n, prep in enumerate(prepared):
        assert prep is not None
        own = results[pos:pos + len(prep.slots)]
        own_texts = texts[pos:pos + len(prep.slots)]
        pos += len(prep.slots)
        try:
            kept_rows.append(_output_row(prep, own, cfg, ctx, info[n], stats))
        except Exception as exc:  # noqa: BLE001 - any failure quarantines the row, with no raw text in the message
            field = exc.args[0] if isinstance(exc, ValueError | KeyError) and exc.args else ""
            field = field if isinstance(field, str) and field.isidentifier() else ""
            quarantined.append(_quarantine(prep.row, n, field, type(exc).__name__, ctx))
            continue
        for src, res in zip(own_texts, own, strict=True):
            stats["texts_scanned"] += 1
            stats["chars"] += len(src)
            if res.changed:
                stats["texts_changed"] += 1
            for e in res.entities:
                key = f"entity:{e.entity_type}"
                stats[key] = stats.get(key, 0) + 1
    kept = pa.Table.from_pylist(kept_rows, schema=load_contract("deid_record").schema)
    q = quarantine_rows(quarantined)
    return StageOutput(kept=kept, quarantined=q, stats=dict(sorted(stats.items())))


def _output_row(prep: _Prepared, results: list[DeidResult], cfg: DeidConfig, ctx: StageContext, gi: GroupInfo,
                stats: dict[str, int]) -> dict[str, Any]:
    row = prep.row
    admission: date = row["admission_date"]
    discharge: date | None = row.get("discharge_date")
    out: dict[str, Any] = {
        "record_hash": keyed_hash(ctx.secret, row.get("hospital") or "", row.get("record_id") or ""),
        "patient_key": gi.scope,
        "hospital": PLACEHOLDERS["HOSPITAL"] if cfg.redact_institutions else row.get("hospital"),
        "department": row.get("department"),
        "visit_type": row.get("visit_type"),
        "admission_date": _visit_date(admission, cfg, gi.offset),
        "discharge_date": _visit_date(discharge, cfg, gi.offset),
        "patient_sex": row.get("patient_sex"),
        "patient_age": _age(row.get("patient_birth_date"), admission),
        "labs": row.get("labs"),
        "medications": row.get("medications"),
        "deid_version": cfg.deid_version,
    }
    for f in TEXT_FIELDS:
        out[f] = None if row.get(f) is None else ""  # filled from the results below; raw text never copied
    by_field: dict[str, tuple[str, DeidResult]] = {}
    diagnoses = [dict(d) if d else d for d in (row.get("diagnoses") or [])] if row.get("diagnoses") is not None \
        else None
    for (field, j), res in zip(prep.slots, results, strict=True):
        if j < 0:
            by_field[field] = (row[field], res)
            out[field] = res.text
        else:
            assert diagnoses is not None
            diagnoses[j]["text"] = res.text
    out["diagnoses"] = diagnoses
    events = row.get("events")
    if events is not None:
        new_events = []
        for ev in events:
            section, sentence = ev.get("section"), ev.get("sentence")
            if not sentence:
                new_events.append(dict(ev))
                continue
            if section not in by_field:  # a sentence we cannot place was never de-identified: never pass it on
                stats["events_dropped_not_in_section"] += 1
                continue
            raw, res = by_field[section]
            i = raw.find(sentence)
            if i < 0:
                stats["events_dropped_not_in_section"] += 1
                continue
            a, b = res.map_span(i, i + len(sentence))
            new_events.append({**ev, "sentence": res.text[a:b]})
        out["events"] = new_events
    else:
        out["events"] = None
    return out


def _quarantine(row: dict[str, Any], n: int, field: str, error: str, ctx: StageContext) -> dict[str, Any]:
    key = keyed_hash(ctx.secret, str(row.get("hospital") or ""), str(row.get("record_id") or ""))
    n += ctx.row_offset
    where = f" field {field}" if field else ""
    return {
        "stage": "deid",
        "source": "records",
        "row": n + 1,
        "key": key,
        "reason": "deid_failed",
        "field": field or None,
        "message": f"deid: records row {n + 1}{where}: could not be de-identified ({error})",
        "payload": json.dumps(row, ensure_ascii=False, default=str, sort_keys=True),
    }
