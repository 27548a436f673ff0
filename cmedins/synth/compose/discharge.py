"""出院小结: the inpatient discharge summary, from admission through treatment to discharge orders and sign-off.

Separate because only inpatient visits have one and it is the densest place for identifiers (doctors, nurses,
follow-up phone, record numbers); it summarises the other sections, so it is written last.
"""

from __future__ import annotations

from cmedins.synth import identifiers as ids
from cmedins.synth.compose.structured import lab_range
from cmedins.synth.compose.writer import Writer
from cmedins.synth.mentions import age_pieces, date_piece, med, pii, staff_name
from cmedins.synth.patient import person_name
from cmedins.synth.rand import below, pick
from cmedins.synth.text import Piece


class DischargeMixin(Writer):
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
            lab = pick(rng, abnormal)
            if lab["unit"]:
                unit, lo, hi, dec = lab_range(lab["item"], v.patient.sex)
                better = (lo + hi) / 2 + (float(lab["value"]) - (lo + hi) / 2) * rng.uniform(0.2, 0.6)
                value = f"{better:.{dec}f}"
                normal = lo <= float(value) <= hi
                text = f"{lab['item']} {value}{unit}"
            else:
                normal, text = True, f"{lab['item']} 阴性"
            tail = ("，已恢复正常。", "，较前好转。", "。") if normal else ("，较前好转。", "，较前下降。", "。")
            if not normal and lab["flag"] == "L":
                tail = ("，较前好转。", "，较前回升。", "。")
            self.sent(
                sec,
                [
                    self.q(f"入院第{below(rng, 2, max(3, min(8, (v.discharge - v.admission).days + 1)))}天复查"),
                    med(text, "lab_value"),
                    self.q(pick(rng, tail)),
                ],
            )
        drugs = self.drugs[: below(rng, 1, 4)] or []
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
        doc = pick(rng, v.doctors)
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
            form = below(rng, 3)
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
                    pii(f"https://fz.{self.c('jzyy', 'bhzx', 'ahyd')}.cn/p/{below(rng, 10**5, 10**7)}", "URL"),
                    self.q("预约。"),
                ],
            )
