"""Identifier entity types shared by the synthetic corpus's ground truth, the de-identifier and its scoring.

This is a list of *kinds* of identifier, not a vocabulary: the generator and the detector share no word lists.
Each type maps to the typed placeholder that replaces it in published text.
"""

from __future__ import annotations

PLACEHOLDERS: dict[str, str] = {
    "PERSON": "[姓名]",
    "ID_NUMBER": "[身份证号]",
    "PHONE": "[电话]",
    "MEDICAL_RECORD_NO": "[病案号]",  # MRN, admission / outpatient / bed-card numbers
    "INSURANCE_NO": "[医保号]",
    "BANK_CARD": "[银行卡号]",
    "EMAIL": "[邮箱]",
    "IP_ADDRESS": "[IP地址]",
    "URL": "[网址]",
    "LICENSE_PLATE": "[车牌号]",
    "PASSPORT": "[护照号]",
    "SOCIAL_ACCOUNT": "[社交账号]",  # WeChat / QQ ids
    "OTHER_ID": "[编号]",  # any other identifying number: staff, military, student ids; vehicle and device serials
    "ADDRESS": "[地址]",
    "ORGANIZATION": "[单位]",  # workplaces and schools
    "HOSPITAL": "[医院]",
    "BIRTH_DATE": "[出生日期]",
    "DATE": "[日期]",  # other dates (visits, operations); kept as year-month or shifted by recipe option
    "AGE": "90岁以上",  # ages over 89 only
}

ENTITY_TYPES: tuple[str, ...] = tuple(PLACEHOLDERS)

# Types whose recall target is 99.9 % (structured identifiers with fixed formats).
STRUCTURED_TYPES: tuple[str, ...] = (
    "ID_NUMBER",
    "PHONE",
    "MEDICAL_RECORD_NO",
    "INSURANCE_NO",
    "BANK_CARD",
    "EMAIL",
    "LICENSE_PLATE",
)
