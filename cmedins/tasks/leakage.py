"""Leakage control: keep the answer of the diagnosis and triage tasks out of their queries.

Real notes state the diagnosis long before the diagnosis section: `门诊以“冠心病”收入院`, `于外院诊断为“肺炎”`,
`考虑“脑梗死”可能`, or a comorbidity history that is the primary diagnosis itself. A model trained on such pairs
learns to copy the quoted phrase, and every diagnosis score on the data is inflated. So before a query is written:

- the *targets* are collected: every name of a diagnosis (the doctor's wording, its space-separated parts, its
  ICD-10 standard name, bracketed alternatives, and the synonyms / abbreviations of `data/diagnosis_synonyms.tsv`);
- a clause (between ，；) that names a target *anywhere* (the primary diagnosis; every diagnosis with
  `leakage_scope: all`; the department for triage), that makes a diagnostic statement (诊断 / 考虑 / 以“…”收入 /
  拟诊 / 排除 …) naming any diagnosis of the answer, or that quotes a diagnosis after a diagnostic verb
  (`以“…”收入院`, `诊断为“…”`: misspelt or not, it is a doctor's diagnosis of this illness), is dropped
  (`leakage: clause`, the default: the rest of the
  sentence stays, `为求进一步诊治，门诊以“X”收入院。` becomes `为求进一步诊治。`), or its whole sentence is
  dropped (`sentence`), or the names are replaced by `leakage_mask` (`mask`);
- after the query is built, the check `answer_in_query` quarantines a row whose answer can still be read in it.

Secondary diagnoses named in the past history (`高血压病史10年，规律服用缬沙坦`) are kept with the default
`leakage_scope: primary`: they are the evidence from which a clinician lists comorbidities, not a copy of the
diagnostic conclusion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cmedins.tasks.record_text import Matcher, clauses, clean, flat, latin_tokens, name_variants, sentences
from cmedins.tasks.rules import Rules

MODES = ("clause", "sentence", "mask", "off")
SCOPES = ("primary", "all")
# A clause that states a diagnosis: the doctor's conclusion, the admitting diagnosis, a referral's impression.
DIAGNOSTIC_CUE = re.compile(r"诊断|考虑|拟诊|疑诊|怀疑|印象|排除|除外|确诊|[以拟按][“\"「]|收入|收住|收治|入院")
# A diagnosis quoted after a diagnostic verb (`门诊以“…”收入院`, `诊断为“…”`, `考虑“…”`) is a doctor's diagnosis of
# this illness however spelt (`慢性胃偶有炎` for 慢性胃炎, `左膝` for 右膝): always removed.
QUOTED_DIAGNOSIS = re.compile(r"(?:[诊考拟疑确][断虑诊]为?|印象|[以拟按])\s*[“\"「][^”\"」]{1,40}[”\"」]")


def dx_names(d: dict[str, Any], rules: Rules) -> frozenset[str]:
    """Every name by which a text could give away one diagnosis."""
    return _dx_names(clean(d.get("text")), clean(d.get("icd10_name")), rules)


@lru_cache(maxsize=65536)
def _dx_names(text: str, icd_name: str, rules: Rules) -> frozenset[str]:
    names: set[str] = set()
    for raw in (text, icd_name):
        if raw:
            names |= name_variants(raw)
            names |= {p for p in re.split(r"[\s、，,;；]+", raw) if len(p) >= 2}
    found, index = synonym_index(rules)
    for n in list(names):  # a synonym group named inside a name (T2DM in `T2DM伴周围神经病变`) adds its group
        for hit in found.findall(n):
            names.update(index.get(hit, ()))
    return frozenset(n for n in names if len(n) >= 2)


@lru_cache(maxsize=8)
def synonym_index(rules: Rules) -> tuple[Matcher, dict[str, tuple[str, ...]]]:
    """A matcher of every synonym and, per lower-cased synonym, the names of its group(s)."""
    index: dict[str, set[str]] = {}
    for group in rules.synonyms:
        for name in group:
            index.setdefault(flat(name), set()).update(group)
    names = frozenset(n for g in rules.synonyms for n in g)
    return Matcher(names, lexicon=True), {k: tuple(sorted(v)) for k, v in index.items()}


@dataclass(frozen=True)
class Targets:
    """What one query must not give away: names masked wherever they occur, and names masked in diagnostic
    statements only."""

    anywhere: tuple[str, ...]
    statements: tuple[str, ...]


@lru_cache(maxsize=4096)
def matcher(names: tuple[str, ...]) -> Matcher:
    return Matcher(frozenset(names))


def _clause_leaks(clause: str, anywhere: Matcher, statements: Matcher) -> bool:
    f = flat(clause)
    tokens = latin_tokens(f) if anywhere.latin and statements.latin else None  # computed once for both
    return (anywhere.search_flat(f, tokens) or QUOTED_DIAGNOSIS.search(clause) is not None
            or (DIAGNOSTIC_CUE.search(clause) is not None and statements.search_flat(f, tokens)))


def _names_anything(text: str, anywhere: Matcher, statements: Matcher) -> bool:
    """Whether `text` names a target or quotes a diagnosis: when it does not, no clause of it leaks (a clause's
    flattened text is part of the text's, and a quote inside a clause is inside the text)."""
    f = flat(text)
    tokens = latin_tokens(f) if anywhere.latin and statements.latin else None
    return anywhere.search_flat(f, tokens) or statements.search_flat(f, tokens) or bool(QUOTED_DIAGNOSIS.search(text))


@lru_cache(maxsize=256)
def control(text: str, targets: Targets, mode: str, mask: str) -> tuple[str, int]:
    """`text` with the leaking clauses dropped (or their sentences, or the names masked); returns the new text and
    how many clauses leaked. Remembered: the diagnosis and triage queries of one record share their sections and
    their targets."""
    if mode == "off" or not text:
        return text, 0
    anywhere, statements = matcher(targets.anywhere), matcher(targets.statements)
    if not _names_anything(text, anywhere, statements):
        return text, 0
    out, leaked = [], 0
    for sentence in sentences(text):
        # most sentences name nothing: one test of the sentence instead of one per clause. (`Σ` is the one letter
        # whose lower case depends on the next one, so only without it is a clause's `flat` part of the sentence's.)
        if "Σ" not in sentence and not _names_anything(sentence, anywhere, statements):
            out.append(sentence)
            continue
        parts = clauses(sentence)
        bad = [_clause_leaks(c, anywhere, statements) for c in parts]
        if not any(bad):
            out.append(sentence)
            continue
        leaked += sum(bad)
        if mode == "sentence":
            out.append("\n" if sentence.endswith("\n") else "")
        elif mode == "mask":
            masked = []
            for c, b in zip(parts, bad, strict=True):
                if b:
                    c = anywhere.sub(mask, c)[0]
                    c = statements.sub(mask, c)[0] if DIAGNOSTIC_CUE.search(c) else c
                    c = QUOTED_DIAGNOSIS.sub(lambda m: re.sub(r"[“\"「].*[”\"」]", f"“{mask}”", m.group(0)), c)
                masked.append(c)
            out.append("".join(masked))
        else:
            out.append(_drop_clauses(parts, bad))
    return re.sub(r"\n{2,}", "\n", "".join(out)).strip(), leaked


def _drop_clauses(parts: list[str], bad: list[bool]) -> str:
    """The sentence without its leaking clauses, ending with the sentence's own terminator."""
    last = parts[-1]
    end = re.search(r"[。！？\n]+$", last)
    terminator = end.group(0) if end else ""
    kept = [c for c, b in zip(parts, bad, strict=True) if not b]
    if not kept:
        return "\n" if "\n" in terminator else ""
    body = "".join(kept)
    body = body[: len(body) - len(terminator)] if terminator and body.endswith(terminator) else body
    return body.rstrip("，；,; ") + terminator


def targets_for(dx: list[dict[str, Any]], primary: int | None, rules: Rules, scope: str,
                extra: Iterable[str] = ()) -> Targets:
    """The targets of a record's diagnoses: the primary one (or all, by scope) anywhere, all in statements."""
    names = [set(dx_names(d, rules)) for d in dx]
    main = primary if primary is not None else 0
    anywhere: set[str] = set(extra)
    for i, n in enumerate(names):
        if scope == "all" or i == main:
            anywhere |= n
    statements = set().union(*names) if names else set()
    return Targets(tuple(sorted(anywhere)), tuple(sorted(statements - anywhere)))


def leaks(query: str, terms: tuple[str, ...]) -> bool:
    """True when any of `terms` can still be read in the query (the `answer_in_query` check)."""
    return bool(terms) and matcher(terms).search(query)
