"""Lab results as doctors type them in 辅助检查: `CA125 82.0U/mL↑`, `糖类抗原125：82.0 U/mL`, `血红蛋白97g/L`,
`ALT 56U/L（参考值7-40）↑`.

Why a module: an analyte whose name ends in a digit or a Latin letter (CA125, 补体C3, FT4, PaO2) must be separated
from its value, or `糖类抗原12582.0U/mL` reads as another number; only a name ending in a Chinese character may be
glued to its value (血红蛋白97g/L), as real notes often do. Arrows and reference ranges follow the structured row.
"""

from __future__ import annotations

import random

from cmedins.synth.rand import below, pick

_ARROW = {"H": "↑", "L": "↓"}


def glueable(name: str) -> bool:
    """Whether a value may follow the name with no separator: only after a Chinese character."""
    return "\u4e00" <= name[-1] <= "\u9fff"


def lab_text(rng: random.Random, name: str, lab: dict) -> str:
    """One lab result in one of the house styles; `name` is the item or its abbreviation."""
    value, unit, flag = lab["value"], lab["unit"], lab["flag"]
    arrow = _ARROW.get(flag, "") if rng.random() < 0.45 else ""
    if not unit:  # qualitative: 大便隐血 阳性 / 尿蛋白：++
        sep = pick(rng, ("", " ", "：")) if glueable(name) else pick(rng, (" ", "："))
        return f"{name}{sep}{value}"
    form = below(rng, 6)
    if form == 0 and glueable(name):
        return f"{name}{value}{unit}{arrow}"
    if form == 1:
        return f"{name}：{value}{unit}{arrow}"
    if form == 2:
        return f"{name}: {value} {unit}{(' ' + arrow) if arrow else ''}"
    if form == 3 and lab.get("reference_range"):
        return f"{name} {value}{unit}{arrow}（参考值{lab['reference_range']}）"
    return f"{name} {value}{unit}{arrow}"
