"""The structured part of a visit: diagnoses with ICD-10 codes, medications, lab results with flags.

It is written before any text, and separate from it, because the text sections then quote these values (the drugs
and abnormal labs reappear in the exam and discharge sections).
"""

from __future__ import annotations

from cmedins.synth.compose.writer import Writer
from cmedins.synth.vocab_drugs import DRUGS
from cmedins.synth.vocab_labs import LABS, QUALITATIVE, ROUTINE
from cmedins.synth.vocab_overrides import COMORBID_DRUGS
from cmedins.synth.vocab_phrases import FAR_ABOVE
from cmedins.synth.vocab_profiles import PROFILES


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
            if flag == "H" and item in FAR_ABOVE:
                x = rng.uniform(*FAR_ABOVE[item])  # markers that rise by orders of magnitude, not by a margin
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
