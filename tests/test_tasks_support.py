"""Hand-written de-identified records (deid_record.v1) for the task-builder tests, plus checks of the fixture.

They let the task tests run without the synthetic generator or the de-identifier; every text is invented.
"""

from __future__ import annotations

import copy
from typing import Any

import pyarrow as pa

from cmedins.contracts import load_contract


def _base(**kw: Any) -> dict[str, Any]:
    rec = {name: None for name in load_contract("deid_record").names}
    rec.update(patient_key="p" * 32, hospital="[医院]", visit_type="门诊", admission_date="2023-05",
               patient_sex="男", patient_age=60, deid_version="test-1")
    rec.update(kw)
    return rec


CARDIO = _base(
    record_hash="a" * 32,
    department="心血管内科",
    visit_type="住院",
    discharge_date="2023-05",
    patient_age=67,
    chief_complaint="反复胸闷、胸痛3年，加重2天",
    present_illness="患者3年前无明显诱因出现胸骨后压榨样疼痛，持续约5分钟，休息后缓解。2天前胸痛加重，无发热，无咳嗽。",
    past_history="高血压病史10年，否认糖尿病史，否认药物过敏史。",
    physical_exam="BP 156/92mmHg，心率78次/分，律齐，各瓣膜区未闻及杂音。",
    auxiliary_exam="心电图示V1-V4导联ST段压低。",
    discharge_summary="患者因反复胸闷、胸痛入院，诊断为不稳定型心绞痛、高血压3级，予抗血小板、调脂及降压治疗后症状缓解出院。",
    labs=[
        {"item": "低密度脂蛋白胆固醇", "value": "4.2", "unit": "mmol/L", "reference_range": "<3.4", "flag": "H"},
        {"item": "血红蛋白", "value": "135", "unit": "g/L", "reference_range": "130-175", "flag": "N"},
    ],
    diagnoses=[
        {"text": "冠心病 不稳定型心绞痛", "icd10_code": "I20.000", "icd10_name": "不稳定型心绞痛", "primary": True},
        {"text": "高血压病3级（极高危）", "icd10_code": "I10.x00", "icd10_name": "原发性高血压", "primary": False},
    ],
    medications=[
        {"drug": "阿司匹林肠溶片", "dose": "100mg", "route": "口服", "frequency": "每日一次"},
        {"drug": "阿托伐他汀钙片", "dose": "20mg", "route": "口服", "frequency": "每晚一次"},
    ],
    events=[
        {"section": "present_illness", "sentence": "患者3年前无明显诱因出现胸骨后压榨样疼痛，持续约5分钟，休息后缓解。",
         "subject": "疼痛", "descriptors": ["压榨样"], "anatomy": ["胸骨后"], "status": "肯定"},
        {"section": "present_illness", "sentence": "2天前胸痛加重，无发热，无咳嗽。",
         "subject": "发热", "descriptors": [], "anatomy": [], "status": "否定"},
        {"section": "present_illness", "sentence": "2天前胸痛加重，无发热，无咳嗽。",
         "subject": "咳嗽", "descriptors": [], "anatomy": [], "status": "否定 "},
    ],
)

RESP = _base(
    record_hash="b" * 32,
    department="呼吸内科",
    patient_sex="女",
    patient_age=34,
    chief_complaint="咳嗽、咳痰5天，发热1天",
    present_illness="患者5天前受凉后出现咳嗽，咳黄痰，1天前出现发热，最高体温38.6℃，[日期]曾于社区门诊就诊。",
    physical_exam="T 38.2℃，双肺呼吸音粗，右下肺可闻及湿啰音。",
    auxiliary_exam="胸片示右下肺斑片状影。",
    labs=[{"item": "白细胞计数", "value": "12.8", "unit": "×10^9/L", "reference_range": "3.5-9.5", "flag": "H"}],
    diagnoses=[{"text": "右下肺社区获得性肺炎", "icd10_code": "J18.900", "icd10_name": "肺炎", "primary": True}],
    medications=[{"drug": "头孢呋辛酯片", "dose": "0.25g", "route": "口服", "frequency": "每日两次"}],
)

# Chief complaint that is nothing but a placeholder, no history, no diagnoses: triage must refuse it.
PLACEHOLDER = _base(record_hash="c" * 32, department="急诊科", visit_type="急诊", chief_complaint="[姓名]")

BAD_CODE = _base(
    record_hash="d" * 32,
    department="内分泌科",
    chief_complaint="口干、多饮、多尿1月",
    diagnoses=[{"text": "2型糖尿病", "icd10_code": "E11-9", "icd10_name": "2型糖尿病", "primary": True}],
)

LONG = _base(record_hash="e" * 32, department="消化内科", chief_complaint="腹痛2天",
             present_illness="上腹部隐痛。" * 2000)

RECORDS = [CARDIO, RESP, PLACEHOLDER, BAD_CODE, LONG]


def records() -> list[dict[str, Any]]:
    return copy.deepcopy(RECORDS)


def records_table(rows: list[dict[str, Any]] | None = None) -> pa.Table:
    return pa.Table.from_pylist(rows if rows is not None else records(), schema=load_contract("deid_record").schema)


def test_fixture_conforms_to_deid_record_contract() -> None:
    table = records_table()
    assert table.num_rows == len(RECORDS)
    assert table.schema.equals(load_contract("deid_record").schema, check_metadata=False)
    for ev in CARDIO["events"]:
        assert ev["sentence"] in CARDIO[ev["section"]]
