"""主诉 and 现病史: the chief complaint, the present illness told from onset to admission, and the chronic course that
opens a long-standing disease's history.

They are one module because the present illness retells the complaint: it reuses the complaint's symptoms (with the
same side and character), its duration and, in pregnancy, its gestational age.
"""

from __future__ import annotations

from cmedins.synth import constraints as cons
from cmedins.synth import identifiers as ids
from cmedins.synth.compose.writer import Writer
from cmedins.synth.mentions import age_pieces, date_piece, med, phone_text, pii
from cmedins.synth.rand import below, pick
from cmedins.synth.text import Piece
from cmedins.synth.timeline import Timeline, make_timeline
from cmedins.synth.vocab_constraints import GESTATION
from cmedins.synth.vocab_drugs import DRUGS
from cmedins.synth.vocab_phrases import CHRONIC


class ComplaintMixin(Writer):
    def _timeline(self, weeks: int | None = None) -> Timeline:
        v = self.v
        chronic_ok = v.disease.profile in CHRONIC and "急性" not in v.disease.name
        self.tl = make_timeline(
            self.rng, v.admission, self.profile.units, chronic_ok=chronic_ok, age=v.age, age_days=self.age_days,
            weeks=weeks,
        )
        self.cc_duration = self.tl.course.text
        return self.tl

    def _pregnancy_complaint(self, first: str, weeks_range: tuple[int, int]) -> str:
        """停经32周，阴道流液2小时: gestational age first, then the complaint that brought her in."""
        rng = self.rng
        tl = self._timeline(below(rng, weeks_range[0], weeks_range[1] + 1))
        weeks = self.preg_weeks = f"{tl.weeks}周"
        self.lmp = tl.lmp
        second = pick(rng, [s for s in self.sx if s != first and not s.startswith("停经|")])
        self.cc_sx.append(second)
        p2, e2 = self.symptom(second, brief=True)
        pieces: list[Piece] = [("停经", "Es"), self.q(weeks + self.c("，", "余，")), *p2, self.q(self.cc_duration)]
        self.sent("chief_complaint", pieces, [("停经", [], [], "肯定"), e2])
        return "".join(p[0] for p in pieces)

    def chief_complaint(self) -> str:
        """主诉: one or two complaints and the course from the visit's timeline (`咳嗽5天，加重2天`)."""
        sx, rng = self.sx, self.rng
        weeks_range = GESTATION.get(self.v.disease.code)
        amen = [s for s in sx if s.startswith("停经|")]
        if amen and weeks_range and len(sx) > 1:
            self.cc_sx = [amen[0]]
            return self._pregnancy_complaint(amen[0], weeks_range)
        tl = self._timeline()
        pool = [s for s in sx if not s.startswith("停经|")] or sx
        first = pick(rng, pool)
        self.cc_sx = [first]
        p1, e1 = self.symptom(first, brief=True)
        pieces: list[Piece] = list(p1)
        evs = [e1]
        if rng.random() < 0.45 and len(pool) > 1:
            second = pick(rng, [s for s in pool if s != first])
            self.cc_sx.append(second)
            p2, e2 = self.symptom(second, brief=True)
            pieces += [self.q(self.c("伴", "、", "，伴", "及")), *p2]
            evs.append(e2)
        subject = first.split("|")[0]
        found = subject.startswith("体检发现") or any(k in subject for k in ("肿", "结节", "块", "增大", "升高"))
        long_course = tl.chronic or tl.course.days >= 30
        if found and not first.startswith("体检发现"):
            pieces = [self.q("发现"), *pieces]
        elif not found and long_course and (tl.chronic or tl.change or rng.random() < 0.2):
            course = self.c("反复", "间断")  # 反复胸痛: the course word describes each complaint
            if not any(w in ("反复", "间断", "反复发作") for e in evs for w in e[1]):
                pieces = [(course, "Ed"), *pieces]
                for e in evs:
                    e[1].insert(0, course)
        pieces.append(self.q(tl.course.text))
        if tl.change is not None:
            change, span = tl.change  # ，加重3天: said of the complaint as a whole
            pieces += [self.q("，"), (change, "Ed"), self.q(span.text)]
            for e in evs:
                if change not in e[1]:
                    e[1].append(change)
        if rng.random() < 0.3:
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
        rng = self.rng
        tl = self.tl
        if self.preg_weeks and tl is not None and tl.lmp is not None:
            # 平素月经规律，末次月经2023-01-05，停经32周: gestational dating opens an obstetric history
            weeks = tl.weeks or 0
            notes = ["早孕反应不明显。", "自测尿妊娠试验阳性。"]
            if weeks >= 7:
                notes.append("停经40余天查尿HCG阳性。")
            if weeks >= 14:
                notes += ["孕期定期产检。", "未规律产检。"]
            self.sent(
                sec,
                [
                    *lead,
                    self.q(self.c("平素月经规律，", "既往月经规律，", "")),
                    self.q(self.c("末次月经", "LMP：", "LMP ")),
                    date_piece(rng, tl.lmp, ref=tl.admission, day_only=True),
                    self.q(f"，停经{self.preg_weeks}，"),
                    self.q(pick(rng, notes)),
                ],
            )
            lead = []
            sx = sx[1:]
        elif tl is not None and tl.chronic:
            self.chronic_course(sec, lead)
            lead = [self.q(self.c("此次", "本次", "此次"))]
        return lead, sx

    def _illness_onset(self, sec: str, lead: list[Piece], sx: list[str]) -> None:
        """3天前受凉后出现咳嗽，伴发热。 In a chronic story: 此次3天前受凉后再次出现头晕，较前加重。"""
        rng, tl = self.rng, self.tl
        p1, e1 = self.symptom(sx[0])
        episode = tl is not None and tl.chronic and tl.change is not None
        when = tl.change[1].text if episode else self.cc_duration
        onset = self.q(self.c(f"{when}前", f"于{when}前", f"约{when}前", f"{when}前"))
        if p1[0] == ("体检发现", None):
            pieces = [*lead, onset, *p1]
        else:
            if self.age < 1:
                trig = self.q(self.c("无明显诱因", "", "夜间", "无诱因"))  # a newborn eats nothing 不洁
            elif self.child:
                trig = self.q(self.c("无明显诱因", "受凉后", "", "进食不洁食物后", "夜间", "无诱因"))
            else:
                trig = self.q(
                    self.c("无明显诱因", "受凉后", "劳累后", "活动后", "情绪激动后", "饱餐后", "", "无诱因", "夜间")
                )
            if episode:
                verb = self.q(self.c("再次出现", "又出现", "出现"))
            else:
                verb = self.q(self.c("出现", "开始出现", "感", "自觉", "突发", "渐出现"))
            if any(tag == "Ed" and (w in verb[0] or verb[0] in w) for w, tag in p1):
                verb = self.q("出现")  # not 突发突发下腹痛
            pieces = [*lead, onset, trig, verb, *p1]
        evs = [e1]
        if len(sx) > 1 and rng.random() < 0.7:
            p2, e2 = self.symptom(sx[1])
            joints = ("，伴", "，伴有", "，同时伴", *(() if p2[0][0].startswith("无") else ("，并",)))
            pieces += [self.q(self.c(*joints)), *p2]  # not 并无痛性…, which reads as a negation
            evs.append(e2)
        if episode:
            pieces.append(self.q(self.c("，较前加重", "，程度较前加重", "")))
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
        mine = [x.split("|")[0] for x in self.sx]
        pool = [n for n in cons.keep(self.profile.neg, self.sex, self.age) if not any(n in m or m in n for m in mine)]
        negs = rng.sample(pool, k=min(len(pool), below(rng, 1, 4)))
        self.negatives(sec, negs)

    def _earlier_visit(self, sec: str) -> None:
        """A visit to another hospital during this illness (this episode, in a chronic story), with its treatment."""
        rng, tl = self.rng, self.tl
        if rng.random() < 0.5 and tl is not None and self.drug_list:
            span = tl.change[1].days if tl.chronic and tl.change else tl.days
            if span < 2:
                return
            when = date_piece(rng, tl.before(below(rng, 1, int(span))), ref=tl.admission)
            dname = pick(rng, self.drug_list)
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
        """2天前上述症状加重，并出现… : the change the complaint states, on the same day."""
        rng, tl = self.rng, self.tl
        if tl is None or tl.change is None or tl.chronic:
            return
        change, span = tl.change
        how = ("上述症状加重", "症状再发加重", "病情加重") if change == "加重" else ("上述症状再发", "症状再次发作")
        pieces: list[Piece] = [self.q(f"{span.text}前"), self.q(pick(rng, how))]
        evs = []
        if len(sx) > 2 and rng.random() < 0.6:
            p3, e3 = self.symptom(sx[2])
            pieces += [self.q(self.c("，并出现", "，伴", "，新出现")), *p3]
            evs.append(e3)
        pieces.append(self.q("。"))
        self.sent(sec, pieces, evs)

    def _differential(self, sec: str) -> None:
        """A diagnosis considered but not confirmed (an uncertain event)."""
        rng, v = self.rng, self.v
        ddx = [x for x in cons.keep(self.profile.ddx, self.sex, self.age) if x not in (v.disease.name, self.wording)]
        if ddx and rng.random() < 0.45:
            dd = pick(rng, ddx)
            form = below(rng, 4)
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
            rel, rs, rg = pick(rng, v.patient.relatives)
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
        tl = self.tl
        assert tl is not None
        prof = v.disease.profile
        if prof == "hypertension":
            found: list[Piece] = [
                self.q(self.c("体检发现血压升高，最高达", "无明显诱因出现头晕，测血压")),
                med(f"{below(rng, 160, 210)}/{below(rng, 95, 125)}mmHg", "vital"),
            ]
        elif prof == "diabetes":
            found = [
                self.q(self.c("体检发现血糖升高，", "因口干多饮查")),
                med(f"空腹血糖 {rng.uniform(7.5, 16.0):.1f}mmol/L", "lab_value"),
            ]
        elif prof == "kidney":
            found = [self.q("体检发现"), med(f"血肌酐 {below(rng, 130, 600)}μmol/L", "lab_value")]
        else:
            subj = self.sx[0].split("|")[0]
            how = self.c("无明显诱因出现", "反复出现", "开始出现")
            if subj.startswith("体检发现"):
                found = [self.q("体检发现"), (subj[4:], "Es")]
            else:
                found = [("反复", "Ed"), self.q("出现")] if how == "反复出现" else [self.q(how)]
                found.append((subj, "Es"))
        where = self.hosp() if rng.random() < 0.6 else self.q(self.c("当地医院", "外院", "社区医院"))
        oral = [x for x in self.drug_list if DRUGS[x][1] in ("口服", "吸入", "外用", "滴眼", "鼻喷", "嚼服")]
        pieces = [
            *lead,
            self.q(f"{tl.course.text}前"),
            *found,
            self.q("，"),
            self.q(self.c("于", "在", "就诊于")),
            where,
            self.q(self.c("诊断为“", "诊断“", "明确诊断为“")),
            self.q(v.disease.wordings[0]),
        ]
        if oral or self.drug_list:
            dname = pick(rng, oral or list(self.drug_list))
            pieces += [
                self.q(self.c("”，此后", "”，")),
                self.q(self.c("规律", "间断", "长期") + ("服用" if DRUGS[dname][1] == "口服" else "使用")),
                *self.drug_phrase(dname),
            ]
        else:
            pieces.append(self.q("”，此后未规律治疗"))
        if prof == "hypertension":
            pieces += [
                self.q("，血压控制在"),
                med(f"{below(rng, 125, 150)}/{below(rng, 75, 95)}mmHg", "vital"),
                self.q(self.c("左右。", "。")),
            ]
        else:
            pieces.append(
                self.q(self.c("，病情控制尚可。", "，症状时有反复。", "，未规律复查。", "，症状可缓解。"))
            )
        if found[-1][1] == "Es":  # 5年前出现胸痛， is annotated alone: the quoted diagnosis after it is no finding
            cut = len(lead) + 2 + len(found)
            descs = [w for w, tag in found if tag == "Ed"]
            self.sent(sec, pieces[:cut], [(found[-1][0], descs, [], "肯定")])
            pieces = pieces[cut:]
        self.sent(sec, pieces)
