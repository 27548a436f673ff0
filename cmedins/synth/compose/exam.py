"""体格检查 and 辅助检查: vital signs, the head-to-toe examination with this disease's signs, lab and imaging results.

Separate because the examination has its own consistency rule (a normal item is left out when a disease sign
contradicts it) and the auxiliary exam reports the structured labs as text.
"""

from __future__ import annotations

from datetime import date, timedelta

from cmedins.synth import constraints as cons
from cmedins.synth.compose.writer import Writer
from cmedins.synth.labtext import lab_text
from cmedins.synth.mentions import date_piece, med
from cmedins.synth.rand import below, pick
from cmedins.synth.text import Piece, fullwidth_digits
from cmedins.synth.vocab_phrases import LAB_ABBR, SYSTEM_EXAM

_RESPIRATORY = {"copd", "pneumonia", "pleura", "asthma", "heart_failure", "tb"}
_GENERAL = (
    "神志清楚，精神可，发育正常，营养中等，自主体位，查体合作。",
    "神清，精神欠佳，急性病容，查体合作。",
    "一般情况可，神志清，对答切题。",
)
_INFANT = ("神志清，精神反应可，哭声响亮，查体欠合作。", "神清，反应可，哭声有力，全身皮肤红润。")


class ExamMixin(Writer):
    def _general(self) -> str:
        """The 一般情况 sentence: how the patient came in and talks, as fits the age and the disease."""
        v = self.v
        if self.age < 3:
            return self.c(*_INFANT)
        immobile = v.disease.profile in ("trauma", "stroke") or self.age >= 85
        if v.visit_type == "门诊":
            came = self.c("轮椅推入诊室", "家属搀扶入诊室") if immobile else "步入诊室"
        else:
            came = "平车推入病房" if immobile else "步入病房"
        opts = [*_GENERAL, f"神清语利，慢性病容，{came}。", f"意识清楚，{came}，查体合作。"]
        if self.child:
            opts = [x for x in opts if "语利" not in x and "慢性病容" not in x] + ["神清，精神可，查体合作。"]
        return self.c(*[x for x in opts if cons.fits(x, self.sex, self.age)])

    def physical_exam(self) -> None:
        rng, v, sec = self.rng, self.v, "physical_exam"
        self.sections[sec].sep = self.c("", "", "\n", " ")
        fever = "发热" in "".join(self.sx) and rng.random() < 0.6
        t = round(rng.uniform(38.0, 39.6) if fever else rng.uniform(36.2, 37.2), 1)
        pr = below(rng, 60, 110)
        rr = below(rng, 14, 24)
        hyper = v.disease.profile in ("hypertension", "stroke") or v.disease.code in ("O13xx01", "O14.102") or any(
            d.profile == "hypertension" for d in v.comorbid
        )
        sbp = below(rng, 140, 190) if hyper else below(rng, 100, 140)
        dbp = below(rng, 80, 110) if hyper else below(rng, 60, 90)
        if self.child:
            sbp, dbp, pr, rr = (
                below(rng, 85, 112),
                below(rng, 50, 72),
                below(rng, 90, 140),
                below(rng, 20, 35),
            )
        form = below(rng, 3)
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
            low = 88 if v.disease.profile in _RESPIRATORY else 95
            pieces += [(self.c("，", " "), None), med(f"SpO2 {below(rng, low, 100)}%", "vital")]
        pieces.append(self.q("。" if not self.sections[sec].sep else self.c("。", "")))
        self.sent(sec, pieces)
        self.sent(sec, [self.q(self._general())])
        signs = rng.sample(self.signs, k=min(len(self.signs), below(rng, 1, 4)))
        if self.comorbid_signs and rng.random() < 0.5:
            signs.append(pick(rng, self.comorbid_signs))
        shown = "".join(signs)
        items = [x for x in SYSTEM_EXAM if not any(k in shown for k in x[0])]
        if v.visit_type == "门诊":
            items = [x for x in items if rng.random() < 0.3]
        for _, forms in items:
            self.markup_sentence(sec, pick(rng, forms).replace("%PR%", str(pr)), end=self.c("。", "。", "，", "；"))
        for i, m in enumerate(signs):
            prefix = [self.q(self.c("", "", "专科检查：", "专科情况："))] if i == 0 else []
            self.markup_sentence(sec, m, prefix=prefix, end=self.c("。", "；", "。") if i < len(signs) - 1 else "。")
        self.exam_signs = signs

    def _result_day(self, lo: int, hi: int) -> date:
        """A date for a result of this visit: within the stay for inpatients, the visit day otherwise."""
        v = self.v
        if v.discharge is None:
            return v.admission
        stay = (v.discharge - v.admission).days
        return v.admission + timedelta(days=below(self.rng, lo, min(hi, stay) + 1))

    def auxiliary_exam(self) -> None:
        rng, v, sec = self.rng, self.v, "auxiliary_exam"
        self.sections[sec].sep = self.c("", "\n", "\n", "；")
        if self.labs:
            shown = [lab for lab in self.labs if lab["flag"] in ("H", "L") or rng.random() < 0.3][:8]
            if shown:
                pieces: list[Piece] = []
                if rng.random() < 0.6:
                    pieces += [date_piece(rng, self._result_day(0, 1)), self.q(self.c("：", " ", "本院："))]
                pieces.append(self.q(self.c("化验：", "实验室检查：", "血检示：", "")))
                for i, lab in enumerate(shown):
                    if i:
                        pieces.append(self.q(self.c("，", "，", "; ", " ")))
                    name = LAB_ABBR.get(lab["item"], lab["item"]) if rng.random() < 0.6 else lab["item"]
                    pieces.append(med(lab_text(rng, name, lab), "lab_value"))
                pieces.append(self.q("" if self.sections[sec].sep == "；" else "。"))
                self.sent(sec, pieces)
        chosen = rng.sample(self.exams, k=min(len(self.exams), below(rng, 1, 3)))
        if self.comorbid_exams and rng.random() < 0.35:
            chosen.append(pick(rng, self.comorbid_exams))
        tl = self.tl
        course = tl.days if tl is not None else 0
        for m in chosen:
            prefix: list[Piece] = []
            r = rng.random()
            if r < 0.3 and course >= 1:
                prefix = [
                    date_piece(rng, v.admission - timedelta(days=below(rng, 0, min(10, course) + 1))),
                    self.q(self.c("外院", "于")),
                    self.hosp(),
                    self.q(self.c("查", "检查：", "：")),
                ]
            elif r < 0.6:
                prefix = [date_piece(rng, self._result_day(0, 3)), self.q(self.c("本院", " ", "："))]
            end = self.c("。", "。", "；")
            self.markup_sentence(sec, m, prefix=prefix, end="" if self.sections[sec].sep == "；" else end)
        sentences = self.sections[sec].sentences
        if self.sections[sec].sep == "；" and sentences:  # 化验：…；胸片示…。 : one full stop, at the end
            sentences[-1].pieces.append(self.q("。"))
