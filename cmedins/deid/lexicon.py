"""Word lists of the de-identifier, read from `cmedins/deid/data/*.txt`.

They are data, not code, so a hospital can extend them (a local surname, a ward's own label) without touching the
detectors. None of them comes from the synthetic generator: detection must work on notes written by others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def _lines(name: str) -> list[str]:
    out: list[str] = []
    for raw in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _words(name: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for line in _lines(name):
        for w in line.split():
            seen.setdefault(w, None)
    return tuple(seen)


def _sections(name: str) -> dict[str, tuple[str, ...]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in _lines(name):
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).extend(line.split())
    return {k: tuple(dict.fromkeys(v)) for k, v in sections.items()}


def _chars(name: str) -> frozenset[str]:
    """A list of single characters, one per line (a longer entry is a typo that would silently never match)."""
    words = _words(name)
    bad = [w for w in words if len(w) != 1]
    if bad:
        raise ValueError(f"{DATA_DIR / name}: one character per line expected, got {' '.join(bad)}")
    return frozenset(words)


def _sized(name: str, size: int) -> tuple[str, ...]:
    """A word list whose entries must all be `size` characters long (the detector slices that many)."""
    words = _words(name)
    bad = [w for w in words if len(w) != size]
    if bad:
        raise ValueError(f"{DATA_DIR / name}: every entry must be {size} characters long, got {' '.join(bad)}")
    return words


@dataclass(frozen=True)
class NameWords:
    """The person-name detector's word and character lists (`data/name_*.txt`; each file says what it is for)."""

    kinship: frozenset[str]
    care_roles: frozenset[str]
    not_a_name: frozenset[str]
    relation_words: frozenset[str]
    clause_verbs: tuple[str, ...]
    escort_verbs: tuple[str, ...]
    field_words: tuple[str, ...]  # all two characters long
    relative_status: tuple[str, ...]
    role_prefixes: frozenset[str]
    professional_titles: frozenset[str]
    preposition_surnames: frozenset[str]
    adverb_surnames: frozenset[str]
    stop_chars: frozenset[str]
    hard_stop_chars: frozenset[str]
    not_given_chars: frozenset[str]
    kin_chars: frozenset[str]
    role_end_chars: frozenset[str]
    place_after_mou: frozenset[str]
    mou_some_chars: frozenset[str]
    dept_chars: frozenset[str]
    after_name_chars: frozenset[str]
    after_kin_name_chars: frozenset[str]
    person_nouns: tuple[str, ...]  # 翻译, 客服, 友人: context for the model's person spans, longest first
    colloquial_kinship: frozenset[str]  # 爸爸, 男朋友: role words before a name, not label slots


def _name_words() -> NameWords:
    return NameWords(
        kinship=frozenset(_words("name_kinship.txt")),
        care_roles=frozenset(_words("name_care_roles.txt")),
        not_a_name=frozenset(_words("name_not_a_name.txt")),
        relation_words=frozenset(_words("name_relation_words.txt")),
        clause_verbs=_words("name_clause_verbs.txt"),
        escort_verbs=_words("name_escort_verbs.txt"),
        field_words=_sized("name_field_words.txt", 2),
        relative_status=_words("name_relative_status.txt"),
        role_prefixes=frozenset(_words("name_role_prefixes.txt")),
        professional_titles=frozenset(_words("name_professional_titles.txt")),
        preposition_surnames=_chars("name_preposition_surnames.txt"),
        adverb_surnames=_chars("name_adverb_surnames.txt"),
        stop_chars=_chars("name_stop_chars.txt"),
        hard_stop_chars=_chars("name_hard_stop_chars.txt"),
        not_given_chars=_chars("name_not_given_chars.txt"),
        kin_chars=_chars("name_kin_chars.txt"),
        role_end_chars=_chars("name_role_end_chars.txt"),
        place_after_mou=_chars("name_place_after_mou.txt"),
        mou_some_chars=_chars("name_mou_some_chars.txt"),
        dept_chars=_chars("name_dept_chars.txt"),
        after_name_chars=_chars("name_after_name_chars.txt"),
        after_kin_name_chars=_chars("name_after_kin_name_chars.txt"),
        person_nouns=_by_length(_words("name_person_nouns.txt")),
        colloquial_kinship=frozenset(_words("name_kinship_colloquial.txt")),
    )


@dataclass(frozen=True)
class Lexicon:
    """All word lists, loaded once per process."""

    surnames: frozenset[str]
    common_surnames: frozenset[str]  # the first 100 of surnames.txt (listed by frequency): most of the population
    compound_surnames: tuple[str, ...]
    weak_surnames: frozenset[str]
    titles: tuple[str, ...]
    strong_person_labels: tuple[str, ...]
    weak_person_labels: tuple[str, ...]
    allow: frozenset[str]
    allow_lengths: tuple[int, ...]
    address_strong: tuple[str, ...]
    address_weak: tuple[str, ...]
    address_labels: tuple[str, ...]
    address_numeric: tuple[str, ...]
    address_numeric_strong: tuple[str, ...]
    hospital_suffixes: tuple[str, ...]
    org_suffixes: tuple[str, ...]
    org_labels: tuple[str, ...]
    org_generic: frozenset[str]
    context: dict[str, tuple[str, ...]]
    names: NameWords
    minority_name_parts: tuple[str, ...]
    pinyin_surnames: frozenset[str]  # Wang, Ouyang: romanised surnames (name_romanised.txt)
    cantonese_surnames: frozenset[str]  # Chan, Leung, Ng: Hong Kong, Macau and Singapore spellings
    english_given_names: tuple[str, ...]  # Sarah, David
    english_terms: frozenset[str]  # syndrome, monitor: lower-case English medical words, never part of a name

    def starts_with_allowed(self, text: str) -> bool:
        """True when `text` is, or begins with, a protected medical word (白芍, 高血压, 史密斯骨折)."""
        allow = self.allow
        return any(text[:k] in allow for k in self.allow_lengths if k <= len(text))

    def ends_with_allowed(self, text: str) -> bool:
        """True when `text` ends with a protected word (尿路 is not a road, 病区 not a district)."""
        allow = self.allow
        return any(text[-k:] in allow for k in self.allow_lengths if k <= len(text))


def _by_length(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


@cache
def lexicon() -> Lexicon:
    person = _sections("person_labels.txt")
    address = _sections("address_words.txt")
    org = _sections("organization_words.txt")
    context: dict[str, tuple[str, ...]] = {}
    for line in _lines("context_words.txt"):
        entity, _, words = line.partition(":")
        context[entity.strip()] = _by_length(tuple(words.split()))
    allow = _words("allow_list.txt") + _words("allow_drugs_eponyms.txt")
    romanised = _sections("name_romanised.txt")
    return Lexicon(
        surnames=frozenset(_words("surnames.txt")),
        common_surnames=frozenset(_words("surnames.txt")[:100]),
        compound_surnames=_by_length(_words("compound_surnames.txt")),
        weak_surnames=frozenset(_words("weak_surnames.txt")),
        titles=_by_length(_words("titles.txt")),
        strong_person_labels=_by_length(person.get("strong", ())),
        weak_person_labels=_by_length(person.get("weak", ())),
        allow=frozenset(allow),
        allow_lengths=tuple(sorted({len(w) for w in allow})),
        address_strong=_by_length(address.get("strong", ())),
        address_weak=_by_length(address.get("weak", ())),
        address_labels=_by_length(address.get("labels", ())),
        address_numeric=_by_length(address.get("numeric", ())),
        address_numeric_strong=_by_length(address.get("numeric_strong", ())),
        hospital_suffixes=_by_length(org.get("hospital", ())),
        org_suffixes=_by_length(org.get("organization", ())),
        org_labels=_by_length(org.get("labels", ())),
        org_generic=frozenset(org.get("generic", ())),
        context=context,
        names=_name_words(),
        minority_name_parts=_by_length(_words("name_minority_parts.txt")),
        pinyin_surnames=frozenset(romanised["pinyin"]),
        cantonese_surnames=frozenset(romanised["cantonese"]),
        english_given_names=_by_length(romanised["given"]),
        english_terms=frozenset(w.lower() for w in romanised["not_names"]),
    )



def starts(words: Iterable[str], also: str = "") -> str:
    """A regex lookahead on the first characters of `words` (and the class ranges in `also`), to put before an
    alternation of them: Python's engine tries a long alternation of literals at every position, and the
    one-character class rejects almost every position at once (the number-label scan ran 4x faster). It changes
    no match."""
    return "(?=[" + "".join(sorted({re.escape(w[0]) for w in words if w})) + also + "])"


@cache
def person_words() -> tuple[str, ...]:
    """Words right before a person's name (longest first): person labels, kinship, care roles, person nouns. What
    stands after one of them names someone (患者张三, 司机老崔, 翻译娜塔莎, 医生 回复：…)."""
    lx = lexicon()
    words = set(lx.strong_person_labels) | set(lx.weak_person_labels) | lx.names.kinship | lx.names.care_roles | \
        set(lx.names.person_nouns) | lx.names.colloquial_kinship
    return tuple(sorted(words, key=len, reverse=True))
