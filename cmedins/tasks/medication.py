"""Task 5, 用药建议: patient, diagnoses and relevant history -> the visit's medication orders, as advice.

The orders are the record's own; the wording frames them as a recommendation. The opening sentence (the
rationale) and the closing safety note are composed from the record itself, not fixed sentences: the diagnoses
the drugs treat (each drug's class and purpose from `data/drug_classes.yaml`, tied to the record's diagnosis that
matches the class's indications), the stated allergies, the patient's age group, renal or hepatic disease,
pregnancy, anticoagulation, and the `caution` rules of `data/contraindications.yaml` (an elderly patient on a
benzodiazepine gets the Beers note). Everything the rationale and note state is in the query; prescriptions that
break a `quarantine` rule (an allergy, a contraindication) never become rows (`unsafe_answer`, `build.py`).
Answers: numbered list (default), Markdown table, or JSON.
"""

from __future__ import annotations

from typing import Any

import xxhash

from cmedins.tasks.formats import Medication, format_medications, format_medications_json, format_medications_table
from cmedins.tasks.record_text import clean, diagnoses, patient_line, section_lines
from cmedins.tasks.registry import BuildResult, Item, register_task
from cmedins.tasks.rules import Rules, load_rules
from cmedins.tasks.safety import Patient, check, patient_of

UNSPECIFIED = "未注明"
_RENAL = ("肾功能不全", "肾衰竭", "慢性肾脏病", "肾病", "CKD", "肾功能衰竭", "尿毒症")
_HEPATIC = ("肝硬化", "肝功能不全", "肝衰竭", "肝炎", "肝损")
_BLEEDING = ("anticoagulants", "antiplatelets", "aspirin")
# Intro shapes: {dx} the diagnoses, {plan} the drugs with their purpose, {who} the patient.
INTROS = (
    "患者诊断为{dx}，{plan}，建议用药如下：",
    "结合{who}患者的诊断（{dx}）及既往史，推荐以下治疗方案：",
    "针对{dx}，{plan}。具体用药：",
    "根据病情（{dx}），拟定药物治疗方案如下：",
    "{who}患者，目前诊断{dx}，{plan}，处方建议：",
    "考虑患者{dx}，建议给予以下药物：",
)
CLOSINGS = (
    "用药期间注意观察疗效及不良反应，如有不适及时就诊。",
    "以上方案需由执业医师结合患者具体情况最终确定，用药期间定期复诊。",
    "请遵医嘱规律用药，勿自行增减剂量或停药，出现不良反应及时就医。",
    "用药过程中应定期评估疗效与安全性，必要时调整方案。",
)


def medications(record: dict[str, Any]) -> list[Medication]:
    out = []
    for m in record.get("medications") or []:
        drug = clean(m.get("drug"))
        if drug:
            out.append(Medication(drug, *(clean(m.get(k)) or UNSPECIFIED for k in ("dose", "route", "frequency"))))
    return out


def describe(record: dict[str, Any]) -> str:
    """`64岁男性`, `女性`, `90岁及以上`: the patient as the patient line states it, for a sentence."""
    sex = clean(record.get("patient_sex"))
    age = record.get("patient_age")
    years = ("90岁及以上" if age >= 90 else f"{age}岁") if age is not None else ""
    return years + (f"{sex}性" if sex in ("男", "女") else "")


def _pick(options: tuple[str, ...], record_hash: str, salt: str) -> str:
    return options[xxhash.xxh64_intdigest(f"{salt}\x1f{record_hash}".encode()) % len(options)]


def purposes(meds: list[Medication], dx: list[str], rules: Rules) -> list[str]:
    """`阿托伐他汀钙片用于调脂、稳定斑块（针对冠心病）` for each drug whose class has a purpose; the diagnosis is named
    only when one of the record's diagnoses contains an indication word of the class."""
    out = []
    for m in meds:
        for cid in rules.classes_of(m.drug):
            cls = rules.classes[cid]
            if not cls.purpose:
                continue
            target = next((d for d in dx if any(w in d for w in cls.indications)), None)
            out.append(f"{m.drug}用于{cls.purpose}" + (f"（针对{target}）" if target else ""))
            break
    return out


def safety_note(p: Patient, meds: list[Medication], dx: list[str], query: str, rules: Rules,
                record_hash: str) -> tuple[str, list[str], list[str]]:
    """The closing note from the patient's own facts, the caution kinds it carries, and the reviewed caution
    notes it quotes (general pharmacology, `data/contraindications.yaml`: exempt from grounding, since `消化道出血`
    there is a risk, not a statement about this patient)."""
    parts, kinds, notes = [], [], []
    if p.allergy_words and all(w in query for w in p.allergy_words):
        parts.append(f"患者有{'、'.join(p.allergy_words)}过敏史，方案已避开相关药物，用药前仍需再次核对过敏史")
    if p.age is not None and f"{p.age}岁" in query:
        if p.age >= 65:
            parts.append(f"患者{p.age}岁，属老年人，注意肝肾功能及药物相互作用，必要时减量")
        elif p.age < 14:
            parts.append(f"患儿{p.age}岁，剂量需按体重核算")
    renal = next((d for d in dx if any(w in d for w in _RENAL)), None)
    if renal:
        parts.append(f"合并{renal}，经肾排泄的药物需根据肾功能调整剂量")
    hepatic = next((d for d in dx if any(w in d for w in _HEPATIC)), None)
    if hepatic:
        parts.append(f"合并{hepatic}，注意监测肝功能")
    if p.pregnant:
        parts.append("患者处于妊娠期，用药须权衡对胎儿的影响")
    bleeding = [m.drug for m in meds if set(rules.classes_of(m.drug)) & set(_BLEEDING)]
    if bleeding:
        parts.append(f"服用{'、'.join(bleeding[:2])}期间注意有无出血倾向")
    for f in check(meds, p, rules):
        if f.action == "caution" and f.note and f.note not in parts:
            parts.append(f.note)
            kinds.append(f.kind)
            notes.append(f.note)
    parts.append(_pick(CLOSINGS, record_hash, "closing").rstrip("。"))
    return "；".join(parts) + "。", kinds, notes


@register_task("medication", "用药建议")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    meds = medications(record)
    if not meds:
        return "no_medications"
    dx = [d["text"] for d in diagnoses(record)]
    if not dx:
        return "no_diagnoses"
    rules = load_rules(getattr(config, "rules_dir", None))
    head = patient_line(record)
    lines = [x for x in [head] if x]
    lines.append("诊断：" + "；".join(dx))
    lines += section_lines(record, ("chief_complaint", "past_history"))
    query = "\n".join(lines)
    rh = str(record.get("record_hash") or "")
    p = patient_of(record, rules)
    plan = purposes(meds, dx, rules)
    who = describe(record)
    shapes = [s for s in INTROS if (plan or "{plan}" not in s) and (who or "{who}" not in s)]
    intro = _pick(tuple(shapes), rh, "intro").format(dx="、".join(dx[:3]) + ("等" if len(dx) > 3 else ""),
                                                     plan="；".join(plan[:3]), who=who)
    note, cautions, notes = safety_note(p, meds, dx, query, rules, rh)
    target = tuple(x for m in meds for x in (m.drug, m.dose, m.route, m.frequency)) + tuple(notes)
    return [Item(query=query, answer=format_medications(intro, meds, note),
                 answers={"table": format_medications_table(intro, meds, note),
                          "json": format_medications_json(meds, note, intro.rstrip("：:"))},
                 expect=meds, target=target, drugs=tuple(meds),
                 counters=tuple((f"caution:{k}", 1) for k in cautions))]
