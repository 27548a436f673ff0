"""Over-redaction on real public clinical text (no identifiers in it): medical entities must survive.

Reads /work/shared/realdata in place (never copied): cEHRNER discharge notes with entity mentions, CMeEE, and
the MedicalKG drug list (many drug and herb names look like person names).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REALDATA

from cmedins.deid import DeidConfig, deidentify_texts, scan_residual

REAL = REALDATA


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path.name} not present")
    return path


def test_cehrner_medical_mentions_survive():
    lines = _need(REAL / "ChineseBLUE_cEHRNER" / "train.json").read_text(encoding="utf-8").splitlines()[:400]
    rows = [json.loads(x) for x in lines]
    res = deidentify_texts([r["text"] for r in rows], DeidConfig())
    total = hit = 0
    for r, out in zip(rows, res, strict=True):
        covered = set()
        for e in out.entities:
            if e.entity_type not in ("DATE", "MEDICAL_RECORD_NO"):  # real notes here do carry dates and lab ids
                covered.update(range(e.start, e.end))
        for m in r["mention_data"]:
            s = int(m["offset"])
            total += 1
            hit += any(i in covered for i in range(s, s + len(m["mention"])))
    assert total > 1000
    assert hit / total <= 0.01, f"{hit}/{total} medical mentions redacted"


def test_drug_names_not_redacted():
    drugs = [d.strip() for d in _need(REAL / "MedicalKG_dicts_liuhuanyong" / "drug.txt").read_text(
        encoding="utf-8").splitlines() if d.strip()][:2000]
    texts = [f"患者予{d}口服。" for d in drugs]
    res = deidentify_texts(texts, DeidConfig())
    changed = sum(r.changed for r in res)
    assert changed / len(texts) <= 0.01, f"{changed} of {len(texts)} drug sentences altered"


def test_cmeee_texts_mostly_untouched():
    data = json.loads(_need(REAL / "CBLUE_CMeEE" / "CMeEE_dev.json").read_text(encoding="utf-8"))[:1500]
    res = deidentify_texts([d["text"] for d in data], DeidConfig())
    person = sum(1 for r in res for e in r.entities if e.entity_type == "PERSON")
    assert person <= 3, f"{person} PERSON spans in textbook text with no patients"


def test_residual_scanner_is_independent_and_quiet_on_output():
    texts = ["患者张建国，男，45岁，电话13812345678，身份证110101199003074514，2023年3月5日入院。"]
    out = deidentify_texts(texts, DeidConfig())[0].text
    assert scan_residual([out]) == []
    assert {f.kind for f in scan_residual(texts)} >= {"mobile", "id_like", "full_date"}
