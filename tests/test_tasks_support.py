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

# ---- records that each carry one failure the task rules exist to prevent (issue 11) ------------------------------

# The admitting diagnosis, a referral diagnosis and an abbreviation of the primary diagnosis in the presentation;
# the department named in the history; a secondary diagnosis in the past history (legitimate evidence).
LEAKY = _base(
    record_hash="f" * 32,
    patient_key="k" * 32,
    department="呼吸内科",
    visit_type="住院",
    discharge_date="2023-06",
    patient_age=72,
    chief_complaint="反复咳嗽、咳痰20年，气促加重3天",
    present_illness="患者20年前起反复咳嗽、咳白痰，冬春季加重，5年前于外院诊断为“慢阻肺”，长期吸入噻托溴铵。"
                    "3天前受凉后气促加重，伴黄脓痰，无胸痛。为求进一步诊治，来我院呼吸内科就诊，"
                    "门诊以“慢性阻塞性肺疾病急性加重”收入我科。",
    past_history="高血压病史10年，规律服用氨氯地平。否认药物过敏史。",
    physical_exam="桶状胸，双肺呼吸音低，可闻及散在哮鸣音。",
    auxiliary_exam="胸部CT示双肺气肿，考虑COPD改变。血气分析示PaCO2 52mmHg。",
    diagnoses=[
        {"text": "慢性阻塞性肺疾病急性加重", "icd10_code": "J44.100", "icd10_name": "慢性阻塞性肺病伴有急性加重",
         "primary": True},
        {"text": "高血压病", "icd10_code": "I10.x00", "icd10_name": "原发性高血压", "primary": False},
    ],
    medications=[
        {"drug": "噻托溴铵粉吸入剂", "dose": "18μg", "route": "吸入", "frequency": "qd"},
        {"drug": "苯磺酸氨氯地平片", "dose": "5mg", "route": "口服", "frequency": "qd"},
    ],
)

# A doctor's discharge summary stating a follow-up value, a date placeholder and a department the query never
# shows, next to sentences that are grounded.
WRITTEN = _base(
    record_hash="1" * 32,
    patient_key="w" * 32,
    department="神经内科",
    visit_type="住院",
    admission_date="2023",
    discharge_date="2023",
    patient_sex="女",
    patient_age=66,
    chief_complaint="突发左侧肢体无力6小时",
    present_illness="患者6小时前突发左侧肢体无力，伴言语含糊，无头痛、呕吐。",
    physical_exam="左侧肢体肌力3级，左侧巴氏征阳性。",
    auxiliary_exam="头颅MRI示右侧基底节区急性梗死灶。",
    discharge_summary="患者因突发左侧肢体无力6小时入院。入院第3天复查同型半胱氨酸 18.2μmol/L，较前下降。"
                      "予阿司匹林肠溶片 100mg 口服 qd治疗后好转。于[日期]出院，转入康复医学科继续治疗。"
                      "出院诊断：脑梗死。",
    labs=[{"item": "同型半胱氨酸", "value": "25.6", "unit": "μmol/L", "reference_range": "<15", "flag": "H"}],
    diagnoses=[{"text": "脑梗死", "icd10_code": "I63.900", "icd10_name": "脑梗死", "primary": True}],
    medications=[{"drug": "阿司匹林肠溶片", "dose": "100mg", "route": "口服", "frequency": "qd"}],
)


def prescribed(record_hash: str, past_history: str, meds: list[tuple[str, str, str, str]], **kw: Any) -> dict:
    """An outpatient record whose orders are `meds`, with `past_history` (where allergies are stated)."""
    base = dict(record_hash=record_hash, patient_key=record_hash[::-1], department="呼吸内科",
                chief_complaint="咳嗽、咳黄痰3天", past_history=past_history,
                diagnoses=[{"text": "急性支气管炎", "icd10_code": "J20.900", "icd10_name": "急性支气管炎",
                            "primary": True}],
                medications=[{"drug": d, "dose": dose, "route": r, "frequency": f} for d, dose, r, f in meds])
    base.update(kw)
    return _base(**base)


PIPERACILLIN = ("注射用哌拉西林钠他唑巴坦钠", "4.5g", "静脉滴注", "q8h")
CEFUROXIME = ("注射用头孢呋辛钠", "1.5g", "静脉滴注", "bid")
AZITHROMYCIN = ("注射用阿奇霉素", "0.5g", "静脉滴注", "qd")


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
