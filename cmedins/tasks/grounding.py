"""Grounding: every checkable fact an answer states must be readable in its query.

A summary that says `入院第2天复查同型半胱氨酸 13.8μmol/L` when the query never shows that value, or `于神经内科住院`
when the query never names the department, teaches a model to invent. The checker extracts the facts an answer
states, by kind, and looks each up in the query:

- `number_unit`: a number with a unit (`13.8μmol/L`, `0.25g`, `3天`, `71岁`), value and unit normalised (0.50g = 0.5g,
  毫克 = mg, ug = μg);
- `date`: a year (`2020`), a full or partial date (`2020-03`, `2020年3月5日`, `3月5日`);
- `department`: a department name or alias (`data/departments.yaml` and the table's own departments), found in the
  query under any of its names;
- `drug`: a drug of the lexicon (every prescribed drug of the table, by its core name: `头孢曲松` for
  `注射用头孢曲松钠`);
- `diagnosis`: a diagnosis of the lexicon (every wording and ICD-10 name of the table, with the synonyms of
  `data/diagnosis_synonyms.tsv`), found in the query under any name of the same diagnosis.

The parts of an answer that are the task's prediction (`Item.target`: the department of triage, the diagnoses of
task 3, the drugs and doses of task 5, the codes of task 4) are exempt: they are what the model must infer, and the
leakage check keeps them out of the query instead. A row with an ungrounded fact is quarantined as
`ungrounded_answer`, the kinds counted under `ungrounded:<task>:<kind>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from cmedins.tasks.record_text import Matcher, clean, flat, latin_tokens, name_variants, placeholder_free
from cmedins.tasks.rules import Rules

_UNIT_ALIASES = {"毫克": "mg", "克": "g", "毫升": "ml", "ml": "ml", "ug": "μg", "mcg": "μg", "微克": "μg",
                 "°c": "℃", "度": "℃", "次/min": "次/分", "umol/l": "μmol/l", "小时": "h", "分钟": "min",
                 "个月": "月"}
_UNITS = (r"mmHg|mmol/L|μmol/L|umol/L|mg/dL|mg/L|g/L|U/L|IU/L|IU/ml|ng/mL|ng/ml|pg/mL|pg/ml|ng/L|mIU/L|μIU/mL|"
          r"×10\^?9/L|×10\^?12/L|10\^?9/L|mg/m²|mg/kg|μg|ug|mcg|mg|ml|mL|IU|U|g|L|kg|cm|mm|%|℃|°C|"
          r"次/分|次/min|bpm|岁|天|周|个月|月|年|小时|h|分钟|min|毫克|克|毫升|微克")
NUMBER_UNIT_RE = re.compile(rf"(?<![A-Za-z\d.])(\d+(?:\.\d+)?)\s*({_UNITS})(?![A-Za-z])")
FULL_DATE_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})日?|月)?")
MONTH_DAY_RE = re.compile(r"(?<!\d)(\d{1,2})月(\d{1,2})日")
YEAR_RE = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d.])")
KINDS = ("number_unit", "date", "department", "drug", "diagnosis")

_FORM_RE = re.compile(
    r"(?:肠溶|缓释|控释|分散|咀嚼|口腔崩解|泡腾|舌下|含|干|软)?"
    r"(?:片|胶囊|颗粒|散|丸|注射液|注射剂|氯化钠注射液|葡萄糖注射液|口服液|口服溶液|溶液|混悬液|混悬剂|乳膏|软膏|凝胶|"
    r"滴眼液|眼膏|滴耳液|滴鼻液|鼻喷雾剂|喷雾剂|吸入气雾剂|气雾剂|吸入粉雾剂|粉吸入剂|粉雾剂|吸入剂|贴剂|栓|"
    r"阴道片|阴道泡腾片|含漱液|糖浆|洗剂|酊|疫苗|抗毒素)$")
_PREFIX_RE = re.compile(r"^(?:注射用|吸入用|外用|口服)")
_SALT_RE = re.compile(r"^(?:盐酸|硫酸|酒石酸|琥珀酸|马来酸|甲磺酸|苯磺酸|枸橼酸|富马酸|醋酸|磷酸|氢溴酸|草酸)")


def drug_core(name: str) -> str:
    """The active ingredient part of a prescribed name: `注射用头孢曲松钠` -> 头孢曲松, `盐酸二甲双胍片` -> 二甲双胍."""
    core = re.sub(r"\s+", "", clean(name))
    core = re.sub(r"[（(][^）)]*[）)]$", "", core)
    for _ in range(2):
        core = _FORM_RE.sub("", core)
    core = _PREFIX_RE.sub("", core)
    stripped = _SALT_RE.sub("", core)
    core = stripped if len(stripped) >= 2 else core
    if len(core) >= 4 and core[-1] in "钠钾钙镁" and core[-2] not in "化酸":
        core = core[:-1]
    return core if len(core) >= 2 else re.sub(r"\s+", "", clean(name))


@lru_cache(maxsize=65536)
def _number(value: str) -> str:
    try:
        d = Decimal(value).normalize()
    except InvalidOperation:
        return value
    return format(d, "f")


@lru_cache(maxsize=1024)
def _unit(unit: str) -> str:
    u = unit.lower().replace("^", "")
    return _UNIT_ALIASES.get(u, _UNIT_ALIASES.get(unit, u))


# One pass over a text finds dates first (so that `2020年3月` is not the duration `3月`), then numbers with units,
# then bare years.
_FACT_RE = re.compile(
    rf"(?P<date>{FULL_DATE_RE.pattern})|(?P<md>{MONTH_DAY_RE.pattern})|(?P<num>{NUMBER_UNIT_RE.pattern})|"
    rf"(?P<year>{YEAR_RE.pattern})"
)


_DIGITS_RE = re.compile(r"\d+")


def text_facts(text: str) -> tuple[set[str], set[str]]:
    """(numbers with units, dates) a text states: `13.8μmol/L` -> '13.8|μmol/l'; `2020年3月` -> '2020', '2020-3';
    `3月5日` -> '3-5'; a bare `2020` -> '2020'. Values and units are normalised (0.50g = 0.5g, 毫克 = mg)."""
    nums, dates = set(), set()
    end = 0
    for run in _DIGITS_RE.finditer(text):  # facts start with a digit: try the slow pattern only where one does
        if run.start() < end:
            continue
        m = _FACT_RE.match(text, run.start())
        if m is None:
            continue
        end = m.end()
        kind = m.lastgroup
        g = m.groups()
        if kind == "date":
            y, mo, d = g[1], g[2], g[3]
            dates.add(y)
            dates.add(f"{y}-{int(mo)}" + (f"-{int(d)}" if d else ""))
        elif kind == "md":
            dates.add(f"{int(g[5])}-{int(g[6])}")
        elif kind == "num":
            value, unit = g[8], g[9]
            if unit == "年" and 1900 <= float(value) < 2100:
                dates.add(value)  # a year written 2020年, not a duration
            else:
                nums.add(f"{_number(value)}|{_unit(unit)}")
        else:
            dates.add(m.group(0))
    return nums, dates


@dataclass
class _Concepts:
    """Names grouped into concepts (a diagnosis and its synonyms, a department and its aliases): a name found in
    an answer is grounded when any name of any of its concepts occurs in the query (as a substring, so that a
    longer wording in the query, `左眼急性闭角型青光眼 慢性心衰`, still grounds `慢性心衰`)."""

    groups: dict[str, set[int]] = field(default_factory=dict)
    members: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, names: Iterable[str]) -> None:
        names = sorted({flat(x) for x in names if x and len(flat(x)) >= 2})
        if not names:
            return
        for name in names:
            self.groups.setdefault(name, set()).add(len(self.members))
        self.members.append(tuple(names))

    def matcher(self) -> Matcher:
        return Matcher(frozenset(self.groups), lexicon=True)

    def missing(self, matcher: Matcher, flat_answer: str, flat_query: str,
                tokens: list[str] | None = None) -> list[str]:
        """The names found in the (flattened) answer none of whose concepts' names occurs in the flattened query;
        `tokens`: the answer's `latin_tokens`, when the caller has them."""
        out = []
        for name in dict.fromkeys(matcher.findall_flat(flat_answer, tokens)):
            if name in flat_query:
                continue
            if not any(n in flat_query for g in self.groups.get(name, ()) for n in self.members[g]):
                out.append(name)
        return out


class Lexicon:
    """The departments, drugs and diagnoses an answer may name, built once from the whole input table."""

    def __init__(self, rules: Rules, departments: Iterable[str] = (), drugs: Iterable[str] = (),
                 diagnoses: Iterable[tuple[str, str]] = ()) -> None:
        self.departments = _Concepts()
        seen = set()
        for d in [*rules.departments, *departments]:
            d = clean(d)
            if d and d not in seen:
                seen.add(d)
                self.departments.add(rules.department(d).names)
        self.drugs = _Concepts()
        for core in sorted({drug_core(x) for x in drugs if clean(x)}):
            self.drugs.add([core])
        self.diagnoses = _Concepts()
        for group in rules.synonyms:
            self.diagnoses.add(group)
        for text, icd in sorted(set(diagnoses)):
            names = set()
            for raw in (text, icd):
                if clean(raw):
                    names |= name_variants(raw)
            self.diagnoses.add(names)
        self._m = {k: getattr(self, k).matcher() for k in ("departments", "drugs", "diagnoses")}
        self._cache: dict[str, _QueryFacts] = {}

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]], rules: Rules) -> Lexicon:
        deps, drugs, dx = set(), set(), set()
        for r in records:
            deps.add(clean(r.get("department")))
            drugs.update(clean(m.get("drug")) for m in r.get("medications") or [])
            dx.update((clean(d.get("text")), clean(d.get("icd10_name"))) for d in r.get("diagnoses") or [])
        return cls(rules, deps - {""}, drugs - {""}, dx)

    def ungrounded(self, answer: str, query: str, exempt: Iterable[str] = (),
                   kinds: tuple[str, ...] = KINDS) -> list[tuple[str, str]]:
        """(kind, value) of each fact of `answer` that `query` does not state; `exempt` substrings are skipped,
        and only facts of `kinds` are looked at."""
        for x in sorted({x for x in exempt if x}, key=len, reverse=True):
            answer = answer.replace(x, "\n")
        out: list[tuple[str, str]] = []
        q = None
        if "number_unit" in kinds or "date" in kinds:
            nums, dates = text_facts(answer)
            nums = nums if "number_unit" in kinds else set()
            dates = dates if "date" in kinds else set()
            if nums or dates:
                q = self._query(query)
                out += [("number_unit", x) for x in sorted(nums - q.numbers)]
                out += [("date", x) for x in sorted(dates - q.dates)]
        f = tokens = None
        for kind, attr in (("department", "departments"), ("drug", "drugs"), ("diagnosis", "diagnoses")):
            if kind in kinds:
                q = q or self._query(query)
                if f is None:  # the flattened answer and its Latin words, shared by the three look-ups
                    f = flat(answer)
                    tokens = latin_tokens(f)
                out += [(kind, name) for name in getattr(self, attr).missing(self._m[attr], f, q.flat, tokens)]
        return out

    def _query(self, query: str) -> _QueryFacts:
        """The facts of a query, remembered for the few checks (formats, trimmed sentences) of one item."""
        got = self._cache.get(query)
        if got is None:
            got = _QueryFacts(query, flat(query))
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[query] = got
        return got


class _QueryFacts:
    """A query's flattened text, and its numbers and dates when first asked for (most answers state none)."""

    def __init__(self, query: str, flat_query: str) -> None:
        self.query, self.flat = query, flat_query
        self._facts: tuple[set[str], set[str]] | None = None

    @property
    def numbers(self) -> set[str]:
        if self._facts is None:
            self._facts = text_facts(self.query)
        return self._facts[0]

    @property
    def dates(self) -> set[str]:
        if self._facts is None:
            self._facts = text_facts(self.query)
        return self._facts[1]

_UNIT_RE = re.compile(r"[^。！？\n；;]*(?:[。！？；;]+|\n|$)")


def trim(answer: str, query: str, lexicon: Lexicon) -> tuple[str, int]:
    """`answer` without the sentences (and `；` items) that state a fact `query` lacks or hold a placeholder;
    returns the text and how many were dropped. Whole sentences go, not clauses: `复查同型半胱氨酸 13.8μmol/L，
    较前好转。` leaves nothing dangling."""
    missing = lexicon.ungrounded(answer, query)
    if placeholder_free(answer) and not missing:
        return answer, 0
    names = {v for k, v in missing if k not in ("number_unit", "date")}
    values = {v for k, v in missing if k in ("number_unit", "date")}
    kept, dropped = [], 0
    for unit in _UNIT_RE.findall(answer):
        if not unit:
            continue
        flat_unit = flat(unit) if names else ""  # once per unit, not once per name
        bad = not placeholder_free(unit) or any(n in flat_unit for n in names)
        if not bad and values and any(map(str.isdigit, unit)):
            nums, dates = text_facts(unit)
            bad = bool((nums | dates) & values)
        if unit.strip() and bad:
            dropped += 1
            continue
        kept.append(unit)
    text = re.sub(r"\n{2,}", "\n", "".join(kept)).strip()
    return re.sub(r"[；;，,]$", "。", text), dropped
