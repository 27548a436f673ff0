"""Synthetic patients: one identity (name, birth, ID, phone, address, employer, relatives) reused across visits."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from cmedins.synth import identifiers as ids
from cmedins.synth import vocab_people as people
from cmedins.synth import vocab_places as places
from cmedins.synth.rand import below, pick


def person_name(rng: random.Random, sex: str, child: bool = False) -> tuple[str, str]:
    """(surname, given name); compound and rare surnames now and then, single-character given names often."""
    r = rng.random()
    if r < 0.05:
        surname = pick(rng, people.COMPOUND_SURNAMES)
    elif r < 0.09:
        surname = pick(rng, people.RARE_SURNAMES)
    else:
        surname = pick(rng, people.COMMON_SURNAMES)
    chars = people.MALE_CHARS if sex == "男" else people.FEMALE_CHARS
    r = rng.random()
    if not child and r < 0.1:
        given = pick(rng, people.ERA_NAMES)
    elif r < 0.4:
        given = pick(rng, chars)
    else:
        given = pick(rng, chars) + pick(rng, chars)
    return surname, given


@dataclass
class Address:
    province: str
    city: str
    district: str
    area_code: str
    detail: str  # below district: road + number + estate + building + unit + room, or town + village + group

    def full(self, rng: random.Random) -> str:
        """With or without province/city, as people write it."""
        r = rng.random()
        if self.province == self.city:
            head = self.city + self.district if r < 0.7 else self.district
        elif r < 0.5:
            head = self.province + self.city + self.district
        elif r < 0.85:
            head = self.city + self.district
        else:
            head = self.district
        return head + self.detail


def make_address(rng: random.Random) -> Address:
    prov, city, dist, code = pick(rng, places.DISTRICTS)
    if dist.endswith("县") or rng.random() < 0.08:
        detail = (
            f"{pick(rng, places.TOWNS)}{pick(rng, places.VILLAGES)}{below(rng, 1, 12)}组{below(rng, 1, 80)}号"
        )
    else:
        road = pick(rng, places.ROADS)
        num = below(rng, 1, 999)
        est = pick(rng, places.ESTATES)
        bld, unit, room = below(rng, 1, 40), below(rng, 1, 7), below(rng, 1, 33) * 100 + below(rng, 1, 6)
        form = below(rng, 5)
        if form == 0:
            detail = f"{road}{num}号{est}{bld}栋{unit}单元{room}室"
        elif form == 1:
            detail = f"{road}{num}号院{bld}号楼{unit}单元{room}"
        elif form == 2:
            detail = f"{est}{bld}-{unit}-{room}"
        elif form == 3:
            detail = f"{road}{num}弄{bld}号{room}室"
        else:
            detail = f"{road}{num}号{est}{bld}幢{room}房"
    return Address(prov, city, dist, code, detail)


def make_employer(rng: random.Random, addr: Address) -> str:
    pat = pick(rng, places.EMPLOYER_PATTERNS)
    city = addr.city.removesuffix("市")
    return pat.format(city=city, district=addr.district, brand=pick(rng, places.BRANDS), n=below(rng, 1, 40))


@dataclass
class Patient:
    patient_id: str
    surname: str
    given: str
    sex: str
    birth: date
    id_number: str
    phone: str
    address: Address
    birthplace: Address
    employer: str | None
    job: str
    mrn: str
    insurance_no: str
    relatives: list[tuple[str, str, str]] = field(default_factory=list)  # (relation, surname, given)
    relative_phone: str = ""
    visits: int = 0
    last_sections: dict = field(default_factory=dict)  # copy-forward material from the previous visit
    hospital: str = ""
    last_visit: date | None = None
    comorbid: tuple[str, ...] = ()  # chronic conditions (ICD codes), the same at every visit
    allergy: str | None = None  # the drug allergy the history states (a key of vocab_constraints.ALLERGIES)
    surgery: tuple[str, date] | None = None  # a past operation and its day

    @property
    def name(self) -> str:
        return self.surname + self.given

    def age_at(self, d: date) -> int:
        return d.year - self.birth.year - ((d.month, d.day) < (self.birth.month, self.birth.day))


def make_patient(
    rng: random.Random, patient_id: str, *, sex: str, age: int, ref: date, newborn: bool = False
) -> Patient:
    birth = ref - timedelta(days=below(rng, 2, 25) if newborn else age * 365 + below(rng, 0, 365))
    addr = make_address(rng)
    birthplace = addr if rng.random() < 0.6 else make_address(rng)
    surname, given = person_name(rng, sex, child=age < 14)
    idn = ids.id_number(rng, birthplace.area_code, birth, sex, want_x=rng.random() < 0.09)
    rel: list[tuple[str, str, str]] = []
    if age < 18:
        pool = ("母亲", "父亲", "其母", "其父")
    elif age < 50:
        pool = (
            ("丈夫", "其夫", "母亲", "父亲", "姐姐", "兄长", "同事")
            if sex == "女"
            else ("妻子", "其妻", "母亲", "父亲", "姐姐", "兄长", "同事")
        )
    else:
        pool = ("其子", "其女", "儿子", "女儿", "孙子", "孙女", "儿媳", "女婿", "邻居") + (
            ("其夫", "丈夫") if sex == "女" else ("其妻", "妻子")
        )
    for _ in range(below(rng, 1, 4)):
        relation = pick(rng, pool)
        rsex = "女" if relation in ("其女", "其妻", "妻子", "女儿", "母亲", "其母", "孙女", "姐姐", "儿媳") else "男"
        same = relation in ("其子", "其女", "儿子", "女儿", "其父", "父亲", "孙子", "孙女", "兄长", "姐姐", "侄子")
        rs, rg = person_name(rng, rsex)
        rel.append((relation, surname if same else rs, rg))
    employed = 18 <= age < 62 and rng.random() < 0.75
    return Patient(
        patient_id=patient_id,
        surname=surname,
        given=given,
        sex=sex,
        birth=birth,
        id_number=idn,
        phone=ids.mobile(rng) if rng.random() < 0.93 else ids.landline(rng),
        address=addr,
        birthplace=birthplace,
        employer=make_employer(rng, addr) if employed else None,
        job=pick(rng, places.JOBS) if employed else ("学生" if age < 23 else pick(rng, ("退休", "农民", "无业"))),
        mrn=ids.mrn(rng),
        insurance_no=ids.insurance_no(rng, idn),
        relatives=rel,
        relative_phone=ids.mobile(rng),
    )
