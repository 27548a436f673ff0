"""The `deid` stage on hand-built record.v1 rows: contract, keys, dates, ages, events, quarantine, determinism."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.contracts import load_contract
from cmedins.deid.config import DeidConfig
from cmedins.deid.stage import TEXT_FIELDS, deid_stage
from cmedins.secret import keyed_hash
from cmedins.stage import StageContext, get_stage

SECRET = b"test-secret"


def _record(i: int, **over) -> dict:
    row = {
        "record_id": f"ZY{i:06d}", "patient_id": f"P{i % 3}", "hospital": "青山湖第二人民医院",
        "department": "心血管内科",
        "visit_type": "住院", "admission_date": date(2023, 3, 5), "discharge_date": date(2023, 3, 12),
        "patient_name": "钱多多", "patient_sex": "男", "patient_birth_date": date(1930, 6, 1),
        "patient_id_number": "110101193006014519", "patient_phone": "13900001111",
        "patient_address": "江苏省南京市鼓楼区中山路1号", "patient_mrn": "MR778812", "patient_insurance_no": None,
        "patient_employer": None,
        "chief_complaint": "胸闷3天",
        "present_illness": "患者钱多多于2023年3月2日无诱因出现胸闷。多多自述夜间加重，"
                           "由其子钱小宝陪同来青山湖第二人民医院就诊。",
        "past_history": "高血压10年，口服氨氯地平5mg qd。", "personal_history": None, "marital_history": None,
        "family_history": "其父高血压病史。", "physical_exam": "BP 160/90mmHg，T 36.5℃。", "auxiliary_exam": None,
        "discharge_summary": "钱某好转出院，电话139 0000 1111随访。",
        "labs": [{"item": "血红蛋白", "value": "98", "unit": "g/L", "reference_range": "130-175", "flag": "L"}],
        "diagnoses": [{"text": "冠心病（钱多多）", "icd10_code": "I25.1", "icd10_name": "动脉硬化性心脏病",
                       "primary": True}],
        "medications": [{"drug": "阿司匹林肠溶片", "dose": "100mg", "route": "口服", "frequency": "qd"}],
        "events": [{"section": "present_illness", "sentence": "患者钱多多于2023年3月2日无诱因出现胸闷。",
                    "subject": "胸闷",
                    "descriptors": [], "anatomy": [], "status": "肯定"}],
    }
    row.update(over)
    return row


def _table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=load_contract("record").schema)


def _ctx(tmp_path: Path) -> StageContext:
    return StageContext(seed=1, workdir=tmp_path, secret=SECRET)


def test_registered():
    import cmedins.deid.stage  # noqa: F401

    st = get_stage("deid")
    assert st.output_contract == "deid_record" and st.kind == "map" and st.input_contract == "record"


def test_output_contract_and_content(tmp_path):
    out = deid_stage(_table([_record(1)]), DeidConfig(), _ctx(tmp_path))
    assert out.kept.schema.equals(load_contract("deid_record").schema, check_metadata=False)
    row = out.kept.to_pylist()[0]
    assert row["record_hash"] == keyed_hash(SECRET, "青山湖第二人民医院", "ZY000001")
    assert row["patient_key"] == keyed_hash(SECRET, "青山湖第二人民医院", "P1")
    assert row["admission_date"] == "2023" and row["discharge_date"] == "2023"  # Safe Harbor: the year only
    assert row["patient_age"] == 90  # 92 at the visit, capped
    assert row["hospital"] == "[医院]"
    blob = repr(row)
    for leak in ("钱多多", "多多", "钱某", "钱小宝", "1111", "青山湖", "2023年3月2日", "1930", "ZY000001", "P1'"):
        assert leak not in blob, leak
    assert "氨氯地平" in row["past_history"] and "160/90mmHg" in row["physical_exam"]
    ev = row["events"][0]
    assert ev["sentence"] in row["present_illness"] and "钱" not in ev["sentence"]
    assert row["diagnoses"][0]["text"].startswith("冠心病")
    assert row["deid_version"].startswith("deid-")
    assert out.stats["entity:PERSON"] >= 4 and out.stats["texts_scanned"] > 0
    assert out.quarantined.num_rows == 0


def test_shift_mode_keeps_intervals(tmp_path):
    cfg = DeidConfig(date_mode="shift")
    rows = deid_stage(_table([_record(1), _record(4)]), cfg, _ctx(tmp_path)).kept.to_pylist()
    a = [date.fromisoformat(r["admission_date"]) for r in rows]
    d = [date.fromisoformat(r["discharge_date"]) for r in rows]
    assert all((y - x).days == 7 for x, y in zip(a, d, strict=True))
    assert a[0] == a[1]  # same patient (P1) -> same offset
    assert a[0] != date(2023, 3, 5)


def test_bad_row_is_quarantined_without_raw_text(tmp_path):
    rows = [_record(1), _record(2, patient_birth_date=date(2030, 1, 1))]
    out = deid_stage(_table(rows), DeidConfig(), _ctx(tmp_path))
    assert out.kept.num_rows == 1 and out.quarantined.num_rows == 1
    q = out.quarantined.to_pylist()[0]
    assert q["stage"] == "deid" and q["field"] == "patient_birth_date"
    assert "钱" not in q["message"] and "2030" not in q["message"]


def test_event_not_in_section_is_dropped_and_counted(tmp_path):
    ev = {"section": "present_illness", "sentence": "钱多多不在原文里", "subject": "x", "descriptors": [],
          "anatomy": [],
          "status": "肯定"}
    out = deid_stage(_table([_record(1, events=[ev])]), DeidConfig(), _ctx(tmp_path))
    assert out.kept.to_pylist()[0]["events"] == []
    assert out.stats["events_dropped_not_in_section"] == 1


def test_deterministic_bytes(tmp_path):
    rows = [_record(i) for i in range(6)]

    def run() -> bytes:
        out = deid_stage(_table(rows), DeidConfig(mode="pseudonym", date_mode="shift"), _ctx(tmp_path))
        buf = io.BytesIO()
        pq.write_table(out.kept, buf, compression="zstd", write_statistics=False)
        return buf.getvalue()

    assert run() == run()


def test_every_text_field_is_processed(tmp_path):
    marker = "联系电话13800138000"
    row = _record(1, **{f: marker for f in TEXT_FIELDS})
    out = deid_stage(_table([row]), DeidConfig(), _ctx(tmp_path)).kept.to_pylist()[0]
    for f in TEXT_FIELDS:
        assert "13800138000" not in out[f]
