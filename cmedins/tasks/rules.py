"""The clinical knowledge the task builders use, read from the reviewable data files in `cmedins/tasks/data/`.

Drug classes, allergy rules, sex / pregnancy / age contraindications, departments and diagnosis synonyms live in
YAML and TSV files rather than in code so that a clinician can review and correct them without reading Python, and
so that a hospital can point `TasksConfig.rules_dir` at its own reviewed copies (a file there replaces the
package's file of the same name; the files are hashed into the stage's cache key). Everything is validated when
the stage's config is built: a rule naming an unknown drug class fails before any record is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
DATA_FILES = ("drug_classes.yaml", "allergy_rules.yaml", "contraindications.yaml", "departments.yaml",
              "diagnosis_synonyms.tsv")
ACTIONS = ("quarantine", "caution")


@dataclass(frozen=True)
class DrugClass:
    """A class of drugs, recognised by substrings of the prescribed name."""

    id: str
    zh: str
    match: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    purpose: str = ""
    indications: tuple[str, ...] = ()

    def contains(self, drug: str) -> bool:
        return any(m in drug for m in self.match) and not any(x in drug for x in self.exclude)


@dataclass(frozen=True)
class DrugRule:
    """One contraindication: drugs (by name or class) that a patient of this kind must not get, or only with a note.

    `forbidden_for` (a sex), `min_age` / `max_age` (years, [min, max)) and the dose limits narrow who and what it
    applies to; `unless_dx` lists diagnosis words that lift it (aspirin in Kawasaki disease)."""

    kind: str
    action: str
    match: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    note: str = ""
    forbidden_for: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    max_single_mg: float | None = None
    max_daily_mg: float | None = None
    unless_dx: tuple[str, ...] = ()
    when_dx: tuple[str, ...] = ()  # diagnosis rules: applies only when a diagnosis contains one of these


@dataclass(frozen=True)
class Department:
    name: str
    aliases: tuple[str, ...]
    scope: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, eq=False)  # identity hash: one loaded instance per rules_dir, used as a cache key
class Rules:
    classes: dict[str, DrugClass]
    allergens: tuple[tuple[str, tuple[str, ...]], ...]  # (allergy id, words), first match wins
    allergy_rules: tuple[tuple[str, tuple[str, ...], str], ...]  # (allergy id, avoided class ids, kind)
    pregnancy_dx_words: tuple[str, ...]
    pregnancy_dx_except: tuple[str, ...]
    pregnancy_text: re.Pattern[str] | None
    pregnancy_rules: tuple[DrugRule, ...]
    sex_rules: tuple[DrugRule, ...]
    age_rules: tuple[DrugRule, ...]
    diagnosis_rules: tuple[DrugRule, ...]
    departments: dict[str, Department]
    generic_scope: str
    synonyms: tuple[tuple[str, ...], ...]

    def classes_of(self, drug: str) -> tuple[str, ...]:
        """Ids of the classes `drug` belongs to, in file order."""
        return _classes_of(self, drug)

    def department(self, name: str) -> Department:
        """The department's entry; one not in the file is its own only alias with the generic scope."""
        return self.departments.get(name) or Department(name, (), self.generic_scope)


@cache
def _classes_of(rules: Rules, drug: str) -> tuple[str, ...]:
    return tuple(c.id for c in rules.classes.values() if c.contains(drug))


def data_file(name: str, rules_dir: str | None = None) -> Path:
    """The file `name` from `rules_dir` when it holds one, else the package's own."""
    if rules_dir:
        own = Path(rules_dir) / name
        if own.exists():
            return own
    return DATA_DIR / name


def rule_files(rules_dir: str | None) -> list[Path]:
    """The files of `rules_dir` that replace package files (for the runner's cache key)."""
    return [p for p in (data_file(n, rules_dir) for n in DATA_FILES) if p.parent != DATA_DIR]


def _yaml(name: str, rules_dir: str | None) -> Any:
    path = data_file(name, rules_dir)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML ({type(exc).__name__})") from None


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if str(v))


def _drug_rule(raw: dict[str, Any], where: str, classes: dict[str, DrugClass]) -> DrugRule:
    if not isinstance(raw, dict) or not raw.get("kind"):
        raise ValueError(f"{where}: each rule needs a kind")
    action = raw.get("action", "quarantine")
    if action not in ACTIONS:
        raise ValueError(f"{where}: rule {raw['kind']}: action must be one of {', '.join(ACTIONS)}, got {action!r}")
    cls = _strs(raw.get("class"))
    unknown = [c for c in cls if c not in classes]
    if unknown:
        raise ValueError(f"{where}: rule {raw['kind']}: unknown drug class {', '.join(unknown)}")
    if not cls and not _strs(raw.get("match")):
        raise ValueError(f"{where}: rule {raw['kind']}: needs match or class")

    def num(key: str) -> float | None:
        return float(raw[key]) if raw.get(key) is not None else None

    return DrugRule(kind=str(raw["kind"]), action=action, match=_strs(raw.get("match")), classes=cls,
                    exclude=_strs(raw.get("except")), note=str(raw.get("note") or ""),
                    forbidden_for=raw.get("forbidden_for"),
                    min_age=int(raw["min_age"]) if raw.get("min_age") is not None else None,
                    max_age=int(raw["max_age"]) if raw.get("max_age") is not None else None,
                    max_single_mg=num("max_single_mg"), max_daily_mg=num("max_daily_mg"),
                    unless_dx=_strs(raw.get("unless_diagnosis")), when_dx=_strs(raw.get("diagnosis_words")))


@cache
def load_rules(rules_dir: str | None = None) -> Rules:
    """Read and validate every data file; a mistake is a one-line error naming the file and the rule."""
    raw_classes = _yaml("drug_classes.yaml", rules_dir)
    classes = {
        cid: DrugClass(cid, str(c.get("zh") or cid), _strs(c.get("match")), _strs(c.get("except")),
                       str(c.get("purpose") or ""), _strs(c.get("indications")))
        for cid, c in raw_classes.items()
    }
    for c in classes.values():
        if not c.match:
            raise ValueError(f"drug_classes.yaml: class {c.id} has no match strings")
    allergy = _yaml("allergy_rules.yaml", rules_dir)
    allergens = tuple((str(k), _strs(v)) for k, v in (allergy.get("allergens") or {}).items())
    known_allergies = {a for a, _ in allergens}
    allergy_rules = []
    for r in allergy.get("rules") or []:
        avoid = _strs(r.get("avoid"))
        bad = [c for c in avoid if c not in classes] + ([r.get("allergy")] if r.get("allergy") not in
                                                          known_allergies else [])
        if bad or not r.get("kind"):
            raise ValueError(f"allergy_rules.yaml: rule {r.get('kind')!r}: unknown allergy or class {bad}")
        allergy_rules.append((str(r["allergy"]), avoid, str(r["kind"])))
    contra = _yaml("contraindications.yaml", rules_dir)
    preg = contra.get("pregnancy") or {}
    patterns = _strs(preg.get("text_patterns"))
    where = "contraindications.yaml"
    deps = _yaml("departments.yaml", rules_dir)
    departments = {
        str(name): Department(str(name), _strs((d or {}).get("aliases")), str((d or {}).get("scope") or ""))
        for name, d in (deps.get("departments") or {}).items()
    }
    synonyms = []
    path = data_file("diagnosis_synonyms.tsv", rules_dir)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            names = tuple(n.strip() for n in line.split("\t") if n.strip())
            if len(names) >= 2:
                synonyms.append(names)
    return Rules(
        classes=classes,
        allergens=allergens,
        allergy_rules=tuple(allergy_rules),
        pregnancy_dx_words=_strs(preg.get("diagnosis_words")),
        pregnancy_dx_except=_strs(preg.get("except_diagnosis_words")),
        pregnancy_text=re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None,
        pregnancy_rules=tuple(_drug_rule(r, f"{where} pregnancy", classes) for r in preg.get("rules") or []),
        sex_rules=tuple(_drug_rule(r, f"{where} sex", classes) for r in contra.get("sex") or []),
        age_rules=tuple(_drug_rule(r, f"{where} age", classes) for r in contra.get("age") or []),
        diagnosis_rules=tuple(_drug_rule(r, f"{where} diagnosis", classes) for r in contra.get("diagnosis") or []),
        departments=departments,
        generic_scope=str(deps.get("generic_scope") or "该科室诊治范围内的疾病"),
        synonyms=tuple(synonyms),
    )
