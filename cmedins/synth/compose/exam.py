"""体格检查 and 辅助检查: vital signs, the head-to-toe examination with this disease's signs, lab and imaging results.

Separate because the examination has its own consistency rule (a normal item is left out when a disease sign
contradicts it) and the auxiliary exam reports the structured labs as text.
"""

from __future__ import annotations

from datetime import timedelta

from cmedins.synth.compose.writer import Writer
from cmedins.synth.mentions import date_piece, med
from cmedins.synth.text import Piece, fullwidth_digits
from cmedins.synth.vocab_phrases import LAB_ABBR, SYSTEM_EXAM


class ExamMixin(Writer):
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
        items = [x for x in SYSTEM_EXAM if not any(k in shown for k in x[0])]
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
                    name = LAB_ABBR.get(lab["item"], lab["item"]) if rng.random() < 0.6 else lab["item"]
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
