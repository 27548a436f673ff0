"""既往史, 个人史, 婚育史, 家族史: the history sections, and the 出生/喂养/预防接种 history that replaces the personal
history for children.

They are separate from the complaint because they describe the patient rather than this illness, which is why the
past and personal histories can be copied forward from the patient's previous visit.
"""

from __future__ import annotations

from datetime import timedelta

from cmedins.synth import identifiers as ids
from cmedins.synth.compose.writer import Writer
from cmedins.synth.mentions import date_piece, med, phone_text, pii
from cmedins.synth.rand import below, pick
from cmedins.synth.text import Piece
from cmedins.synth.vocab_diseases import COMORBIDITIES, DISEASES
from cmedins.synth.vocab_drugs import DRUGS, HERBS
from cmedins.synth.vocab_phrases import EPONYMS, NEG_INFECT

_BY_CODE = {d.code: d for d in DISEASES}
# Eponymous diagnoses a history may mention in passing: self-limited or past ones, not chronic diseases that would be
# a diagnosis of the record (帕金森病, 阿尔茨海默病) or belong to childhood (川崎病).
_PAST_EPONYMS = ("桥本甲状腺炎", "梅尼埃病", "史密斯骨折", "科雷骨折", "格林巴利综合征", "雷诺综合征", "贝尔麻痹")


class HistoryMixin(Writer):
    def past_history(self) -> None:
        rng, v, sec = self.rng, self.v, "past_history"
        self.sections[sec].sep = self.c("", "", "\n")
        if v.comorbid:
            for d in v.comorbid:
                own = self.comorbid_drugs(d)
                pieces = [
                    self.q(self.c("既往", "有", "发现", "")),
                    self.q(self._wording(d)),
                    self.q(self.c("病史", "史", "")),
                    self.q(f"{below(rng, 1, max(2, min(25, v.age - 30)))}年，"),
                ]
                if own:
                    dname = pick(rng, own)
                    pieces += [
                        self.q(
                            self.c("长期", "规律", "不规律", "自行") + ("服用" if DRUGS[dname][1] == "口服" else "使用")
                        ),
                        *self.drug_phrase(dname),
                        self.q(self.c("，控制可。", "，控制欠佳。", "，未规律监测。", "。")),
                    ]
                else:
                    pieces.append(self.q(self.c("未规律治疗。", "未予特殊治疗。")))
                self.sent(sec, pieces)
        else:
            self.sent(sec, [self.q(self.c("既往体健。", "平素健康状况良好。", "既往身体健康。", "平素体质一般。"))])
        if rng.random() < 0.08:
            ep = pick(rng, [e for e in EPONYMS if e in _PAST_EPONYMS])
            self.sent(sec, [self.q(self.c("有", "既往诊断", "曾患")), med(ep, "eponym"), self.q("病史。")])
        if rng.random() < 0.75:
            subs = rng.sample(NEG_INFECT, k=below(rng, 1, 3))
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
        surgery = v.patient.surgery
        if surgery is not None:
            name, day = surgery
            if rng.random() < 0.5:
                when = date_piece(rng, day, ref=v.admission)
                self.sent(sec, [when, self.q(self.c("于", "在")), self.hosp(), self.q(f"行{name}，术后恢复可。")])
            else:
                years = max(1, (v.admission - day).days // 365)
                self.sent(sec, [self.q(f"{years}年前因病于"), self.hosp(), self.q(f"行“{name}”，具体不详。")])
        if not self.child and rng.random() < 0.12:
            herbs = rng.sample(HERBS, k=below(rng, 3, 7))
            pieces = [self.q(self.c("近半年间断服用中药汤剂（", "曾服中药调理（处方：", "长期服用自配中药（"))]
            for i, (h, g) in enumerate(herbs):
                if i:
                    pieces.append(self.q(self.c("、", "，", " ")))
                pieces += [med(h, "herb"), med(f"{g + pick(rng, (-3, 0, 0, 3, 5))}g", "dose")]
            pieces.append(self.q("）。"))
            self.sent(sec, pieces)
        allergy = v.patient.allergy
        if allergy is None:
            self.sent(
                sec,
                [self.q(self.c("否认药物、食物过敏史。", "否认药物过敏史。", "无已知药物过敏。", "过敏史：否认。"))],
            )
        else:
            self.sent(
                sec,
                [
                    self.q(self.c("对", "自诉对", "有")),
                    med(allergy, "drug"),
                    self.q(self.c("过敏。", "过敏，表现为皮疹。", "过敏。")),
                ],
            )

    def child_history(self) -> None:
        """Children get 出生史/喂养史/预防接种史 instead of occupation, smoking and marriage."""
        rng, sec = self.rng, "personal_history"
        school_kind = pick(rng, ("实验小学", "第一小学", "阳光幼儿园", "中心幼儿园"))
        birth = [
            self.q(self.c("第1胎第1产，", "第2胎第2产，", "G1P1，", "第1胎第1产，")),
            self.q(self.c("足月顺产，", "足月剖宫产，", "孕36周早产，")),
            self.q(f"出生体重{pick(rng, ('2.9', '3.1', '3.3', '3.5', '3.6', '2.6'))}kg，"),
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
        smoke = self.v.age >= 20 and rng.random() < (0.45 if p.sex == "男" else 0.06)
        if smoke:
            years = below(rng, 2, max(3, min(40, self.v.age - 17)))
            quit_ = below(rng, 1, 10)
            status = self.c("未戒", "已戒烟", "现仍吸烟")
            if status == "已戒烟" and years + quit_ <= self.v.age - 17:
                status = f"已戒烟{quit_}年"
            elif status == "已戒烟":
                status = "未戒"
            self.sent(sec, [self.q(f"吸烟{years}年，每日约{pick(rng, (5, 10, 20, 30))}支，{status}。")])
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
            wed = below(rng, 20, min(32, v.age) + 1)
            pieces: list[Piece] = [self.q(f"{wed}岁结婚，" if rng.random() < 0.6 else "已婚，")]
            spouse = [r for r in p.relatives if r[0] in ("其夫", "其妻", "丈夫", "妻子")]
            if spouse and rng.random() < 0.6:
                rel, rs, rg = spouse[0]
                pieces += [self.q("配偶"), pii(rs + rg, "PERSON"), self.q(self.c("体健，", "患高血压，", "已故，"))]
            else:
                pieces.append(self.q(self.c("配偶体健，", "夫妻关系和睦，", "配偶已故，")))
            had_section = p.surgery is not None and p.surgery[0] == "剖宫产术"
            kids = ("育有1子1女。", "育1子。", "育有2女。", "育1女，子女体健。", *(() if had_section else ("未育。",)))
            pieces.append(self.q(self.c(*kids)))
            self.sent(sec, pieces)
        if p.sex == "女" and v.age >= 13:
            men = f"{below(rng, 12, 16)} {below(rng, 3, 8)}/{below(rng, 26, 35)}"
            pieces = [self.q(self.c("月经史：", "月经：", "")), med(men, "lab_value"), self.q("，")]
            if not self.preg_weeks and (v.age >= 52 or v.age >= 50 and rng.random() < 0.5):
                pieces.append(self.q(f"{below(rng, 45, min(55, v.age) + 1)}岁绝经。"))
            else:
                lmp = self.lmp or v.admission - timedelta(days=below(rng, 3, 28))
                pieces += [
                    self.q(self.c("末次月经", "LMP：", "LMP ")),
                    date_piece(rng, lmp, ref=v.admission, day_only=True),
                    self.q(
                        "，现孕" + self.preg_weeks + "。"
                        if self.preg_weeks
                        else "。"
                        if any(w in "".join(self.sx) for w in ("月经", "痛经", "经期", "经量"))  # the complaint says
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
            d = _BY_CODE[pick(rng, COMORBIDITIES)]
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
