"""The structured part of a visit: diagnoses with ICD-10 codes, medications, lab results with flags.

It is written before any text, and separate from it, because the text sections then quote these values (the drugs
and abnormal labs reappear in the exam and discharge sections). Labs come from the clinical tables of the record's own
diagnoses (`vocab_clinical`): the primary diagnosis' characteristic results and each comorbidity's, on top of the
routine panel, which is normal unless a diagnosis says otherwise.
"""

from __future__ import annotations

from cmedins.synth import constraints as cons
from cmedins.synth.compose.writer import Writer
from cmedins.synth.rand import below, pick
from cmedins.synth.vocab_clinical import CLINICAL, COMORBID
from cmedins.synth.vocab_drugs import DRUGS
from cmedins.synth.vocab_labs import LABS, QUALITATIVE, ROUTINE, SEX_RANGES
from cmedins.synth.vocab_phrases import FAR_ABOVE


def lab_range(item: str, sex: str) -> tuple[str, float, float, int]:
    """(unit, low, high, decimals) of a lab item for this sex."""
    unit, lo, hi, dec = LABS[item]
    lo, hi = SEX_RANGES.get((item, sex), (lo, hi))
    return unit, lo, hi, dec


def reference_text(lo: float, hi: float) -> str:
    return f"{lo:g}-{hi:g}" if lo > 0 else f"<{hi:g}"


class StructuredMixin(Writer):
    def build_structured(self) -> tuple[list[dict], list[dict], list[dict]]:
        rng, v = self.rng, self.v
        diagnoses = [
            {"text": self.wording, "icd10_code": v.disease.code, "icd10_name": v.disease.name, "primary": True}
        ]
        if v.comorbid and rng.random() < 0.08:
            diagnoses[0]["text"] = f"{self.wording} {self._wording(v.comorbid[0])}"  # several joined in one line
        for d in v.comorbid:
            diagnoses.append({"text": self._wording(d), "icd10_code": d.code, "icd10_name": d.name, "primary": False})
        picks = rng.sample(self.drug_list, k=min(len(self.drug_list), below(rng, 1, 5)))
        for d in v.comorbid:
            own = self.comorbid_drugs(d)
            if own:
                picks.append(pick(rng, own))
        meds = []
        seen = set()
        for name in picks:
            if name in seen:
                continue
            seen.add(name)
            doses, route, freqs = DRUGS[name]
            dose, freq = self.dose(name), pick(rng, freqs)
            meds.append({"drug": name, "dose": dose, "route": route, "frequency": freq})
            self.drugs.append((name, dose, route, freq))
        self.labs = self._labs()
        return diagnoses, meds, self.labs

    def _labs(self) -> list[dict]:
        rng, v = self.rng, self.v
        wanted: dict[str, str] = {}
        for item, flag in CLINICAL[v.disease.code].labs:
            wanted.setdefault(item, flag)
        for d in v.comorbid:
            for item, flag in COMORBID[d.code].labs:
                wanted.setdefault(item, flag)
        wanted = {k: f for k, f in wanted.items() if cons.fits(k, self.sex, self.age)}
        items = list(dict.fromkeys([*(ROUTINE if v.visit_type != "门诊" else ()), *wanted]))
        if v.visit_type == "门诊":
            items = items[: below(rng, 1, 5)]
        labs = []
        for item in items:
            flag = wanted.get(item)
            if item in QUALITATIVE:
                normal, bad = QUALITATIVE[item]
                val = bad if flag == "A" and rng.random() < 0.85 else normal
                flag = "" if val == normal else "H"
                labs.append({"item": item, "value": val, "unit": "", "reference_range": "阴性", "flag": flag})
                continue
            unit, lo, hi, dec = lab_range(item, self.sex)
            span = hi - lo if hi > lo else 1.0
            if flag == "H" and item in FAR_ABOVE:
                x = rng.uniform(*FAR_ABOVE[item])  # markers that rise by orders of magnitude, not by a margin
            elif flag == "H" and rng.random() < 0.85:
                x = hi + span * rng.uniform(0.1, 1.5)
            elif flag == "L" and rng.random() < 0.85:
                x = max(lo - span * rng.uniform(0.1, 0.6), lo * 0.3)
            else:
                x = rng.uniform(lo + 0.1 * span, hi - 0.1 * span)
            if unit == "%":
                x = min(x, 96.0)  # a share of cells is never above 100 %
            val = f"{x:.{dec}f}"
            fx = float(val)
            fl = "H" if fx > hi else ("L" if fx < lo else "N")
            ref = reference_text(lo, hi)
            labs.append({"item": item, "value": val, "unit": unit, "reference_range": ref, "flag": fl})
        self._coherent(labs)
        return labs

    def _coherent(self, labs: list[dict]) -> None:
        """Results that bound each other stay in order: LDL cholesterol is part of total cholesterol."""
        by = {x["item"]: x for x in labs}
        tc, ldl = by.get("总胆固醇"), by.get("低密度脂蛋白胆固醇")
        if tc and ldl and float(ldl["value"]) >= 0.8 * float(tc["value"]):
            unit, lo, hi, dec = lab_range(ldl["item"], self.sex)
            value = f"{float(tc['value']) * self.rng.uniform(0.5, 0.75):.{dec}f}"
            ldl["value"] = value
            ldl["flag"] = "H" if float(value) > hi else ("L" if float(value) < lo else "N")
