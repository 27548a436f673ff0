"""Task 4, 诊断标准化: the doctor's diagnosis wording -> ICD-10 standard name and code.

From records, the query lists the coded diagnoses' wordings and the answer their codes in the same order; from
CHIP-CDN (see `public.py`) one wording maps to one or more standard names coded through the public ICD-10 list.
Answers: `标准名称：X，ICD-10编码：Y` lines (default), `wording → X（ICD-10：Y）` lines, or JSON.
"""

from __future__ import annotations

from typing import Any

from cmedins.tasks.formats import Coded, format_coded, format_coded_arrow, format_coded_json, numbered
from cmedins.tasks.record_text import clean, diagnoses
from cmedins.tasks.registry import BuildResult, Item, register_task


def coded_item(wordings: list[str], coded: list[Coded], key: str = "") -> Item:
    """The wordings (numbered when several) and their codes in every format. One wording may have several codes
    (CHIP-CDN): the arrow and JSON formats then repeat the wording on each line."""
    per_code = wordings if len(wordings) == len(coded) else [wordings[0]] * len(coded)
    answers = {"arrow": format_coded_arrow(per_code, coded), "json": format_coded_json(per_code, coded)}
    target = tuple(x for c in coded for x in (c.name, c.code))
    return Item(query=numbered(wordings), answer=format_coded(coded), key=key, icd10=tuple(c.code for c in coded),
                answers=answers, target=target)


@register_task("diagnosis_normalization", "诊断标准化")
def build(record: dict[str, Any], config: Any) -> BuildResult:
    wordings, coded = [], []
    for d in diagnoses(record):
        code, name = clean(d.get("icd10_code")), clean(d.get("icd10_name"))
        if code and name:
            wordings.append(d["text"])
            coded.append(Coded(name, code))
    if not coded:
        return "no_coded_diagnoses"
    return [coded_item(wordings, coded)]
