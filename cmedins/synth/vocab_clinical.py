"""Per-disease clinical tables (complaints, signs, exam findings, labs), parsed from `vocab_clinical_a/b/c`.

Why per disease and not per profile: a profile groups diseases that share drugs and a department, but not their
findings (an appendix CT sign belongs to appendicitis, not to every acute abdomen), so findings taken from the profile
point nowhere. `CLINICAL[code]` holds what that one diagnosis shows; `COMORBID` what a chronic comorbidity adds to a
record of another disease (its own labs, now and then one finding), so every finding a record states is explained by
one of its diagnoses.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmedins.synth.vocab_clinical_a import RAW_A, RAW_A2
from cmedins.synth.vocab_clinical_b import RAW_B
from cmedins.synth.vocab_clinical_c import RAW_C


@dataclass(frozen=True)
class Clinical:
    sx: tuple[str, ...] | None  # None: keep the override or profile symptoms
    signs: tuple[str, ...] | None  # None: the override table has them
    exams: tuple[str, ...] | None
    labs: tuple[tuple[str, str], ...]  # (item, H | L | A | N)


def _split(body: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in body.split(";") if x.strip())


def _parse(*raws: str) -> dict[str, Clinical]:
    out: dict[str, Clinical] = {}
    for raw in raws:
        code, fields = None, {}
        lines = [*raw.strip().splitlines(), "END"]
        for line in lines:
            if not line.strip():
                continue
            if not line.startswith(" "):
                if code is not None:
                    labs = tuple(tuple(x.split(":")) for x in _split(fields.get("lab", "")))
                    out[code] = Clinical(
                        _split(fields["sx"]) if "sx" in fields else None,
                        _split(fields["sign"]) if "sign" in fields else None,
                        _split(fields["exam"]) if "exam" in fields else None,
                        labs,  # type: ignore[arg-type]
                    )
                if line.strip() in out:
                    raise ValueError(f"duplicate clinical entry {line.strip()}")
                code, fields = line.strip(), {}
                continue
            key, _, body = line.strip().partition(" ")
            fields[key] = body.strip()
    return out


CLINICAL: dict[str, Clinical] = _parse(RAW_A, RAW_A2, RAW_B, RAW_C)

# What a chronic comorbidity shows in a record of another disease: labs (always) and findings (now and then).
_COMORBID_RAW = """
I10xx11
 exam 颈动脉超声示{a:双侧颈动脉}{s:内中膜增厚}
 lab
E11.901
 lab  空腹血糖:H; 糖化血红蛋白:H
I25.105
 exam 心电图示{a:V4-V6导联}{s:T波低平}
 lab  低密度脂蛋白胆固醇:H
E78.501
 lab  总胆固醇:H; 低密度脂蛋白胆固醇:H
I48xx06
 exam 动态心电图示{d:阵发性}{s:心房颤动}
 lab
J44.901
 exam 肺功能示{d:中度}{s:阻塞性通气功能障碍}
 lab
N18.916
 lab  肌酐:H; 估算肾小球滤过率:L
K76.001
 exam 腹部彩超示{a:肝脏}{d:弥漫性}{s:脂肪浸润}
 lab
M81.991
 exam 双能X线骨密度示{s:T值}{d:-2.6}
 lab
I63.903
 exam 头颅CT示{a:双侧基底节区}{d:陈旧性}{s:腔隙灶}
 lab
E79.001
 lab  尿酸:H
E03.901
 lab  促甲状腺激素:H
K29.501
 lab
G47.001
 lab
B18.106
 lab  乙肝表面抗原:A
I50.905
 sign {a:双下肢}{d:轻度凹陷性}{s:水肿}
 lab  N末端B型利钠肽原:H
"""
COMORBID: dict[str, Clinical] = _parse(_COMORBID_RAW)
