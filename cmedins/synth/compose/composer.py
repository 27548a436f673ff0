"""`Composer`: writes one visit by running the section writers in their fixed order and assembling the `Draft`.

The order of the calls in `compose` is the order of draws from the visit's random generator, so it is what a seed
means: reorder them and every record changes.
"""

from __future__ import annotations

from cmedins.synth.compose.complaint import ComplaintMixin
from cmedins.synth.compose.discharge import DischargeMixin
from cmedins.synth.compose.exam import ExamMixin
from cmedins.synth.compose.history import HistoryMixin
from cmedins.synth.compose.structured import StructuredMixin
from cmedins.synth.compose.writer import Draft, copy_section
from cmedins.synth.mentions import pii
from cmedins.synth.rand import pick


class Composer(StructuredMixin, ComplaintMixin, HistoryMixin, ExamMixin, DischargeMixin):
    """One visit's writer: `Composer(rng, visit).compose()` returns its `Draft`."""

    def outpatient_numbers(self) -> None:
        """Outpatient notes often carry the 门诊号 / 病案号 in the history itself."""
        rng, v = self.rng, self.v
        if rng.random() < 0.12:
            sec = pick(rng, ("present_illness", "auxiliary_exam"))
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
        if copy.get("comorbid") != tuple(d.code for d in v.comorbid):
            copy = {k: x for k, x in copy.items() if k != "past_history"}  # its 既往史 lists other conditions
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
        v.patient.last_sections["comorbid"] = tuple(d.code for d in v.comorbid)
        return Draft(fields, self.sections, self.events)
