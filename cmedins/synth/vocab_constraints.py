# ruff: noqa: E501 - vocabulary tables; CJK characters count double width and rows read better unwrapped
"""Who can have what: sex and age of each diagnosis, sex- and age-bound words, allergies, drug-diagnosis conflicts.

Data, not logic (`constraints` applies it). Why as data next to the vocabularies: a rule written once here covers
every table it applies to, so a new symptom, lab or drug with 前列腺, 月经 or 妊娠 in it is kept away from the wrong
patients without anyone remembering to say so.
"""

from __future__ import annotations

# code|sex|min age|max age. sex: F / M (only), F80 / M80 (that sex in 80 % of patients), - (either).
# Diseases not listed: department default (儿科 0-13, 产科 F 20-42, 妇科 F 18-75, else adult 18-103).
_DEMOGRAPHICS = """
P59.902|-|0|0
R56.001|-|1|5
J21.902|-|0|1
B08.202|-|0|2
A08.001|-|0|4
B08.401|-|1|5
B08.501|-|1|6
J04.003|-|1|5
J18.001|-|0|4
J15.7|-|4|13
B26.901|-|3|13
B01.901|-|2|13
A38xx01|-|3|12
D69.001|-|3|13
J03.904|-|3|13
O21.903|F|20|38
D25.902|F|28|54
N83.205|F|18|60
E28.2|F|18|38
N80|F|22|50
N73.001|F|18|50
N76.003|F|18|65
B37.301+N77.1*|F|18|60
N95.101|F|45|54
N95.001|F|55|85
C53|F|30|75
O00.101|F|18|45
N62xx04|F|20|54
N61xx01|F|20|40
D24xx01|F|18|45
C50.902|F|30|80
C56xx02|F|35|80
N40xx01|M|50|90
C61xx01|M|55|92
H25.901|-|55|95
E14.371+H36.0*|-|35|85
H40.202|F80|45|85
H40.1|-|40|85
H52.102|-|18|45
H33.202|-|20|80
G30.901|-|60|97
G20xx02|-|50|90
I67.201|-|50|90
I63.902|-|40|97
I63.903|-|40|97
I63.901|-|45|97
I61.902|-|40|90
G45.901|-|40|90
G45.003|-|40|90
I69.101|-|45|90
I60.901|-|25|80
I67.103|F80|30|80
D32.902|F80|30|80
G70.001|-|18|75
G61.002|-|18|80
H81.101|F80|30|85
I25.105|-|35|97
I20.001|-|35|95
I20.805|-|35|95
I21.002|M80|35|95
I21.103|M80|35|95
I21.403|M80|35|95
I48xx06|-|45|97
I48xx07|-|45|97
I49.501|-|50|95
I40.001|-|18|50
I50.905|-|50|97
I50.001|-|50|97
I42.0|M80|20|80
I05.001|F80|25|75
I11.901|-|45|97
I10xx11|-|30|97
I10xx04|-|30|97
I10xx05|-|35|97
I27.902|-|55|95
J44.101|M80|50|95
J44.901|M80|50|95
J42xx02|-|45|95
J84.901|-|45|85
G47.337|M80|30|75
E11.901|-|30|92
E11.651|-|30|92
E11.111|-|25|80
E11.221+N08.3*|-|40|90
E11.423+G63.2*|-|40|90
E10.901|-|18|40
M81.991|F80|50|97
M10.991|M80|25|85
E79.001|M80|20|80
C16.902|M80|40|90
C18.902|-|40|90
C20xx01|-|40|90
C15.901|M80|45|90
C25.901|-|45|90
C22.001|M80|35|85
K74.609|M80|35|85
K74.603|M80|35|85
K70.301|M|35|80
B18.106|M80|20|70
K63.582|-|35|85
K51.901|-|18|70
K50.003|-|18|60
K58.903|F80|18|65
K35.901|-|18|75
K40.902|M80|18|85
K56.503|-|30|90
N18.918|-|30|90
N18.916|-|35|92
N18.902|-|35|92
N17.002|-|30|90
N04.903|-|18|75
N02.801|-|18|60
C92.004|-|18|85
C91.001|-|18|60
C92.106|-|25|80
C90.001|-|45|90
C83.305|-|25|85
C81.903|-|18|60
D46.901|-|55|92
M06.991|F80|25|80
M32.901|F|18|55
M45xx091|M80|18|50
M35.001|F|30|70
C34.901|M80|40|90
C11.901|M80|30|75
C73xx01|F80|20|70
M51.202|-|25|75
M47.921|-|35|85
M47.221+G55.2*|-|35|80
M75.002|-|45|75
M75.003|-|45|75
M17.903|F80|45|92
M17.904|-|45|92
M62.681|-|25|65
S72.001|F80|60|97
S72.103|F80|60|97
S52.511|F80|45|85
S32.002|F80|55|95
S86.001|M80|25|60
F10.203|M|25|70
F10.001|M80|18|70
F31.901|-|18|65
F20.901|-|18|60
K01.101|-|18|40
K05.201|-|18|35
K05.301|-|30|85
L70.0|-|18|35
L20.901|-|18|45
J38.102|-|20|65
H81.001|-|30|70
I70.203|M80|50|92
I71.0011|M80|35|80
I71.402|M80|55|92
I83.904|-|30|80
I80.205|-|25|85
T60.002|-|18|80
A41.902|-|18|97
"""

# Words bound to one sex or an age band: (pattern, sex allowed or "", min age, max age). Any vocabulary item (symptom,
# sign, exam finding, lab item, differential, drug, surgery) whose text matches is used only for patients who fit.
WORD_RULES: tuple[tuple[str, str, int, int], ...] = (
    (r"子宫|卵巢|宫颈|阴道|输卵管|外阴|附件|盆腔炎|白带|乳腺|乳房|乳头|性交痛|剖宫产|孕酮|缩宫素|炔雌醇|米非司酮|CA125|糖类抗原125|糖类抗原15-3|雌二醇|促卵泡", "女", 0, 200),
    (r"前列腺|PSA|睾丸|阴囊|精索|阴茎|非那雄胺|坦索罗辛", "男", 0, 200),
    (r"月经|经期|痛经|经量|经前", "女", 12, 54),
    (r"停经|妊娠|孕(?!酮)|胎|宫内|人绒毛膜|HCG|hCG|产检|产科|子痫|流产|羊水|哺乳", "女", 16, 49),
    (r"绝经|更年期|潮热", "女", 42, 200),
    (r"吸烟|饮酒|酒精|白酒|性交|冶游|结婚|配偶", "", 16, 200),
    (r"患儿|前囟|吃奶|哭闹|囟门|小儿|出生体重|幼儿园", "", 0, 13),
    (r"对答切题|语利|步入|言语", "", 3, 200),
    (r"老年|年龄相关", "", 50, 200),
    (r"PCI|冠脉支架", "", 35, 200),
    (r"白内障|人工晶体", "", 45, 200),
    (r"腰椎后路|膝关节镜", "", 30, 200),
)

# Allergen as the history states it -> words of drugs and examinations the patient must then not receive.
# Conservative on purpose: cross-reactive classes are avoided as well (cephalosporins after penicillin allergy, all
# NSAIDs after aspirin allergy, sulfonamide non-antibiotics after sulfonamide allergy).
ALLERGIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "青霉素": (("西林", "青霉素", "他唑巴坦", "头孢", "培南"), ()),
    "头孢类": (("头孢", "西林", "青霉素", "培南"), ()),
    "磺胺类": (("磺胺", "新诺明", "塞来昔布", "呋塞米", "氢氯噻嗪"), ()),
    "阿司匹林": (("阿司匹林", "布洛芬", "双氯芬酸", "洛索洛芬", "塞来昔布", "吲哚美辛", "萘普生", "普拉洛芬"), ()),
    "碘造影剂": (("碘",), ("增强", "造影", "CTA", "CTPA", "DSA")),
}
ALLERGY_SHARE = 0.4

# Drug words contraindicated by a diagnosis of the same record (words of the diagnosis name or its wording).
DRUG_CONFLICTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("二甲双胍",), ("酮症", "肾衰", "尿毒症", "CKD5", "慢性肾脏病5期", "慢性肾脏病,5期", "肾功能不全", "急性肾损伤", "AKI")),
    (
        ("阿司匹林", "氯吡格雷", "替格瑞洛", "利伐沙班", "华法林", "达比加群", "肝素", "西洛他唑"),
        ("脑出血", "蛛网膜下腔出血", "消化道出血", "血小板减少", "紫癜", "再生障碍", "颅内动脉瘤", "ICH", "SAH", "UGIB", "ITP", "白血病"),
    ),
    (
        ("布洛芬", "双氯芬酸", "洛索洛芬", "塞来昔布"),
        ("消化道出血", "溃疡", "肾衰", "尿毒症", "CKD", "慢性肾脏病", "心力衰竭", "心衰", "血小板减少", "哮喘"),
    ),
    (("普萘洛尔", "美托洛尔", "比索洛尔", "噻吗洛尔"), ("哮喘", "病态窦房结", "病窦", "心动过缓")),
    (("地高辛", "胺碘酮"), ("病态窦房结", "病窦", "心动过缓")),
    (("硝酸甘油", "硝酸异山梨酯"), ("青光眼",)),
    (("甘露醇",), ("心力衰竭", "心衰", "肾衰", "尿毒症")),
    (("氯化钾",), ("肾衰", "尿毒症", "CKD5", "急性肾损伤", "AKI")),
)

# Drugs whose usual dose is too much at 65 and over (digoxin: 0.125 mg a day at most); they get their lowest dose.
LOW_DOSE_ELDERLY = ("地高辛片",)

# Gestational age in weeks (min, max) of the diagnoses a pregnant patient comes with.
GESTATION: dict[str, tuple[int, int]] = {
    "O00.101": (5, 8),
    "O20.001": (6, 12),
    "O21.903": (6, 14),
    "O24.401": (24, 32),
    "O13xx01": (28, 38),
    "O14.102": (28, 37),
    "O42.901": (30, 40),
    "O44.003": (28, 36),
}
