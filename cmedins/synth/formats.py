"""CSV and JSONL serialisation of record rows, with labelled corruption for quarantine tests.

Corruption needs untyped cells (a bad date, a number where text belongs, bytes that do not decode), which is why
it exists only for CSV and JSONL. Each corrupted row gets one named defect and one ground-truth row.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date

from cmedins.contracts import load_contract

_SENTINEL = "\ue000"  # marks where invalid bytes go; split out before encoding so no real character is touched
BAD_BYTES = b"\xff\xfe"
_LIST_FIELDS = ("labs", "diagnoses", "medications", "events")
_DATE_FIELDS = ("admission_date", "discharge_date", "patient_birth_date")
CORRUPTION_KINDS = (
    "missing_required",
    "bad_date",
    "wrong_type",
    "bad_encoding",
    "oversized_text",
    "bad_enum",
    "date_order",
)


def _plain(row: dict) -> dict:
    """JSON-ready values: dates as YYYY-MM-DD, nested lists kept as Python lists."""
    out = {}
    for k in load_contract("record").names:
        v = row.get(k)
        out[k] = v.isoformat() if isinstance(v, date) else v
    return out


def corrupt(rng: random.Random, row: dict, fmt: str) -> tuple[str, str]:
    """Damage `row` (a _plain dict) in place; returns (kind, field)."""
    kind = rng.choice(CORRUPTION_KINDS)
    if kind == "date_order" and not row.get("discharge_date"):
        kind = "bad_date"
    if kind == "missing_required":
        f = rng.choice(("record_id", "chief_complaint", "admission_date", "hospital", "department", "patient_id"))
        if fmt == "jsonl" and rng.random() < 0.5:
            del row[f]
        else:
            row[f] = None if fmt == "jsonl" else ""
        return kind, f
    if kind == "bad_date":
        f = rng.choice(("admission_date", "patient_birth_date"))
        row[f] = rng.choice(
            ("2023-02-30", "2023/13/01", "昨天", "0000-00-00", "20231345", "2023年14月2日", "N/A", "12/31/2023")
        )
        return kind, f
    if kind == "date_order":
        adm = date.fromisoformat(row["admission_date"])
        row["discharge_date"] = date.fromordinal(adm.toordinal() - rng.randrange(1, 30)).isoformat()
        return kind, "discharge_date"
    if kind == "wrong_type":
        if fmt == "jsonl":
            f = rng.choice(("labs", "chief_complaint", "admission_date", "diagnoses"))
            row[f] = {
                "labs": "见化验单",
                "chief_complaint": 12345,
                "admission_date": 20230512,
                "diagnoses": {"text": "高血压"},
            }[f]
        else:
            f = rng.choice(_LIST_FIELDS)
            row[f] = rng.choice(("见化验单", '[{"item": "WBC", "value": ', "{'text': '高血压'}", "123"))
        return kind, f
    if kind == "bad_encoding":
        f = rng.choice(("present_illness", "chief_complaint", "past_history"))
        text = row.get(f) or "不详"
        cut = rng.randrange(len(text) + 1)
        row[f] = text[:cut] + _SENTINEL + text[cut:]
        return kind, f
    if kind == "oversized_text":
        f = rng.choice(("present_illness", "chief_complaint"))
        limit = load_contract("record").field(f).max_chars or 20000
        filler = "患者病情平稳，继续当前治疗方案，密切观察病情变化。"
        row[f] = (row.get(f) or "") + filler * (limit // len(filler) + rng.randrange(2, 40))
        return kind, f
    f = rng.choice(("visit_type", "patient_sex"))
    row[f] = rng.choice(("住院部", "inpatient", "门急诊")) if f == "visit_type" else rng.choice(("M", "男性", "1"))
    return "bad_enum", f


def _encode(text: str, encoding: str) -> bytes:
    return BAD_BYTES.join(part.encode(encoding) for part in text.split(_SENTINEL))


def csv_header(encoding: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(load_contract("record").names)
    return buf.getvalue().encode(encoding)


def csv_rows(rows: list[dict], encoding: str) -> bytes:
    names = load_contract("record").names
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        cells = []
        for k in names:
            v = r.get(k)
            if v is None:
                cells.append("")
            elif isinstance(v, list | dict):
                cells.append(json.dumps(v, ensure_ascii=False, separators=(",", ":")))
            elif isinstance(v, bool):
                cells.append("true" if v else "false")
            else:
                cells.append(str(v))
        w.writerow(cells)
    return _encode(buf.getvalue(), encoding)


def jsonl_rows(rows: list[dict]) -> bytes:
    text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)
    return _encode(text, "utf-8")


def serialise(
    records: list[dict], fmt: str, encoding: str, corrupt_rate: float, rng: random.Random, first_row: int
) -> tuple[bytes, list[dict]]:
    """Encoded rows and the corruption ground truth (`row` is the 1-based data row number in the file)."""
    rows = [_plain(r) for r in records]
    labels: list[dict] = []
    if corrupt_rate > 0:
        for i, r in enumerate(rows):
            if rng.random() < corrupt_rate:
                rid = r.get("record_id")
                kind, f = corrupt(rng, r, fmt)
                labels.append(
                    {
                        "row": first_row + i + 1,
                        "record_id": r.get("record_id") or None if f == "record_id" else rid,
                        "kind": kind,
                        "field": f,
                    }
                )
    data = csv_rows(rows, encoding) if fmt == "csv" else jsonl_rows(rows)
    return data, labels
