"""Reading the parts of a de-identified record that the builders quote: sections, patient line, diagnoses."""

from __future__ import annotations

import re
from typing import Any

from cmedins.contracts import SECTION_LABELS
from cmedins.entities import PLACEHOLDERS


def clean(text: Any) -> str:
    """Strip whitespace and byte-order marks (real exports carry a BOM at the start of a text)."""
    if not text:
        return ""
    text = text if isinstance(text, str) else str(text)
    return (text.replace("\ufeff", "") if "\ufeff" in text else text).strip()


def section_lines(record: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    """`主诉：...` lines for the non-empty fields, in the given order."""
    out = []
    for f in fields:
        text = clean(record.get(f))
        if text:
            out.append(f"{SECTION_LABELS[f]}：{text}")
    return out


def patient_line(record: dict[str, Any]) -> str | None:
    """`患者信息：男，65岁`, or None when neither sex nor age is known."""
    parts = []
    sex = clean(record.get("patient_sex"))
    if sex and sex != "未知":
        parts.append(sex)
    age = record.get("patient_age")
    if age is not None:
        parts.append("90岁及以上" if age >= 90 else f"{age}岁")
    return f"患者信息：{'，'.join(parts)}" if parts else None


_ANY_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values() if p.startswith("[")))


def placeholder_free(text: str) -> bool:
    """True when `text` holds no de-identification placeholder ([姓名], [日期], ...)."""
    return not _ANY_PLACEHOLDER_RE.search(text)


def diagnoses(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's diagnoses that have a wording, in record order (primary first by contract)."""
    out = []
    for d in record.get("diagnoses") or []:
        text = clean(d.get("text")) or clean(d.get("icd10_name"))
        if text:
            out.append({**d, "text": text})
    return out


def primary_index(dx: list[dict[str, Any]]) -> int | None:
    for i, d in enumerate(dx):
        if d.get("primary"):
            return i
    return None


def diagnosis_name(d: dict[str, Any]) -> str:
    """The standard name when coded, else the doctor's wording."""
    return clean(d.get("icd10_name")) or d["text"]


# Placeholders of identifiers that carry no clinical meaning: a sentence built around one (a phone line, an
# insurance number, a signature) is record-keeping, not part of a summary a model should learn to write.
_ADMIN_PLACEHOLDERS = tuple(
    PLACEHOLDERS[k] for k in ("ID_NUMBER", "PHONE", "MEDICAL_RECORD_NO", "INSURANCE_NO", "BANK_CARD", "EMAIL",
                              "IP_ADDRESS", "URL", "LICENSE_PLATE", "PASSPORT", "SOCIAL_ACCOUNT")
)
_SIGNATURE_WORDS = ("经治医师", "上级医师", "主治医师:", "主治医师：", "主治医生:", "主治医生：", "住院医师:",
                    "住院医师：",
                    "记录者", "责任护士", "签名")
_CLAUSE_RE = re.compile(r"[^，；,;]+[，；,;]?")
_SENTENCE_RE = re.compile(r"[^。！？\n]*(?:[。！？]|\n|$)")
_NAMED_PATIENT_RE = re.compile(r"^\[姓名\]|(?<=患者)\s*\[姓名\]|(?<=病人)\s*\[姓名\]")


def strip_admin(text: str) -> str:
    """Drop sentences holding administrative identifiers or signatures and clauses naming staff; `患者[姓名]` and a
    leading `[姓名]` become `患者`, so a summary does not teach a model to write names."""
    kept = []
    for sentence in _SENTENCE_RE.findall(text):
        if not sentence.strip():
            if sentence == "\n" and kept and not kept[-1].endswith("\n"):
                kept.append(sentence)
            continue
        if any(p in sentence for p in _ADMIN_PLACEHOLDERS) or any(w in sentence for w in _SIGNATURE_WORDS):
            continue
        kept.append(sentence)
    text = _NAMED_PATIENT_RE.sub(lambda m: "患者" if m.start() == 0 else "", "".join(kept).strip())
    text = "".join(_drop_named_clauses(x) for x in _SENTENCE_RE.findall(text))
    return re.sub(r"\n{2,}", "\n", text).strip()


def _drop_named_clauses(sentence: str) -> str:
    """`定期复查，挂[姓名]处复查。` -> `定期复查。`: a clause naming a doctor or nurse goes, the advice stays."""
    if "[姓名]" not in sentence:
        return sentence
    end = sentence[-1] if sentence[-1:] in "。！？\n" else ""
    body = sentence[: len(sentence) - len(end)]
    clauses = [c for c in _CLAUSE_RE.findall(body) if "[姓名]" not in c]
    if not clauses:
        return "\n" if end == "\n" else ""
    return "".join(clauses).rstrip("，；,;") + end


# ---- matching names in text --------------------------------------------------------------------------------------

_LATIN_RE = re.compile(r"^[A-Za-z0-9]+$")
_BRACKETS_RE = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")
CLAUSE_RE = re.compile(r"[^，；,;]+[，；,;]?|[，；,;]")
SENTENCE_RE = re.compile(r"[^。！？\n]*(?:[。！？]+|\n|$)")


_PUNCT_CHARS = "，。；：、！？,.;:!?（）()[]【】“”\"'‘’《》<>·…-—_/"
# One pass deleting whitespace (`\s` is exactly `str.isspace`) and punctuation: twice as fast on Chinese text as
# `"".join(text.split()).translate(...)`, whose translate table has no fast path outside ASCII.
_NORM_DROP_RE = re.compile(f"[\\s{re.escape(_PUNCT_CHARS)}]")


def norm(text: str) -> str:
    """Text without whitespace and punctuation, Latin letters lower-cased: what counts as 'the same words' when
    comparing queries (the per-task cap) or looking for an answer in a query."""
    return _NORM_DROP_RE.sub("", text).lower() if text else ""


def name_variants(name: str) -> set[str]:
    """A name, without its whitespace and without bracketed qualifiers, and its bracketed alternative:
    `高血压3级(极高危)` -> {高血压3级(极高危), 高血压3级}; `非器质性失眠症[原发性失眠]` adds 原发性失眠."""
    name = clean(name)
    out = {re.sub(r"\s+", "", name), re.sub(r"[\s？?！!。，,；;：:“”\"'、]", "", name)}
    bare = _BRACKETS_RE.sub("", name).strip()
    if bare:
        out.add(re.sub(r"\s+", "", bare))
    for inner in re.findall(r"[（(\[【]([^）)\]】]+)[）)\]】]", name):
        if len(inner) >= 3 and not re.search(r"[危级期型]$|^[\d.]+$", inner):
            out.add(inner.strip())
    return {v for v in out if len(v) >= 2}


def flat(text: str) -> str:
    """Text without whitespace, lower-cased: where names are looked up (`冠 心病` is 冠心病, `copd` is COPD)."""
    return "".join(text.split()).lower() if text else ""


class Matcher:
    """Finds any of a set of names in a text, ignoring whitespace and case; Latin names (COPD, T2DM) only as whole
    words, so that `AF` is not found in `AFP`.

    Small sets (the names of one record's diagnoses) are plain substring tests on the flattened text, which cost
    nothing to build; large sets (`lexicon=True`: every drug of the table) compile into one trie-shaped regex over
    the flattened text (a plain alternation of a thousand names is a thousand comparisons per character; the trie
    is one), which finds the longest name at each position. `sub` (mask mode) works on the original text."""

    def __init__(self, names: set[str] | frozenset[str] | tuple[str, ...], lexicon: bool = False) -> None:
        names = {flat(n) for n in names if n and len(flat(n)) >= 2}
        self.names = names
        self.latin = frozenset(n for n in names if _LATIN_RE.match(n))
        self.cjk = sorted((n for n in names if not _LATIN_RE.match(n)), key=lambda n: (-len(n), n))
        self.trie = re.compile(_trie_pattern(set(self.cjk), sep="")) if lexicon and self.cjk else None
        self._sub: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self.names)

    def search(self, text: str) -> bool:
        return self.search_flat(flat(text))

    def search_flat(self, f: str, tokens: list[str] | None = None) -> bool:
        """`search` on a text already passed through `flat`; `tokens`: its `latin_tokens`, when the caller has
        them (several matchers look at one text)."""
        if self.latin and any(t in self.latin for t in (latin_tokens(f) if tokens is None else tokens)):
            return True
        if self.trie is not None:
            return self.trie.search(f) is not None
        return any(n in f for n in self.cjk)

    def findall(self, text: str) -> list[str]:
        """The names found (flattened), longest first at each position."""
        return self.findall_flat(flat(text))

    def findall_flat(self, f: str, tokens: list[str] | None = None) -> list[str]:
        """`findall` on a text already passed through `flat`; `tokens` as for `search_flat`."""
        out = [t for t in (latin_tokens(f) if tokens is None else tokens) if t in self.latin] if self.latin else []
        if self.trie is not None:
            out += self.trie.findall(f)
        else:
            out += [n for n in self.cjk if n in f]
        return out

    def sub(self, repl: str, text: str) -> tuple[str, int]:
        """`text` with every name replaced by `repl` (whitespace inside a name tolerated)."""
        if not self.names:
            return text, 0
        if self._sub is None:
            parts = [rf"(?<![A-Za-z]){re.escape(n)}(?![A-Za-z])" for n in sorted(self.names, key=len, reverse=True)
                     if _LATIN_RE.match(n)]
            if self.cjk:
                parts.append(_trie_pattern(set(self.cjk)))
            self._sub = re.compile("|".join(parts), re.IGNORECASE)
        return self._sub.subn(repl, text)


_ALNUM_RUN_RE = re.compile(r"[a-z0-9]+")
_LETTERS_RE = re.compile(r"[a-z]+")


def latin_tokens(f: str) -> list[str]:
    """The words a Latin name can be in a flattened text: each letter-digit run (`t2dm`) and its letter parts
    (`ckd3` -> ckd), so that a name is found only as a whole word (`af` is not in `afp`)."""
    out = []
    for run in _ALNUM_RUN_RE.findall(f):
        out.append(run)
        if not (run.isalpha() or run.isdigit()):  # most runs are numbers: no letter parts to look for
            out += _LETTERS_RE.findall(run)
    return out


def _trie_pattern(words: set[str], sep: str = r"\s*") -> str:
    """A regex matching any of `words` (longest first at each position), `sep` allowed between characters."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def alternatives(node: dict) -> str:
        branches = []
        for ch in sorted(k for k in node if k):
            child = node[ch]
            if any(k for k in child):
                tail = f"(?:{sep}{alternatives(child)})"
                branches.append(re.escape(ch) + tail + ("?" if "" in child else ""))
            else:
                branches.append(re.escape(ch))
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return alternatives(trie)


def sentences(text: str) -> list[str]:
    """Sentences with their terminators (。！？ or a line break), concatenating back to the text."""
    return [s for s in SENTENCE_RE.findall(text) if s]


def clauses(sentence: str) -> list[str]:
    """Comma / semicolon clauses of a sentence with their separators; the sentence terminator stays on the last."""
    return CLAUSE_RE.findall(sentence)
