"""主诉 and 现病史: the chief complaint, the present illness told from onset to admission, and the chronic course that
opens a long-standing disease's history.

They are one module because the present illness retells the complaint: it reuses the complaint's symptoms (with the
same side and character), its duration and, in pregnancy, its gestational age.
"""

from __future__ import annotations

from datetime import timedelta

from cmedins.synth import identifiers as ids
from cmedins.synth.compose.writer import Writer
from cmedins.synth.mentions import age_pieces, date_piece, med, phone_text, pii
from cmedins.synth.text import Piece
from cmedins.synth.vocab_drugs import DRUGS
from cmedins.synth.vocab_phrases import CHRONIC


class ComplaintMixin(Writer):
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
        """现病史 in the order a clinician tells it, from lead and onset to how the patient came in.

        Each part draws from `self.rng` in turn: the order of these calls is part of what a seed produces.
        """
        sec = "present_illness"
        lead = self._illness_lead()
        rest = [s for s in self.sx if s not in self.cc_sx and not s.startswith("停经|")]
        self.rng.shuffle(rest)
        sx = [*self.cc_sx, *rest]
        lead, sx = self._illness_opening(sec, lead, sx)
        self._illness_onset(sec, lead, sx)
        self._illness_course(sec)
        self._earlier_visit(sec)
        self._worsening(sec, sx)
        self._differential(sec)
        self._companion(sec)
        self._incidental_identifiers(sec)
        self._arrival(sec)

    def _illness_lead(self) -> list[Piece]:
        """患者张某，男，45岁，: who the story is about, or nothing."""
        rng, v = self.rng, self.v
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
        return lead

    def _illness_opening(self, sec: str, lead: list[Piece], sx: list[str]) -> tuple[list[Piece], list[str]]:
        """Gestational dating or the chronic course, when the story starts before this episode."""
        rng, v = self.rng, self.v
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
        elif v.disease.profile in CHRONIC and "急性" not in v.disease.name and v.age >= 30 and rng.random() < 0.45:
            self.chronic_course(sec, lead)
            lead = [self.q(self.c("", "此次", "本次"))]
        return lead, sx

    def _illness_onset(self, sec: str, lead: list[Piece], sx: list[str]) -> None:
        """3天前受凉后出现咳嗽，伴发热。"""
        rng = self.rng
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

    def _illness_course(self, sec: str) -> None:
        """How the symptoms behaved, and the symptoms the patient does not have."""
        rng = self.rng
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

    def _earlier_visit(self, sec: str) -> None:
        """A visit to another hospital before this one, with its tests and treatment."""
        rng, v = self.rng, self.v
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

    def _worsening(self, sec: str, sx: list[str]) -> None:
        """2天前上述症状加重，并出现…"""
        rng = self.rng
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

    def _differential(self, sec: str) -> None:
        """A diagnosis considered but not confirmed (an uncertain event)."""
        rng, v = self.rng, self.v
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

    def _companion(self, sec: str) -> None:
        """The relative who came along, and their phone number."""
        rng, v = self.rng, self.v
        inpatient = v.visit_type != "门诊"
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

    def _incidental_identifiers(self, sec: str) -> None:
        """Identifiers that turn up in the story now and then: a relative's social account, a vehicle's plate."""
        rng, v = self.rng, self.v
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

    def _arrival(self, sec: str) -> None:
        """How the patient came to this visit; inpatients also get 收入我科 and the 一般情况 since onset."""
        rng, v = self.rng, self.v
        inpatient = v.visit_type != "门诊"
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
