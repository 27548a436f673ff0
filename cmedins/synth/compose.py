"""Write one visit: structured fields plus the free-text sections, with identifiers and events placed as pieces.

Phrasings are drawn from many alternatives per sentence slot (and slots are optional or reordered), so no section
comes from one template. EMR quirks are applied per piece: full-width digits, half-width punctuation, stray spaces.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from cmedins.synth import identifiers as ids
from cmedins.synth import vocab_places as places
from cmedins.synth.mentions import age_pieces, date_piece, med, patient_name, phone_text, pii, staff_name
from cmedins.synth.patient import Patient, person_name
from cmedins.synth.text import Event, Finding, Piece, Section, Sentence, fullwidth_digits, parse_markup
from cmedins.synth.vocab_diseases import COMORBIDITIES, DISEASES, Disease
from cmedins.synth.vocab_drugs import DRUGS, HERBS
from cmedins.synth.vocab_labs import LABS, QUALITATIVE, ROUTINE
from cmedins.synth.vocab_overrides import COMORBID_DRUGS
from cmedins.synth.vocab_overrides import DRUGS as DRUG_OVERRIDES
from cmedins.synth.vocab_overrides import EXAMS as EXAM_OVERRIDES
from cmedins.synth.vocab_overrides import SIGNS as SIGN_OVERRIDES
from cmedins.synth.vocab_overrides import SYMPTOMS as SYMPTOM_OVERRIDES
from cmedins.synth.vocab_profiles import PROFILES

TEXT_FIELDS: tuple[str, ...] = (
    "chief_complaint",
    "present_illness",
    "past_history",
    "personal_history",
    "marital_history",
    "family_history",
    "physical_exam",
    "auxiliary_exam",
    "discharge_summary",
)

_BY_CODE = {d.code: d for d in DISEASES}
_LAB_ABBR = {
    "白细胞计数": "WBC",
    "中性粒细胞百分比": "NEUT%",
    "血红蛋白": "Hb",
    "血小板计数": "PLT",
    "C反应蛋白": "CRP",
    "丙氨酸氨基转移酶": "ALT",
    "天门冬氨酸氨基转移酶": "AST",
    "肌酐": "Cr",
    "尿素氮": "BUN",
    "钾": "K+",
    "钠": "Na+",
    "空腹血糖": "FPG",
    "糖化血红蛋白": "HbA1c",
    "肌钙蛋白I": "cTnI",
    "N末端B型利钠肽原": "NT-proBNP",
    "D-二聚体": "D-dimer",
    "总胆固醇": "TC",
    "甘油三酯": "TG",
    "低密度脂蛋白胆固醇": "LDL-C",
    "尿酸": "UA",
    "降钙素原": "PCT",
    "促甲状腺激素": "TSH",
    "游离甲状腺素": "FT4",
    "游离三碘甲状腺原氨酸": "FT3",
    "总胆红素": "TBIL",
    "白蛋白": "ALB",
    "血淀粉酶": "AMY",
    "红细胞沉降率": "ESR",
    "肌酸激酶同工酶": "CK-MB",
}
EPONYMS = (
    "桥本甲状腺炎",
    "克罗恩病",
    "帕金森病",
    "阿尔茨海默病",
    "梅尼埃病",
    "史密斯骨折",
    "科雷骨折",
    "格林巴利综合征",
    "库欣综合征",
    "雷诺综合征",
    "贝尔麻痹",
    "川崎病",
    "马凡综合征",
    "巴宾斯基征",
    "墨菲征",
    "麦氏点",
    "克氏征",
    "霍夫曼征",
    "罗姆伯格征",
)
_FAR_ABOVE = {
    "血β-人绒毛膜促性腺激素": (2000.0, 120000.0),
    "N末端B型利钠肽原": (900.0, 15000.0),
    "肌钙蛋白I": (0.1, 25.0),
    "降钙素原": (0.5, 20.0),
    "甲胎蛋白": (20.0, 2000.0),
    "D-二聚体": (1.0, 12.0),
}
_CHRONIC = {
    "hypertension",
    "diabetes",
    "copd",
    "heart_failure",
    "kidney",
    "liver",
    "rheum",
    "arrhythmia",
    "coronary",
    "asthma",
    "thyroid",
    "neuro",
    "spine_joint",
}
_SPECIALTY = {
    "精神卫生中心": "精神心理科",
    "胸科医院": "呼吸内科",
    "眼科医院": "眼科",
    "骨科医院": "骨科",
    "肿瘤医院": "肿瘤科",
}
_SURGERIES = (
    "阑尾切除术",
    "胆囊切除术",
    "剖宫产术",
    "子宫肌瘤剔除术",
    "甲状腺部分切除术",
    "PCI术",
    "腹股沟疝修补术",
    "白内障超声乳化+人工晶体植入术",
    "右膝关节镜下清理术",
    "痔切除术",
    "腰椎后路减压融合术",
)
_NEG_INFECT = ("肝炎", "结核", "伤寒", "疟疾")


@cache
def _markup(m: str) -> tuple[tuple[Piece, ...], tuple[Finding, ...]]:
    pieces, findings = parse_markup(m)
    return tuple(pieces), tuple(findings)


_BEFORE_WORDS = (
    "剧烈",
    "明显",
    "反复",
    "间断",
    "突发",
    "频繁",
    "高热",
    "低热",
    "慢性",
    "少量",
    "逐渐加深",
    "体检发现",
    "偶有",
)


def _before(desc: str) -> bool:
    """Whether a descriptor reads naturally in front of its subject (阵发性胸痛, 活动后气促) or after it."""
    if any(ch.isdigit() for ch in desc):
        return False
    return desc.endswith(("性", "样", "状", "后", "时")) or desc in _BEFORE_WORDS


# Head-to-toe systemic examination, normal findings. Each item lists the words that, if a disease-specific sign of
# this record mentions them, make the item contradictory: it is then left out (no "双下肢无水肿" next to 水肿).
_SYSTEM_EXAM: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("皮肤", "黄染", "巩膜", "皮疹", "瘀", "红斑", "疱疹", "鳞屑", "紫癜"),
        (
            "!{a:全身皮肤黏膜}无{s:黄染}、{s:皮疹}及{s:出血点}",
            "!{a:皮肤巩膜}无{s:黄染}",
            "!{a:全身皮肤}未见{s:瘀点瘀斑}",
        ),
    ),
    (("淋巴结",), ("!{a:全身浅表淋巴结}未触及{s:肿大}", "!{a:浅表淋巴结}未扪及{s:肿大}")),
    (
        ("瞳孔", "眼", "睑", "角膜", "晶状体", "结膜"),
        (
            "{a:头颅}无{s!:畸形}，{a:双侧}{s:瞳孔}{d:等大等圆}，{d:直径约3mm}，{s:对光反射}{d:灵敏}",
            "{s:双瞳}{d:等大等圆}，{s:对光反射}{d:存在}，{a:眼睑}无{s!:水肿}",
        ),
    ),
    (
        ("颈", "甲状腺", "颈静脉", "气管"),
        (
            "{s:颈}{d:软}，无{s!:抵抗}，{s:气管}{d:居中}，{a:甲状腺}未触及{s!:肿大}",
            "!{a:颈静脉}无{s:怒张}，{a:甲状腺}未触及{s:肿大}",
        ),
    ),
    (
        ("肺", "啰音", "呼吸音", "胸廓", "哮鸣", "叩诊", "桶状"),
        (
            "{s:胸廓}{d:对称}，{a*:双肺}{s:呼吸音}{d:清}，未闻及{s!:干湿性啰音}",
            "{a*:双肺}叩诊{s:清音}，{s:呼吸音}{d:清}，未闻及{s!:啰音}",
        ),
    ),
    (
        ("心", "杂音", "律", "心音"),
        (
            "{a:心前区}无{s!:隆起}，{s:心界}{d:不大}，{s:心率}{d:%PR%次/分}，{s:心律}{d:齐}，"
            "{a:各瓣膜听诊区}未闻及{d:病理性}{s!:杂音}",
            "{s:心率}{d:%PR%次/分}，{s:心律}{d:齐}，{a:各瓣膜听诊区}未闻及{s!:杂音}",
        ),
    ),
    (
        ("腹", "压痛", "墨菲", "麦氏", "肝", "脾", "肠鸣", "浊音", "包块", "腹水"),
        (
            "{s:腹}{d:平软}，{a:全腹}无{s!:压痛}及{s!:反跳痛}，{s!:肝脾}{a:肋下}未触及，{s!:墨菲征}阴性",
            "{s:腹}{d:软}，无{s!:压痛}、{s!:反跳痛}，{s!:肝脾}未触及，{s!:移动性浊音}阴性，{s:肠鸣音}{d:4次/分}",
        ),
    ),
    (("下肢", "水肿"), ("!{a:双下肢}无{s:水肿}", "!{a:双下肢}无{d:凹陷性}{s:水肿}")),
    (
        ("反射", "巴宾斯基", "肌力", "肌张力", "征", "面", "鼻唇沟", "震颤"),
        (
            "{a:四肢}{s:肌力}、{s:肌张力}{d:正常}，{s:生理反射}{d:存在}，{s!:病理反射}未引出",
            "{s!:巴宾斯基征}阴性，{s!:脑膜刺激征}阴性",
        ),
    ),
    (
        ("脊柱", "四肢", "关节", "畸形", "骨"),
        ("{a:脊柱四肢}无{s!:畸形}，{s:活动}{d:自如}", "{a:脊柱}{s:生理弯曲}{d:存在}，{a:四肢关节}无{s!:红肿}"),
    ),
)


@dataclass
class Visit:
    """Everything the composer decides about one visit before writing text."""

    patient: Patient
    disease: Disease
    comorbid: list[Disease]
    visit_type: str
    department: str
    hospital: str
    admission: date
    discharge: date | None
    doctors: list[tuple[str, str]]
    age: int


@dataclass
class Draft:
    """A record before rendering: structured values, sections of pieces, events pointing at sentences."""

    fields: dict
    sections: dict[str, Section]
    events: list[Event] = field(default_factory=list)


class Composer:
    def __init__(self, rng: random.Random, v: Visit) -> None:
        self.rng, self.v = rng, v
        self.profile = PROFILES[v.disease.profile]
        self.sx = SYMPTOM_OVERRIDES.get(v.disease.code, self.profile.sx)
        self.drug_list = DRUG_OVERRIDES.get(v.disease.code, self.profile.drugs)
        self.signs = SIGN_OVERRIDES.get(v.disease.code, self.profile.signs)
        self.exams = EXAM_OVERRIDES.get(v.disease.code, self.profile.exams)
        self.cc_sx: list[str] = []
        self.sections = {name: Section(name) for name in TEXT_FIELDS}
        self.events: list[Event] = []
        self.quirky = rng.random() < 0.35  # this note's author types full-width digits / half-width punctuation
        self.wording = self._wording(v.disease, primary=True)
        self.drugs: list[tuple[str, str, str, str]] = []
        self.labs: list[dict] = []
        self.cc_duration = ""
        self.preg_weeks = ""
        self.cc_days = 0
        self.exam_signs: list[str] = []
        self.picked: dict[str, tuple[str | None, str | None]] = {}
        self.lmp: date | None = None
        self.child = v.age < 14

    # ---------- helpers ----------
    def c(self, *opts: str) -> str:
        return self.rng.choice(opts)

    def q(self, text: str) -> Piece:
        """Plain prose with this author's quirks."""
        if self.quirky:
            r = self.rng.random()
            if r < 0.3:
                text = fullwidth_digits(text)
            elif r < 0.45:
                text = text.replace("，", ",").replace("：", ":")
        return (text, None)

    def sent(self, section: str, pieces: list[Piece], evs: list[tuple] = ()) -> Sentence:
        if self.quirky and self.rng.random() < 0.12:
            pieces = [(" ", None), *pieces] if self.rng.random() < 0.5 else [*pieces, ("  ", None)]
        s = self.sections[section].add(pieces)
        for subj, descs, anats, status in evs:
            self.events.append(Event(section, s, subj, list(descs), list(anats), status))
        return s

    def _wording(self, d: Disease, primary: bool = False) -> str:
        words = [w for w in d.wordings if "绝经" not in w or self.v.patient.sex == "女"] or list(d.wordings)
        w = self.rng.choice(words)
        r = self.rng.random()
        if primary and r < 0.12 and d.profile in ("copd", "asthma"):
            w += self.c("（急性发作期）", "急性加重", "(活动期)")
        elif primary and r < 0.2:
            w += self.c("", "？", "(初诊)", "（复诊）")
        return w

    def symptom(self, sx: str, status: str = "肯定", brief: bool = False) -> tuple[list[Piece], tuple]:
        """A symptom phrase (anatomy, descriptor, subject in a natural order) and its event tuple."""
        subj, d_raw, a_raw = sx.split("|")
        descs = [x for x in d_raw.split(",") if x]
        anats = [x for x in a_raw.split(",") if x]
        if sx in self.picked:  # the same symptom keeps its side and character from 主诉 to 现病史
            d, a = self.picked[sx]
        else:
            d = self.rng.choice(descs) if descs and self.rng.random() < 0.7 else None
            a = self.rng.choice(anats) if anats and self.rng.random() < 0.85 else None
            self.picked[sx] = (d, a)
        if d and set(d) & set(subj):
            d = None  # 低热 + 发热 reads as a stutter
        pieces: list[Piece] = []
        overlap = a is not None and bool(set(a) & set(subj))
        if brief and overlap:
            a = None
        if a and not overlap and (brief or self.rng.random() < 0.8):
            pieces.append((a, "Ea"))
            a_after = None
        else:
            a_after = a
        after = d is not None and not _before(d)
        if after and brief:
            d, after = None, False
        if d and not after:
            pieces.append((d, "Ed"))
        pieces.append((subj, "Es"))
        if d and after:
            if d.startswith("约"):
                joint = ""  # 停经约32周
            elif d[0].isdigit() or d.startswith(("近", "每", "最")):
                joint = "，"
            else:
                joint = self.c("，", "，呈", "，为", "，")
            pieces += [self.q(joint), (d, "Ed")]
        if a_after:
            how = self.c("，以|为主", "，位于|", "，以|明显", "，部位在|").split("|")
            pieces += [self.q(how[0]), (a_after, "Ea"), (how[1], None)]
        return pieces, (subj, [d] if d else [], [a] if a else [], status)

    def negatives(self, section: str, subjects: list[str], lead: str | None = None, end: str | None = None) -> None:
        if not subjects:
            return
        lead = lead or self.c("无", "不伴", "否认", "未诉", "无明显", "未见")
        pieces: list[Piece] = [self.q(lead)]
        evs = []
        for i, s in enumerate(subjects):
            if i:
                pieces.append(self.q(self.c("、", "及", "、", "，")))
            pieces.append((s, "Es"))
            evs.append((s, [], [], "否定"))
        pieces.append(self.q(end or self.c("。", "等不适。", "等症状。", "。")))
        self.sent(section, pieces, evs)

    def markup_sentence(self, section: str, m: str, prefix: list[Piece] = (), end: str = "。") -> None:
        pieces, findings = _markup(m)
        evs = [(f.subject, f.descriptors, f.anatomy, f.status) for f in findings]  # one event per finding
        self.sent(section, [*prefix, *pieces, self.q(end)], evs)

    def duration(self) -> str:
        unit = self.rng.choice(self.profile.units)
        n = {
            "天": self.rng.randrange(1, 15),
            "周": self.rng.randrange(1, 8),
            "月": self.rng.randrange(1, 12),
            "年": self.rng.randrange(1, 20),
        }[unit]
        self.cc_days = n * {"天": 1, "周": 7, "月": 30, "年": 365}[unit]
        if self.rng.random() < 0.15 and unit != "天":
            return f"{n}{unit}余" if unit != "周" else f"{n}周余"
        return f"{n}{'个月' if unit == '月' and self.rng.random() < 0.6 else unit}"

    def name_of_patient(self) -> list[Piece]:
        p = self.v.patient
        return patient_name(self.rng, p.surname, p.given, p.sex, self.v.age)

    def hosp(self) -> Piece:
        """Another hospital the patient went to; specialty hospitals only for their own specialty."""
        dept = self.v.department
        pool = [h for h in places.OTHER_HOSPITALS if all(k not in h or d == dept for k, d in _SPECIALTY.items())]
        return pii(self.rng.choice(pool), "HOSPITAL")

    def drug_phrase(self, name: str, full: bool = True) -> list[Piece]:
        doses, route, freqs = DRUGS[name]
        dose, freq = self.rng.choice(doses), self.rng.choice(freqs)
        out: list[Piece] = [med(name, "drug")]
        if full:
            out += [
                (" " if self.rng.random() < 0.7 else "", None),
                med(dose, "dose"),
                (" ", None),
                (self.c(freq, f"{route} {freq}", f"{freq} {route}"), None),
            ]
        return out

    # ---------- structured parts ----------
    def build_structured(self) -> tuple[list[dict], list[dict], list[dict]]:
        rng, v = self.rng, self.v
        diagnoses = [
            {"text": self.wording, "icd10_code": v.disease.code, "icd10_name": v.disease.name, "primary": True}
        ]
        if v.comorbid and rng.random() < 0.08:
            diagnoses[0]["text"] = f"{self.wording} {self._wording(v.comorbid[0])}"  # several joined in one line
        for d in v.comorbid:
            diagnoses.append({"text": self._wording(d), "icd10_code": d.code, "icd10_name": d.name, "primary": False})
        picks = rng.sample(self.drug_list, k=min(len(self.drug_list), rng.randrange(1, 5)))
        for d in v.comorbid:
            picks.append(rng.choice(COMORBID_DRUGS.get(d.code, PROFILES[d.profile].drugs)))
        meds = []
        seen = set()
        for name in picks:
            if name in seen:
                continue
            seen.add(name)
            doses, route, freqs = DRUGS[name]
            dose, freq = rng.choice(doses), rng.choice(freqs)
            meds.append({"drug": name, "dose": dose, "route": route, "frequency": freq})
            self.drugs.append((name, dose, route, freq))
        labs = []
        wanted = [x.split(":") for x in self.profile.labs]
        abnormal = {k: f for k, f in wanted}
        items = list(dict.fromkeys([*(ROUTINE if v.visit_type != "门诊" else ()), *abnormal]))
        if v.visit_type == "门诊":
            items = items[: rng.randrange(1, 5)]
        for item in items:
            flag = abnormal.get(item)
            if item in QUALITATIVE:
                normal, bad = QUALITATIVE[item]
                val = bad if flag == "A" and rng.random() < 0.85 else normal
                labs.append(
                    {
                        "item": item,
                        "value": val,
                        "unit": "",
                        "reference_range": "阴性",
                        "flag": "" if val == normal else "H",
                    }
                )
                continue
            unit, lo, hi, dec = LABS[item]
            span = hi - lo if hi > lo else 1.0
            if flag == "H" and item in _FAR_ABOVE:
                x = rng.uniform(*_FAR_ABOVE[item])  # markers that rise by orders of magnitude, not by a margin
            elif flag == "H" and rng.random() < 0.85:
                x = hi + span * rng.uniform(0.1, 1.5)
            elif flag == "L" and rng.random() < 0.85:
                x = max(lo - span * rng.uniform(0.1, 0.6), lo * 0.3)
            else:
                x = rng.uniform(lo + 0.1 * span, hi - 0.1 * span)
            val = f"{x:.{dec}f}"
            fx = float(val)
            fl = "H" if fx > hi else ("L" if fx < lo else "N")
            ref = f"{lo:g}-{hi:g}" if lo > 0 else f"<{hi:g}"
            labs.append({"item": item, "value": val, "unit": unit, "reference_range": ref, "flag": fl})
        self.labs = labs
        return diagnoses, meds, labs

    # ---------- sections ----------
    def _pregnancy_complaint(self, first: str) -> str:
        """停经32周，阴道流液2小时: gestational age first, then the complaint that brought her in."""
        rng = self.rng
        early = self.v.disease.code in ("O20.001", "O21.903") or self.v.disease.department == "妇科"
        weeks = self.preg_weeks = f"{rng.randrange(6, 13) if early else rng.randrange(28, 41)}周"
        second = rng.choice([s for s in self.sx if s != first and not s.startswith("停经|")])
        self.cc_sx.append(second)
        p2, e2 = self.symptom(second, brief=True)
        self.cc_duration = self.c(f"{rng.randrange(2, 13)}小时", f"{rng.randrange(1, 6)}天")
        pieces: list[Piece] = [("停经", "Es"), self.q(weeks + self.c("，", "余，")), *p2, self.q(self.cc_duration)]
        self.sent("chief_complaint", pieces, [("停经", [], [], "肯定"), e2])
        return "".join(p[0] for p in pieces)

    def chief_complaint(self) -> str:
        sx = self.sx
        first = self.rng.choice(sx)
        amen = [s for s in sx if s.startswith("停经|")]
        if amen and len(sx) > 1 and (self.v.disease.profile == "obstetric" or self.v.disease.code.startswith("O")):
            first = amen[0]
        self.cc_sx = [first]
        if first.startswith("停经|") and len(sx) > 1:
            return self._pregnancy_complaint(first)
        p1, e1 = self.symptom(first, brief=True)
        pieces: list[Piece] = list(p1)
        evs = [e1]
        if self.rng.random() < 0.45 and len(sx) > 1:
            second = self.rng.choice([s for s in sx if s != first])
            self.cc_sx.append(second)
            p2, e2 = self.symptom(second, brief=True)
            pieces += [self.q(self.c("伴", "、", "，伴", "及")), *p2]
            evs.append(e2)
        dur = self.cc_duration = self.duration()
        r = self.rng.random()
        if r < 0.2 or "升高" in first.split("|")[0]:
            found = any(k in first for k in ("肿", "结节", "块", "增大", "升高"))
            course = self.c("反复", "间断")
            if found:
                pieces = [self.q("发现"), *pieces]
            elif not any(course in e[1] for e in evs):  # 反复胸痛: the course word describes each complaint
                pieces = [(course, "Ed"), *pieces]
                for e in evs:
                    e[1].insert(0, course)
        pieces.append(self.q(dur))
        if self.rng.random() < 0.3:
            change = self.c("加重", "再发", "复发", "加重")  # ，加重3天: said of the complaint as a whole
            pieces += [self.q("，"), (change, "Ed"), self.q(f"{self.rng.randrange(1, 8)}天")]
            for e in evs:
                if change not in e[1]:
                    e[1].append(change)
        if self.rng.random() < 0.3:
            pieces.append(self.q("。"))
        self.sent("chief_complaint", pieces, evs)
        return "".join(p[0] for p in pieces)

    def present_illness(self, cc: str) -> None:
        rng, v, sec = self.rng, self.v, "present_illness"
        inpatient = v.visit_type != "门诊"
        lead: list[Piece] = []
        r = rng.random()
        if r < 0.35:
            lead = [self.q("患儿" if self.child else "患者"), *self.name_of_patient(), self.q("，")]
            if rng.random() < 0.6:
                lead += [
                    self.q(f"{v.patient.sex}，"),
                    *age_pieces(v.age, rng, (v.admission - v.patient.birth).days),
                    self.q("，"),
                ]
                if rng.random() < 0.15:
                    lead[-1:] = [
                        self.q("（"),
                        date_piece(rng, v.patient.birth, birth=True),
                        self.q(self.c("生）", "出生）")),
                        self.q("，"),
                    ]
        elif r < 0.6:
            lead = [self.q("患儿" if self.child else self.c("患者", "病人"))]
        rest = [s for s in self.sx if s not in self.cc_sx and not s.startswith("停经|")]
        rng.shuffle(rest)
        sx = [*self.cc_sx, *rest]
        if self.preg_weeks:
            # 平素月经规律，末次月经2023-01-05，停经32周: gestational dating opens an obstetric history
            lmp = self.lmp = v.admission - timedelta(days=7 * int(self.preg_weeks.rstrip("周")) + rng.randrange(0, 7))
            self.sent(
                sec,
                [
                    *lead,
                    self.q(self.c("平素月经规律，", "既往月经规律，", "")),
                    self.q(self.c("末次月经", "LMP：", "LMP ")),
                    date_piece(rng, lmp),
                    self.q(f"，停经{self.preg_weeks}，"),
                    self.q(self.c("早孕反应不明显。", "孕期定期产检。", "停经40余天查尿HCG阳性。", "未规律产检。")),
                ],
            )
            lead = []
            sx = sx[1:]
        elif v.disease.profile in _CHRONIC and "急性" not in v.disease.name and v.age >= 30 and rng.random() < 0.45:
            self.chronic_course(sec, lead)
            lead = [self.q(self.c("", "此次", "本次"))]
        p1, e1 = self.symptom(sx[0])
        dur = self.cc_duration
        onset = self.q(self.c(f"{dur}前", f"于{dur}前", f"约{dur}前", f"{dur}前"))
        if self.child:
            trig = self.q(self.c("无明显诱因", "受凉后", "", "进食不洁食物后", "夜间", "无诱因"))
        else:
            trig = self.q(
                self.c("无明显诱因", "受凉后", "劳累后", "活动后", "情绪激动后", "饱餐后", "", "无诱因", "夜间")
            )
        verb = self.q(self.c("出现", "开始出现", "感", "自觉", "突发", "渐出现"))
        pieces = [*lead, onset, trig, verb, *p1]
        evs = [e1]
        if len(sx) > 1 and rng.random() < 0.7:
            p2, e2 = self.symptom(sx[1])
            joints = ("，伴", "，伴有", "，同时伴", *(() if p2[0][0].startswith("无") else ("，并",)))
            pieces += [self.q(self.c(*joints)), *p2]  # not 并无痛性…, which reads as a negation
            evs.append(e2)
        pieces.append(self.q("。"))
        self.sent(sec, pieces, evs)
        if rng.random() < 0.6:
            self.sent(
                sec,
                [
                    self.q(
                        self.c(
                            "症状呈持续性，休息后不能缓解。",
                            "上述症状反复发作，时轻时重。",
                            "每次持续数分钟至半小时不等，休息后可自行缓解。",
                            "症状逐渐加重，影响日常生活。",
                            "当时未予重视，未行特殊诊治。",
                            "自行服用“感冒药”（具体不详），效果欠佳。",
                            "病程中症状间断出现，与体位无关。",
                        )
                    )
                ],
            )
        negs = rng.sample(self.profile.neg, k=min(len(self.profile.neg), rng.randrange(1, 4)))
        self.negatives(sec, negs)
        if rng.random() < 0.5:
            when = date_piece(rng, v.admission - timedelta(days=rng.randrange(3, 400)))
            dname = rng.choice(self.drug_list)
            went = self.c("曾就诊于|，查", "于|就诊，行", "在|门诊就诊，完善", "至|就诊，查", "曾到|，完善").split("|")
            pieces = [
                when,
                self.q(went[0]),
                self.hosp(),
                self.q(went[1]),
                self.q(self.c("血常规", "相关检查", "心电图", "彩超", "CT")),
                self.q(self.c("后诊断不详，予", "，予", "，考虑“" + self.wording + "”，给予")),
                *self.drug_phrase(dname),
                self.q(self.c("等治疗，症状稍缓解。", "治疗后好转。", "治疗，效果不佳。", "对症处理。")),
            ]
            self.sent(sec, pieces)
        if len(sx) > 2 and self.cc_days > 2 and rng.random() < 0.5:
            p3, e3 = self.symptom(sx[2])
            self.sent(
                sec,
                [
                    self.q(f"{rng.randrange(1, min(7, self.cc_days))}天前"),
                    self.q(self.c("上述症状加重，并出现", "症状再发加重，伴", "病情加重，新出现")),
                    *p3,
                    self.q("。"),
                ],
                [e3],
            )
        ddx = [x for x in self.profile.ddx if "妊娠" not in x or (v.patient.sex == "女" and 16 < v.age < 50)]
        if ddx and rng.random() < 0.45:
            dd = rng.choice(ddx)
            form = rng.randrange(4)
            if form == 0:
                pieces = [self.q("门诊考虑"), (dd, "Es"), self.q("可能。")]
            elif form == 1:
                pieces = [self.q("当地医院怀疑"), (dd, "Es"), self.q("，未明确。")]
            elif form == 2:
                pieces = [self.q("需排除"), (dd, "Es"), self.q("。")]
            else:
                pieces = [(dd, "Es"), self.q("待排。")]
            self.sent(sec, pieces, [(dd, [], [], "不确定")])
        if rng.random() < 0.35 and v.patient.relatives:
            rel, rs, rg = rng.choice(v.patient.relatives)
            pieces = [
                self.q(self.c("今由", "由", "此次由")),
                self.q(rel),
                pii(rs + rg if rng.random() < 0.7 else rs + "某", "PERSON"),
                self.q(
                    self.c("陪同就诊", "陪同来院", "送入我院", "陪同入院")
                    if inpatient
                    else self.c("陪同就诊", "陪同来诊")
                ),
                self.q("，"),
            ]
            if rng.random() < 0.5 and rel not in ("同事", "邻居"):
                pieces += [self.q(self.c("病史由家属代诉", "家属代诉病史")), self.q("，")]
            pieces += [
                self.q(self.c("家属联系电话：", "联系方式 ", "电话")),
                pii(phone_text(rng, v.patient.relative_phone), "PHONE"),
                self.q("。"),
            ]
            self.sent(sec, pieces)
        if rng.random() < 0.05:
            lab, val = ids.social_account(rng)
            self.sent(sec, [self.q(f"家属留{lab}："), pii(val, "SOCIAL_ACCOUNT"), self.q("，便于随访。")])
        if v.disease.profile == "trauma" and rng.random() < 0.5:
            self.sent(
                sec,
                [
                    self.q(self.c("系骑电动车时与一辆小轿车（车牌号", "因交通事故被车辆（", "驾驶车辆（")),
                    pii(ids.license_plate(rng), "LICENSE_PLATE"),
                    self.q(self.c("）相撞致伤。", "）撞伤。", "）追尾受伤。")),
                ],
            )
        if v.visit_type == "急诊":
            self.sent(
                sec,
                [
                    self.q(
                        self.c(
                            "遂由120送至我院急诊。",
                            "家属遂送来我院急诊。",
                            "今急来我院急诊科就诊。",
                            "为求诊治来我院急诊。",
                        )
                    )
                ],
            )
        elif inpatient:
            tail = self.c("为求进一步诊治，", "为进一步治疗，", "今为求系统诊治，", "", "现为求进一步诊治，")
            how = self.c("门诊以", "急诊以", "门诊拟", "门诊遂以")
            self.sent(
                sec,
                [
                    self.q(tail),
                    self.q(f"{'来我院就诊，' if rng.random() < 0.5 else ''}{how}“"),
                    self.q(self.wording),
                    self.q(self.c("”收入我科。", "”收住入院。", "”收入院。", "”入院。")),
                ],
            )
            self.sent(
                sec,
                [
                    self.q(
                        self.c(
                            "发病以来，患者精神、食欲、睡眠可，大小便正常，体重无明显变化。",
                            "自起病以来，精神欠佳，胃纳差，夜眠一般，二便如常，近期体重下降约2kg。",
                            "病程中，神志清，精神可，饮食睡眠尚可，大便正常，小便如常，体重无明显改变。",
                            "发病来精神、饮食、睡眠差，大小便无异常，体重未测。",
                            "近期精神状态一般，体力下降，食欲、睡眠可，大小便正常。",
                        )
                    )
                ],
            )
        else:
            self.sent(
                sec,
                [self.q(self.c("今来我院门诊就诊。", "今为求诊治来我科门诊。", "现来诊。", "遂来就诊。", "今复诊。"))],
            )

    def chronic_course(self, sec: str, lead: list[Piece]) -> None:
        """The long view that opens chronic-disease histories: found years ago, diagnosed where, treated how."""
        rng, v = self.rng, self.v
        years = rng.randrange(2, min(30, v.age - 20) + 1) if v.age >= 23 else 1
        years = max(years, self.cc_days // 365 + 2)  # the long story starts before this episode
        prof = v.disease.profile
        if prof == "hypertension":
            found: list[Piece] = [
                self.q(self.c("体检发现血压升高，最高达", "无明显诱因出现头晕，测血压")),
                med(f"{rng.randrange(160, 210)}/{rng.randrange(95, 125)}mmHg", "vital"),
            ]
        elif prof == "diabetes":
            found = [
                self.q(self.c("体检发现血糖升高，", "因口干多饮查")),
                med(f"空腹血糖 {rng.uniform(7.5, 16.0):.1f}mmol/L", "lab_value"),
            ]
        elif prof == "kidney":
            found = [self.q("体检发现"), med(f"血肌酐 {rng.randrange(130, 600)}μmol/L", "lab_value")]
        else:
            subj = self.sx[0].split("|")[0]
            how = self.c("无明显诱因出现", "反复出现", "开始出现")
            found = [("反复", "Ed"), self.q("出现")] if how == "反复出现" else [self.q(how)]
            found.append((subj, "Es"))
        where = self.hosp() if rng.random() < 0.6 else self.q(self.c("当地医院", "外院", "社区医院"))
        oral = [x for x in self.drug_list if DRUGS[x][1] in ("口服", "吸入", "外用", "滴眼", "鼻喷", "嚼服")]
        dname = rng.choice(oral or list(self.drug_list))
        pieces = [
            *lead,
            self.q(f"{years}年前"),
            *found,
            self.q("，"),
            self.q(self.c("于", "在", "就诊于")),
            where,
            self.q(self.c("诊断为“", "诊断“", "明确诊断为“")),
            self.q(v.disease.wordings[0]),
            self.q(self.c("”，此后", "”，")),
            self.q(self.c("规律", "间断", "长期") + ("服用" if DRUGS[dname][1] == "口服" else "使用")),
            *self.drug_phrase(dname),
        ]
        if prof == "hypertension":
            pieces += [
                self.q("，血压控制在"),
                med(f"{rng.randrange(125, 150)}/{rng.randrange(75, 95)}mmHg", "vital"),
                self.q(self.c("左右。", "。")),
            ]
        else:
            pieces.append(
                self.q(self.c("，病情控制尚可。", "，症状时有反复。", "，未规律复查。", "治疗，症状可缓解。"))
            )
        if found[-1][1] == "Es":  # 5年前出现胸痛， is annotated alone: the quoted diagnosis after it is no finding
            cut = len(lead) + 2 + len(found)
            descs = [w for w, tag in found if tag == "Ed"]
            self.sent(sec, pieces[:cut], [(found[-1][0], descs, [], "肯定")])
            pieces = pieces[cut:]
        self.sent(sec, pieces)

    def past_history(self) -> None:
        rng, v, sec = self.rng, self.v, "past_history"
        self.sections[sec].sep = self.c("", "", "\n")
        if v.comorbid:
            for d in v.comorbid:
                dname = rng.choice(COMORBID_DRUGS.get(d.code, PROFILES[d.profile].drugs))
                pieces = [
                    self.q(self.c("既往", "有", "发现", "")),
                    self.q(self._wording(d)),
                    self.q(self.c("病史", "史", "")),
                    self.q(f"{rng.randrange(1, 25)}年，"),
                    self.q(
                        self.c("长期", "规律", "不规律", "自行") + ("服用" if DRUGS[dname][1] == "口服" else "使用")
                    ),
                    *self.drug_phrase(dname),
                    self.q(self.c("，控制可。", "，控制欠佳。", "，未规律监测。", "。")),
                ]
                self.sent(sec, pieces)
        else:
            self.sent(sec, [self.q(self.c("既往体健。", "平素健康状况良好。", "既往身体健康。", "平素体质一般。"))])
        if rng.random() < 0.08:
            ep = rng.choice(EPONYMS[:13])
            self.sent(sec, [self.q(self.c("有", "既往诊断", "曾患")), med(ep, "eponym"), self.q("病史。")])
        if rng.random() < 0.75:
            subs = rng.sample(_NEG_INFECT, k=rng.randrange(1, 3))
            pieces = [self.q("否认")]
            evs = []
            for i, s in enumerate(subs):
                if i:
                    pieces.append(self.q("、"))
                pieces.append((s, "Es"))
                evs.append((s, [], [], "否定"))
            if self.sections[sec].sep:  # sentences on their own lines end with a full stop
                pieces.append(self.q(self.c("等传染病史。", "病史。")))
            else:
                pieces.append(self.q(self.c("等传染病史，", "等传染病病史；", "病史，")))
            self.sent(sec, pieces, evs)  # its own sentence: 外伤史/输血史 are history items, not findings
            rest = [self.q(self.c("否认外伤史，", "无重大外伤史，", ""))]
            self.sent(sec, [*rest, self.q(self.c("否认输血史。", "无输血史。", "预防接种史随当地。"))])
        if not self.child and v.age >= 20 and rng.random() < 0.35:
            surg = rng.choice(
                [
                    s
                    for s in _SURGERIES
                    if (v.patient.sex == "女" or s not in ("剖宫产术", "子宫肌瘤剔除术"))
                    and (v.age > 45 or s != "PCI术")
                ]
            )
            when = date_piece(rng, v.admission - timedelta(days=rng.randrange(400, min(9000, 365 * (v.age - 16)))))
            if rng.random() < 0.5:
                self.sent(sec, [when, self.q(self.c("于", "在")), self.hosp(), self.q(f"行{surg}，术后恢复可。")])
            else:
                self.sent(
                    sec,
                    [
                        self.q(f"{rng.randrange(1, min(30, v.age - 15))}年前因病于"),
                        self.hosp(),
                        self.q(f"行“{surg}”，具体不详。"),
                    ],
                )
        if not self.child and rng.random() < 0.12:
            herbs = rng.sample(HERBS, k=rng.randrange(3, 7))
            pieces = [self.q(self.c("近半年间断服用中药汤剂（", "曾服中药调理（处方：", "长期服用自配中药（"))]
            for i, (h, g) in enumerate(herbs):
                if i:
                    pieces.append(self.q(self.c("、", "，", " ")))
                pieces += [med(h, "herb"), med(f"{g + rng.choice((-3, 0, 0, 3, 5))}g", "dose")]
            pieces.append(self.q("）。"))
            self.sent(sec, pieces)
        r = rng.random()
        if r < 0.6:
            self.sent(
                sec,
                [self.q(self.c("否认药物、食物过敏史。", "否认药物过敏史。", "无已知药物过敏。", "过敏史：否认。"))],
            )
        else:
            self.sent(
                sec,
                [
                    self.q(self.c("对", "自诉对", "有")),
                    med(self.c("青霉素", "头孢类", "磺胺类", "阿司匹林", "碘造影剂"), "drug"),
                    self.q(self.c("过敏。", "过敏，表现为皮疹。", "过敏。")),
                ],
            )

    def child_history(self) -> None:
        """Children get 出生史/喂养史/预防接种史 instead of occupation, smoking and marriage."""
        rng, sec = self.rng, "personal_history"
        school_kind = rng.choice(("实验小学", "第一小学", "阳光幼儿园", "中心幼儿园"))
        birth = [
            self.q(self.c("第1胎第1产，", "第2胎第2产，", "G1P1，", "第1胎第1产，")),
            self.q(self.c("足月顺产，", "足月剖宫产，", "孕36周早产，")),
            self.q(f"出生体重{rng.choice(('2.9', '3.1', '3.3', '3.5', '3.6', '2.6'))}kg，"),
            self.q(self.c("无窒息抢救史。", "生后无窒息。", "Apgar评分不详。")),
        ]
        if rng.random() < 0.3:
            birth[0:0] = [date_piece(rng, self.v.patient.birth, birth=True), self.q("出生，")]
        self.sent(sec, birth)
        self.sent(
            sec,
            [
                self.q(self.c("生长发育同同龄儿，", "生长发育正常，", "智力体格发育与同龄儿相仿，")),
                self.q(self.c("按计划预防接种。", "预防接种按时完成。", "疫苗按时接种。")),
            ],
        )
        p = self.v.patient
        if rng.random() < 0.5:
            self.sent(
                sec, [self.q(self.c("现住", "家住", "住址：")), pii(p.address.full(rng), "ADDRESS"), self.q("。")]
            )
        if rng.random() < 0.2:
            school = f"{p.address.city.removesuffix('市')}{p.address.district}{school_kind}"
            self.sent(
                sec,
                [
                    self.q(self.c("在", "就读于")),
                    pii(
                        school,
                        "ORGANIZATION",
                    ),
                    self.q(self.c("上学。", "就读。")),
                ],
            )

    def personal_history(self) -> None:
        if self.child:
            self.child_history()
            return
        rng, p, sec = self.rng, self.v.patient, "personal_history"
        bp = p.birthplace
        born: list[Piece] = []
        if rng.random() < 0.22:
            born = (
                [date_piece(rng, p.birth, birth=True)]
                if rng.random() < 0.5
                else [self.q(self.c("出生日期：", "DOB ", "生日")), date_piece(rng, p.birth, birth=True), self.q("，")]
            )
        self.sent(
            sec,
            [
                *born,
                self.q(self.c("生于", "出生于", "原籍") if not born or born[-1][0] == "，" else "出生于"),
                pii(bp.province + bp.city if bp.province != bp.city else bp.city, "ADDRESS"),
                self.q(self.c("，久居本地。", "。", "，长期居住于当地。", "，无长期外地居住史。")),
            ],
        )
        if rng.random() < 0.55:
            self.sent(
                sec,
                [
                    self.q(self.c("现住", "现居住于", "家住", "住址：")),
                    pii(p.address.full(rng), "ADDRESS"),
                    self.q("。"),
                ],
            )
        if p.employer and rng.random() < 0.7:
            how = self.c(
                f"在|工作，职业{p.job}。",
                f"就职于|，任{p.job}。",
                f"工作单位：|，职业：{p.job}。",
                f"于|从事{p.job}工作。",
                f"现在|上班（{p.job}）。",
            ).split("|")
            self.sent(sec, [self.q(how[0]), pii(p.employer, "ORGANIZATION"), self.q(how[1])])
        else:
            self.sent(sec, [self.q(f"职业：{p.job}。")])
        if rng.random() < 0.25:
            self.sent(
                sec,
                [
                    self.q(self.c("身份证号：", "身份证号码 ", "身份证:", "证件号")),
                    pii(ids.id_surface(rng, p.id_number), "ID_NUMBER"),
                    self.q("。"),
                ],
            )
        elif rng.random() < 0.03 and self.v.age > 40:
            self.sent(sec, [self.q("旧身份证号："), pii(ids.legacy_id(p.id_number), "ID_NUMBER"), self.q("。")])
        if rng.random() < 0.25:
            self.sent(
                sec,
                [
                    self.q(self.c("联系电话：", "本人电话 ", "手机:", "联系方式：")),
                    pii(phone_text(rng, p.phone), "PHONE"),
                    self.q("。"),
                ],
            )
        if rng.random() < 0.06:
            self.sent(sec, [self.q("邮箱："), pii(ids.email(rng, ids.pinyin_handle(rng)), "EMAIL"), self.q("。")])
        if rng.random() < 0.03:
            self.sent(
                sec,
                [self.q("近1月有出境史（护照号"), pii(ids.passport(rng), "PASSPORT"), self.q("），否认疫区接触史。")],
            )
        smoke = self.v.age >= 18 and rng.random() < (0.45 if p.sex == "男" else 0.06)
        if smoke:
            self.sent(
                sec,
                [
                    self.q(
                        f"吸烟{rng.randrange(2, max(3, min(40, self.v.age - 15)))}年，"
                        f"每日约{rng.choice((5, 10, 20, 30))}支，"
                        f"{self.c('未戒', '已戒烟' + str(rng.randrange(1, 10)) + '年', '现仍吸烟')}。"
                    )
                ],
            )
        else:
            self.sent(
                sec, [self.q(self.c("否认吸烟、饮酒史。", "无烟酒嗜好。", "不吸烟，偶饮酒。", "否认烟酒不良嗜好。"))]
            )
        self.sent(
            sec,
            [
                self.q(self.c("否认疫区、疫水接触史，", "无毒物及放射性物质接触史，", "")),
                self.q(self.c("否认冶游史。", "无特殊不良嗜好。", "生活规律。")),
            ],
        )

    def marital_history(self) -> None:
        rng, v, sec = self.rng, self.v, "marital_history"
        p = v.patient
        if self.child:
            return  # no 婚育史 for children
        if v.age < 20:
            self.sent(sec, [self.q("未婚未育。")])
        else:
            pieces: list[Piece] = [self.q(f"{rng.randrange(20, 32)}岁结婚，" if rng.random() < 0.6 else "已婚，")]
            spouse = [r for r in p.relatives if r[0] in ("其夫", "其妻", "丈夫", "妻子")]
            if spouse and rng.random() < 0.6:
                rel, rs, rg = spouse[0]
                pieces += [self.q("配偶"), pii(rs + rg, "PERSON"), self.q(self.c("体健，", "患高血压，", "已故，"))]
            else:
                pieces.append(self.q(self.c("配偶体健，", "夫妻关系和睦，", "配偶已故，")))
            pieces.append(self.q(self.c("育有1子1女。", "育1子。", "育有2女。", "育1女，子女体健。", "未育。")))
            self.sent(sec, pieces)
        if p.sex == "女" and v.age >= 13:
            men = f"{rng.randrange(12, 16)} {rng.randrange(3, 8)}/{rng.randrange(26, 35)}"
            pieces = [self.q(self.c("月经史：", "月经：", "")), med(men, "lab_value"), self.q("，")]
            if v.age >= 52:
                pieces.append(self.q(f"{rng.randrange(45, 55)}岁绝经。"))
            else:
                pieces += [
                    self.q(self.c("末次月经", "LMP：", "LMP ")),
                    date_piece(rng, self.lmp or v.admission - timedelta(days=rng.randrange(3, 40))),
                    self.q(
                        "，现孕" + self.preg_weeks + "。"
                        if self.preg_weeks
                        else self.c("，经量中等，无痛经。", "。", "，周期规律。")
                    ),
                ]
            self.sent(sec, pieces)

    def family_history(self) -> None:
        rng, v, sec = self.rng, self.v, "family_history"
        p = v.patient
        r = rng.random()
        if r < 0.4:
            self.sent(
                sec,
                [
                    self.q(self.c("父母健在，", "父母体健，", "父亲已故，母亲健在，")),
                    self.q(self.c("兄弟姐妹体健。", "兄妹3人均体健。", "有1兄，体健。")),
                ],
            )
        elif r < 0.75:
            d = _BY_CODE[rng.choice(COMORBIDITIES)]
            how = self.c("患|。", "有|病史。", "因|去世。", "患|多年。", "既往有|史。").split("|")
            self.sent(
                sec,
                [self.q(self.c("父亲", "母亲", "其父", "其母")), self.q(how[0]), self.q(d.wordings[0]), self.q(how[1])],
            )
        else:
            rel = [x for x in p.relatives if x[0] in ("其父", "父亲", "其母", "母亲", "兄长", "姐姐")]
            if rel:
                relation, rs, rg = rel[0]
                self.sent(
                    sec,
                    [
                        self.q(relation),
                        self.q("（"),
                        pii(rs + rg, "PERSON"),
                        self.q(self.c("）患糖尿病。", "）体健。", "）因肺癌去世。")),
                    ],
                )
            else:
                self.sent(sec, [self.q("家族中无类似患者。")])
        if rng.random() < 0.7:
            self.negatives(
                sec, [self.c("家族遗传病", "家族性遗传病", "遗传病")], lead="否认", end=self.c("史。", "及类似病史。")
            )

    def physical_exam(self) -> None:
        rng, v, sec = self.rng, self.v, "physical_exam"
        self.sections[sec].sep = self.c("", "", "\n", " ")
        fever = "发热" in "".join(self.profile.sx) and rng.random() < 0.6
        t = round(rng.uniform(38.0, 39.6) if fever else rng.uniform(36.2, 37.2), 1)
        pr = rng.randrange(60, 110)
        rr = rng.randrange(14, 24)
        hyper = self.v.disease.profile in ("hypertension", "stroke") or any(
            d.profile == "hypertension" for d in v.comorbid
        )
        sbp = rng.randrange(140, 190) if hyper else rng.randrange(100, 140)
        dbp = rng.randrange(80, 110) if hyper else rng.randrange(60, 90)
        if self.child:
            sbp, dbp, pr, rr = (
                rng.randrange(85, 112),
                rng.randrange(50, 72),
                rng.randrange(90, 140),
                rng.randrange(20, 35),
            )
        form = rng.randrange(3)
        if form == 0:
            items = [f"T {t}℃", f"P {pr}次/分", f"R {rr}次/分", f"BP {sbp}/{dbp}mmHg"]
            seps = [" ", " ", " "]
        elif form == 1:
            items = [f"T：{t}℃", f"P：{pr}次/分", f"R：{rr}次/分", f"BP：{sbp}/{dbp}mmHg"]
            seps = ["，", "，", "，"]
        else:
            items = [f"体温{t}℃", f"脉搏{pr}次/分", f"呼吸{rr}次/分", f"血压{sbp}/{dbp}mmHg"]
            seps = ["，", "，", "，"]
        pieces: list[Piece] = []
        for i, it in enumerate(items):
            if i:
                pieces.append((seps[i - 1], None))
            pieces.append(med(fullwidth_digits(it) if self.quirky and rng.random() < 0.2 else it, "vital"))
        if rng.random() < 0.3:
            pieces += [(self.c("，", " "), None), med(f"SpO2 {rng.randrange(88, 100)}%", "vital")]
        pieces.append(self.q("。" if not self.sections[sec].sep else self.c("。", "")))
        self.sent(sec, pieces)
        self.sent(
            sec,
            [
                self.q(
                    self.c(
                        "神志清楚，精神可，发育正常，营养中等，自主体位，查体合作。",
                        "神清，精神欠佳，急性病容，查体合作。",
                        "一般情况可，神志清，对答切题。",
                        "神清语利，慢性病容，步入诊室。"
                        if self.v.visit_type == "门诊"
                        else "神清语利，慢性病容，步入病房。",
                        "意识清楚，自动体位，查体合作。"
                        if self.v.visit_type == "门诊"
                        else "意识清楚，平车推入病房，查体欠合作。",
                    )
                )
            ],
        )
        signs = rng.sample(self.signs, k=min(len(self.signs), rng.randrange(1, 4)))
        shown = "".join(signs)
        items = [x for x in _SYSTEM_EXAM if not any(k in shown for k in x[0])]
        if v.visit_type == "门诊":
            items = [x for x in items if rng.random() < 0.3]
        for _, forms in items:
            self.markup_sentence(sec, rng.choice(forms).replace("%PR%", str(pr)), end=self.c("。", "。", "，", "；"))
        for i, m in enumerate(signs):
            prefix = [self.q(self.c("", "", "专科检查：", "专科情况："))] if i == 0 else []
            self.markup_sentence(sec, m, prefix=prefix, end=self.c("。", "；", "。") if i < len(signs) - 1 else "。")
        self.exam_signs = signs

    def auxiliary_exam(self) -> None:
        rng, v, sec = self.rng, self.v, "auxiliary_exam"
        self.sections[sec].sep = self.c("", "\n", "\n", "；")
        if self.labs:
            shown = [lab for lab in self.labs if lab["flag"] in ("H", "L") or rng.random() < 0.3][:8]
            if shown:
                pieces: list[Piece] = []
                if rng.random() < 0.6:
                    pieces += [
                        date_piece(rng, v.admission + timedelta(days=rng.randrange(0, 2))),
                        self.q(self.c("：", " ", "本院：")),
                    ]
                pieces.append(self.q(self.c("化验：", "实验室检查：", "血检示：", "")))
                for i, lab in enumerate(shown):
                    if i:
                        pieces.append(self.q(self.c("，", "，", "; ", " ")))
                    name = _LAB_ABBR.get(lab["item"], lab["item"]) if rng.random() < 0.6 else lab["item"]
                    arrow = {"H": "↑", "L": "↓"}.get(lab["flag"], "") if rng.random() < 0.4 else ""
                    pieces.append(
                        med(
                            f"{name} {lab['value']}{lab['unit']}{arrow}"
                            if rng.random() < 0.6
                            else f"{name}{lab['value']}{lab['unit']}{arrow}",
                            "lab_value",
                        )
                    )
                pieces.append(self.q("。"))
                self.sent(sec, pieces)
        for m in rng.sample(self.exams, k=min(len(self.exams), rng.randrange(1, 3))):
            prefix: list[Piece] = []
            r = rng.random()
            if r < 0.3:
                prefix = [
                    date_piece(rng, v.admission - timedelta(days=rng.randrange(0, 10))),
                    self.q(self.c("外院", "于")),
                    self.hosp(),
                    self.q(self.c("查", "检查：", "：")),
                ]
            elif r < 0.6:
                prefix = [
                    date_piece(rng, v.admission + timedelta(days=rng.randrange(0, 3))),
                    self.q(self.c("本院", " ", "：")),
                ]
            self.markup_sentence(sec, m, prefix=prefix, end=self.c("。", "。", "；"))

    def discharge_summary(self, cc: str) -> None:
        rng, v, sec = self.rng, self.v, "discharge_summary"
        if v.visit_type == "门诊" or v.discharge is None:
            return
        self.sections[sec].sep = self.c("", "\n")
        if rng.random() < 0.6:
            pieces: list[Piece] = [self.q(self.c("患者", "病人", "")), *self.name_of_patient(), self.q("，")]
        else:
            pieces = [self.q(self.c("患者，", "病人，", ""))]
        pieces += [
            self.q(f"{v.patient.sex}，"),
            *age_pieces(v.age, rng, (v.admission - v.patient.birth).days),
            self.q(self.c("，因“", "，主因“")),
            self.q(cc),
            self.q(self.c("”于", "”")),
            date_piece(rng, v.admission),
            self.q(self.c("入院。", "收入我科。")),
        ]
        self.sent(sec, pieces)
        if rng.random() < 0.5:
            self.sent(
                sec,
                [
                    self.q(self.c("入院后完善", "住院期间完善")),
                    self.q(self.c("血常规、生化、凝血", "三大常规、肝肾功能", "相关")),
                    self.q("等检查，诊断明确。"),
                ],
            )
        if self.exam_signs and rng.random() < 0.7:
            self.markup_sentence(
                sec, self.exam_signs[0], prefix=[self.q(self.c("入院查体：", "入院时查体：", "查体："))]
            )
        abnormal = [lab for lab in self.labs if lab["flag"] in ("H", "L")]
        if abnormal and rng.random() < 0.7:
            lab = rng.choice(abnormal)
            unit, lo, hi, dec = LABS.get(lab["item"], ("", 0.0, 1.0, 1))
            better = (lo + hi) / 2 + (float(lab["value"]) - (lo + hi) / 2) * rng.uniform(0.2, 0.6) if unit else None
            value = f"{better:.{dec}f}{unit}" if better is not None else "阴性"
            self.sent(
                sec,
                [
                    self.q(f"入院第{rng.randrange(2, max(3, min(8, (v.discharge - v.admission).days + 1)))}天复查"),
                    med(f"{lab['item']} {value}", "lab_value"),
                    self.q(self.c("，较前好转。", "，较前下降。", "，已恢复正常。", "。")),
                ],
            )
        drugs = self.drugs[: rng.randrange(1, 4)] or []
        if drugs:
            pieces = [self.q(self.c("予", "给予", "治疗上予"))]
            for i, (name, dose, route, freq) in enumerate(drugs):
                if i:
                    pieces.append(self.q("、"))
                pieces += [
                    med(name, "drug"),
                    (" ", None),
                    med(dose, "dose"),
                    (f" {route} {freq}" if rng.random() < 0.5 else "", None),
                ]
            pieces.append(self.q(self.c("等治疗，", "治疗后，")))
            pieces.append(self.q(self.c("患者症状明显好转。", "病情好转。", "症状缓解。", "病情平稳。")))
            self.sent(sec, pieces)
        pieces = [self.q(self.c("出院诊断：", "出院诊断:", "诊断："))]
        diags = [(self.wording, v.disease.code), *[(self._wording(d), d.code) for d in v.comorbid]]
        for i, (w, code) in enumerate(diags):
            pieces.append(self.q(f"{i + 1}." if len(diags) > 1 else ""))
            pieces.append(self.q(w))
            if rng.random() < 0.3:
                pieces += [self.q("（"), med(code, "icd_code"), self.q("）")]
            pieces.append(self.q(" " if i < len(diags) - 1 else "。"))
        self.sent(sec, pieces)
        self.sent(
            sec,
            [
                self.q(self.c("出院情况：患者一般情况可，", "出院时", "目前患者", "")),
                self.q(self.c("无明显不适，", "症状明显缓解，", "病情平稳，", "精神、饮食可，")),
                self.q(self.c("于", "")),
                date_piece(rng, v.discharge),
                self.q(self.c("出院。", "办理出院。", "好转出院。", "准予出院。")),
            ],
        )
        take_home = [d for d in self.drugs if not d[2].startswith(("静脉", "肌内"))]  # no drips go home
        if take_home and rng.random() < 0.8:
            pieces = [self.q(self.c("出院医嘱：", "出院带药：", "出院医嘱:"))]
            for i, (name, dose, route, freq) in enumerate(take_home):
                pieces += [
                    self.q(f"{i + 1}."),
                    med(name, "drug"),
                    (" ", None),
                    med(dose, "dose"),
                    (f" {route} {freq}", None),
                    self.q("；"),
                ]
            pieces.append(self.q(self.c("定期复查血常规、肝肾功能；", "1月后门诊复查；", "监测血压、血糖；")))
            pieces.append(self.q(self.c("如有不适及时就诊。", "不适随诊。", "门诊随访。")))
            self.sent(sec, pieces)
        doc = rng.choice(v.doctors)
        self.sent(
            sec,
            [
                self.q(self.c("出院后注意休息，定期复查，", "嘱出院后规律服药，", "门诊随访，")),
                self.q(self.c("于", "至", "挂")),
                *staff_name(rng, *doc, clinic=True),
                self.q(self.c("门诊复诊。", "专家门诊随诊。", "处复查。")),
            ],
        )
        if rng.random() < 0.5:
            a, b = rng.sample(v.doctors, 2) if len(v.doctors) > 1 else (v.doctors[0], v.doctors[0])
            self.sent(
                sec,
                [
                    self.q(self.c("主治医师：", "主治医生:", "上级医师 ")),
                    pii(a[0] + a[1], "PERSON"),
                    self.q(self.c("  住院医师：", " 经治医师:", "；记录者：")),
                    pii(b[0] + b[1], "PERSON"),
                    self.q("。"),
                ],
            )
        if rng.random() < 0.12:
            ns, ng = person_name(rng, "女")
            form = rng.randrange(3)
            if form == 0:
                pieces = [self.q("责任护士："), pii(ns + ng, "PERSON"), self.q("。")]
            elif form == 1:
                pieces = [self.q("出院宣教由"), pii(ns, "PERSON"), self.q(self.c("护士长", "护士")), self.q("完成。")]
            else:
                pieces = [self.q("护士"), pii(ns + ng, "PERSON"), self.q("已交代出院后注意事项。")]
            self.sent(sec, pieces)
        if rng.random() < 0.15:
            self.sent(
                sec,
                [
                    self.q(self.c("随访电话：", "科室电话 ")),
                    pii(ids.landline(rng), "PHONE"),
                    self.q(self.c("。", "（工作日）。")),
                ],
            )
        if rng.random() < 0.03:
            self.sent(sec, [self.q("自费部分已通过银行卡"), pii(ids.bank_card(rng), "BANK_CARD"), self.q("结清。")])
        if rng.random() < 0.02:
            self.sent(sec, [self.q("远程会诊终端地址"), pii(ids.ip_address(rng), "IP_ADDRESS"), self.q("。")])
        if rng.random() < 0.15:
            self.sent(
                sec,
                [
                    self.q(self.c("病案号：", "住院号:", "病历号 ")),
                    pii(v.patient.mrn, "MEDICAL_RECORD_NO"),
                    self.q("。"),
                ],
            )
        if rng.random() < 0.08:
            self.sent(sec, [self.q("医保号："), pii(v.patient.insurance_no, "INSURANCE_NO"), self.q("。")])
        if rng.random() < 0.05:
            self.sent(
                sec,
                [
                    self.q("复诊可通过"),
                    pii(f"https://fz.{self.c('jzyy', 'bhzx', 'ahyd')}.cn/p/{rng.randrange(10**5, 10**7)}", "URL"),
                    self.q("预约。"),
                ],
            )

    def outpatient_numbers(self) -> None:
        """Outpatient notes often carry the 门诊号 / 病案号 in the history itself."""
        rng, v = self.rng, self.v
        if rng.random() < 0.12:
            sec = rng.choice(("present_illness", "auxiliary_exam"))
            self.sent(
                sec,
                [
                    self.q(self.c("（门诊号：", "(病案号 ", "（ID号")),
                    pii(v.patient.mrn, "MEDICAL_RECORD_NO"),
                    self.q("）"),
                ],
            )
        if rng.random() < 0.04:
            how = self.c("患者既往多次在本院（|）就诊。", "曾于|门诊随访。", "外院建议转入|进一步诊治。").split("|")
            self.sent("present_illness", [self.q(how[0]), pii(v.hospital, "HOSPITAL"), self.q(how[1])])

    def compose(self) -> Draft:
        rng, v = self.rng, self.v
        diagnoses, meds, labs = self.build_structured()
        cc = self.chief_complaint()
        copy = v.patient.last_sections if v.patient.visits and rng.random() < 0.6 else {}
        self.present_illness(cc)
        if "past_history" in copy:
            self.sections["past_history"] = copy_section(copy["past_history"])  # copy-forward from the last visit
        else:
            self.past_history()
        if "personal_history" in copy and rng.random() < 0.7:
            self.sections["personal_history"] = copy_section(copy["personal_history"])
        else:
            self.personal_history()
        self.marital_history()
        self.family_history()
        self.physical_exam()
        self.auxiliary_exam()
        self.discharge_summary(cc)
        self.outpatient_numbers()
        fields = {
            "hospital": v.hospital,
            "department": v.department,
            "visit_type": v.visit_type,
            "admission_date": v.admission,
            "discharge_date": v.discharge,
            "patient_name": v.patient.name,
            "patient_sex": v.patient.sex,
            "patient_birth_date": v.patient.birth,
            "patient_id_number": v.patient.id_number,
            "patient_phone": v.patient.phone,
            "patient_address": v.patient.address.full(rng),
            "patient_mrn": v.patient.mrn,
            "patient_insurance_no": v.patient.insurance_no,
            "patient_employer": v.patient.employer,
            "patient_id": v.patient.patient_id,
            "labs": labs,
            "diagnoses": diagnoses,
            "medications": meds,
        }
        v.patient.last_sections = {k: self.sections[k] for k in ("past_history", "personal_history")}
        return Draft(fields, self.sections, self.events)


def copy_section(s: Section) -> Section:
    return Section(s.name, [Sentence(list(x.pieces)) for x in s.sentences], s.sep)
