"""Reading the parts of a de-identified record that the builders quote: sections, patient line, diagnoses."""

from __future__ import annotations

import re
from typing import Any

from cmedins.contracts import SECTION_LABELS
from cmedins.entities import PLACEHOLDERS


def clean(text: Any) -> str:
    """Strip whitespace and byte-order marks (real exports carry a BOM at the start of a text)."""
    if not text:
        return ""
    return str(text).replace("\ufeff", "").strip()


def section_lines(record: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    """`主诉：...` lines for the non-empty fields, in the given order."""
    out = []
    for f in fields:
        text = clean(record.get(f))
        if text:
            out.append(f"{SECTION_LABELS[f]}：{text}")
    return out


def patient_line(record: dict[str, Any]) -> str | None:
    """`患者信息：男，65岁`, or None when neither sex nor age is known."""
    parts = []
    sex = clean(record.get("patient_sex"))
    if sex and sex != "未知":
        parts.append(sex)
    age = record.get("patient_age")
    if age is not None:
        parts.append("90岁及以上" if age >= 90 else f"{age}岁")
    return f"患者信息：{'，'.join(parts)}" if parts else None


def diagnoses(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's diagnoses that have a wording, in record order (primary first by contract)."""
    out = []
    for d in record.get("diagnoses") or []:
        text = clean(d.get("text")) or clean(d.get("icd10_name"))
        if text:
            out.append({**d, "text": text})
    return out


def primary_index(dx: list[dict[str, Any]]) -> int | None:
    for i, d in enumerate(dx):
        if d.get("primary"):
            return i
    return None


def diagnosis_name(d: dict[str, Any]) -> str:
    """The standard name when coded, else the doctor's wording."""
    return clean(d.get("icd10_name")) or d["text"]


# Placeholders of identifiers that carry no clinical meaning: a sentence built around one (a phone line, an
# insurance number, a signature) is record-keeping, not part of a summary a model should learn to write.
_ADMIN_PLACEHOLDERS = tuple(
    PLACEHOLDERS[k] for k in ("ID_NUMBER", "PHONE", "MEDICAL_RECORD_NO", "INSURANCE_NO", "BANK_CARD", "EMAIL",
                              "IP_ADDRESS", "URL", "LICENSE_PLATE", "PASSPORT", "SOCIAL_ACCOUNT")
)
_SIGNATURE_WORDS = ("经治医师", "上级医师", "主治医师:", "主治医师：", "主治医生:", "主治医生：", "住院医师:",
                    "住院医师：",
                    "记录者", "责任护士", "签名")
_CLAUSE_RE = re.compile(r"[^，；,;]+[，；,;]?")
_SENTENCE_RE = re.compile(r"[^。！？\n]*(?:[。！？]|\n|$)")
_NAMED_PATIENT_RE = re.compile(r"^\[姓名\]|(?<=患者)\s*\[姓名\]|(?<=病人)\s*\[姓名\]")


def strip_admin(text: str) -> str:
    """Drop sentences holding administrative identifiers or signatures and clauses naming staff; `患者[姓名]` and a
    leading `[姓名]` become `患者`, so a summary does not teach a model to write names."""
    kept = []
    for sentence in _SENTENCE_RE.findall(text):
        if not sentence.strip():
            if sentence == "\n" and kept and not kept[-1].endswith("\n"):
                kept.append(sentence)
            continue
        if any(p in sentence for p in _ADMIN_PLACEHOLDERS) or any(w in sentence for w in _SIGNATURE_WORDS):
            continue
        kept.append(sentence)
    text = _NAMED_PATIENT_RE.sub(lambda m: "患者" if m.start() == 0 else "", "".join(kept).strip())
    text = "".join(_drop_named_clauses(x) for x in _SENTENCE_RE.findall(text))
    return re.sub(r"\n{2,}", "\n", text).strip()


def _drop_named_clauses(sentence: str) -> str:
    """`定期复查，挂[姓名]处复查。` -> `定期复查。`: a clause naming a doctor or nurse goes, the advice stays."""
    if "[姓名]" not in sentence:
        return sentence
    end = sentence[-1] if sentence[-1:] in "。！？\n" else ""
    body = sentence[: len(sentence) - len(end)]
    clauses = [c for c in _CLAUSE_RE.findall(body) if "[姓名]" not in c]
    if not clauses:
        return "\n" if end == "\n" else ""
    return "".join(clauses).rstrip("，；,;") + end
