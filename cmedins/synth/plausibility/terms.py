# ruff: noqa: E501 - keyword tables; CJK characters count double width and rows read better unwrapped
"""The checker's own small keyword lists, written from clinical knowledge apart from the generator's vocabularies.

Why separate: a check that reads the generator's tables can only confirm that the generator did what its tables say.
These lists are deliberately shorter and coarser (by clinical category, not by disease code), so a record passes
only if a reader who never saw the generator's tables would also let it pass.
"""

from __future__ import annotations

import re

# ---------- sex ----------
MALE_ONLY = ("前列腺", "PSA", "睾丸", "阴囊", "精索", "阴茎", "包皮")
FEMALE_ONLY = (
    "子宫", "卵巢", "宫颈", "阴道", "输卵管", "外阴", "附件区", "附件囊肿", "盆腔炎", "月经", "停经", "绝经", "妊娠",
    "早孕", "现孕", "孕周", "宫内", "胎心", "胎动", "胎膜", "胎盘", "宫高", "产检", "剖宫产", "乳腺", "乳房", "白带",
    "绒毛膜促性腺激素", "HCG", "hCG", "流产", "子痫", "羊水", "LMP",
)
FEMALE_DRUGS = ("黄体酮", "地屈孕酮", "缩宫素", "阴道", "炔雌醇", "米非司酮", "雌二醇")
MALE_DRUGS = ("非那雄胺", "度他雄胺")

# ---------- age ----------
MENSTRUAL = re.compile(r"月经|经期|痛经|经量")
PREGNANCY = re.compile(r"停经\d+|妊娠|早孕|孕\d+|现孕|宫内孕|胎心|胎动|宫高|胎膜|胎盘|先兆流产|子痫|羊水|产检")
ECTOPIC = re.compile(r"异位妊娠|宫外孕|输卵管妊娠")
HCG_WORDS = ("绒毛膜促性腺激素", "HCG", "hCG")
PAEDIATRIC_DX = ("新生儿", "手足口病", "幼儿急疹", "毛细支气管炎", "热性惊厥", "高热惊厥", "小儿", "秋季腹泻")
ADULT_DX = (
    "高血压", "冠状动脉", "冠心病", "心肌梗死", "心梗", "2型糖尿病", "前列腺", "绝经", "更年期", "老年", "阿尔茨海默",
    "帕金森", "骨质疏松", "慢性阻塞性肺", "慢阻肺", "痛风", "脑梗死", "白内障", "酒精", "输卵管妊娠", "乳腺", "子宫",
)
OLD_AGE_DX = ("老年性", "阿尔茨海默", "前列腺增生", "绝经后", "年龄相关性", "老年性痴呆")
ADULT_LIFE = re.compile(r"吸烟\d+年|每日约\d+支|\d+岁结婚|已婚|配偶|冶游")
INFANT_CANNOT = re.compile(r"对答切题|语利|步入|言语清晰")

# ---------- labs ----------
# Analytes whose names end in digits: a value written straight after them reads as part of the name.
DIGIT_ENDING_ANALYTES = (
    "糖类抗原125", "糖类抗原19-9", "糖类抗原15-3", "糖类抗原72-4", "糖类抗原242", "糖类抗原50", "CA125", "CA19-9",
    "CA15-3", "CA153", "CA72-4", "CA242", "CA50", "补体C3", "补体C4", "CD4", "CD8", "SpO2", "PaO2", "PaCO2", "FT3",
    "FT4", "IL-6", "白细胞介素6", "维生素B12", "CYFRA21-1", "HbA1", "肌钙蛋白T", "β2",
)

# ---------- allergy: allergen word -> words of drugs (and exams) the patient must not get ----------
ALLERGY_FORBIDS: dict[str, tuple[str, ...]] = {
    "青霉素": ("西林", "青霉素", "头孢", "培南"),
    "头孢": ("头孢", "西林", "培南"),
    "磺胺": ("磺胺", "新诺明", "塞来昔布"),
    "阿司匹林": ("阿司匹林", "布洛芬", "双氯芬酸", "洛索洛芬", "塞来昔布", "吲哚美辛", "萘普生", "美洛昔康", "依托考昔", "尼美舒利"),
    "碘造影剂": ("碘海醇", "碘帕醇", "碘克沙醇", "造影剂"),
    "沙星": ("沙星",),
    "链霉素": ("链霉素", "庆大霉素", "阿米卡星"),
}
CONTRAST_EXAM = re.compile(r"增强CT|增强扫描|CTA|CTPA|造影(?!剂)|CT血管成像")
ALLERGY_DENIAL = re.compile(r"否认|无|未|不详|没有")
TEXT_FIELDS = (
    "chief_complaint", "present_illness", "past_history", "personal_history", "marital_history", "family_history",
    "physical_exam", "auxiliary_exam", "discharge_summary",
)
