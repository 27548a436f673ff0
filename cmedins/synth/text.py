"""Span-carrying text: free-text sections built from tagged pieces, so ground truth never has to be searched for.

A section is a list of sentences and a sentence is a list of pieces `(text, tag)`. The tag says what a piece is:
`None` (plain prose, free to edit), `"P:<ENTITY_TYPE>"` (an identifier), `"M:<kind>"` (a medical term that must
survive de-identification) or `"Es"`/`"Ed"`/`"Ea"` (an event's subject, descriptor or anatomy word). Spans are
computed while rendering, so they match the text by construction, including after near-duplicate edits, which only
touch plain pieces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Piece = tuple[str, str | None]

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def fullwidth_digits(text: str) -> str:
    """EMR quirk: digits typed with a Chinese IME in full-width mode."""
    return text.translate(_FULLWIDTH)


@dataclass
class Sentence:
    pieces: list[Piece]

    @property
    def text(self) -> str:
        return "".join(p[0] for p in self.pieces)


@dataclass
class Event:
    """A clinical-finding event pointing at one sentence object (it moves with the sentence when reordered)."""

    section: str
    sentence: Sentence
    subject: str
    descriptors: list[str]
    anatomy: list[str]
    status: str


@dataclass
class Section:
    name: str
    sentences: list[Sentence] = field(default_factory=list)
    sep: str = ""

    def add(self, pieces: list[Piece]) -> Sentence:
        s = Sentence(pieces)
        self.sentences.append(s)
        return s

    @property
    def text(self) -> str:
        return self.sep.join(s.text for s in self.sentences)


# A tagged piece's place in its section: (start, end, tag, text). A plain tuple, because rendering creates one per
# tagged piece of every record and nothing else about it is needed.
Span = tuple[int, int, str, str]


def render_spans(section: Section) -> tuple[str, list[Span]]:
    """The section text and the span of every tagged piece in it (identifiers, medical terms, event words)."""
    out: list[str] = []
    spans: list[Span] = []
    add, keep = out.append, spans.append
    sep = section.sep
    pos = 0
    for i, sent in enumerate(section.sentences):
        if i and sep:
            add(sep)
            pos += len(sep)
        for text, tag in sent.pieces:
            n = len(text)
            if tag is not None and n and tag != "Ed":
                keep((pos, pos + n, tag, text))
            add(text)
            pos += n
    return "".join(out), spans


_MARK = re.compile(r"\{([sdam])([!?+*]?):([^{}]*)\}")
_CLAUSE_END = frozenset("，；。,;")
_STATUS = {"!": "否定", "?": "不确定", "+": "肯定"}


class MarkupError(ValueError):
    """A vocabulary entry whose event words cannot be assigned to exactly one finding."""


@dataclass(frozen=True)
class Finding:
    """One clinical-finding event of a markup phrase: its subject and the modifiers written for it."""

    subject: str
    descriptors: tuple[str, ...]
    anatomy: tuple[str, ...]
    status: str


def parse_markup(markup: str) -> tuple[list[Piece], list[Finding]]:
    """Parse the vocabulary's tiny markup into pieces and the findings it states.

    Marks: `{s:主体词}`, `{d:描述词}`, `{a:部位}`, `{m:kind:term}`. A leading `!` / `?` sets the status of every
    subject (否定 / 不确定); `{s!:…}`, `{s?:…}`, `{s+:…}` set one subject's status, so a clause list such as
    `{a*:双肺}{s+:呼吸音}{d:清}，未闻及{s!:干湿性啰音}` states one affirmed and one negated finding.
    `{a*:…}` is anatomy named once for the rest of the phrase (双肺 above covers both findings).

    Why clauses: a descriptor or anatomy word belongs to the subjects of its own clause (text up to `，；。`), so
    `{a:全腹}无{s:压痛}及{s:反跳痛}` shares 全腹 while `…，{s:墨菲征}阴性` does not inherit it. A clause with
    modifiers but no subject continues the previous finding (`{s:骨折}，{d:横行}`). Modifiers with no finding to
    attach to raise `MarkupError`, so a vocabulary slip fails the vocabulary test instead of teaching a wrong event.
    """
    default = "肯定"
    if markup.startswith("!"):
        default, markup = "否定", markup[1:]
    elif markup.startswith("?"):
        default, markup = "不确定", markup[1:]
    pieces: list[Piece] = []
    clauses: list[list[tuple[str, str, str]]] = [[]]  # (kind, word, status)

    def plain(text: str) -> None:
        pieces.append((text, None))
        if any(ch in _CLAUSE_END for ch in text) and clauses[-1]:
            clauses.append([])

    pos = 0
    for m in _MARK.finditer(markup):
        if m.start() > pos:
            plain(markup[pos : m.start()])
        kind, flag, body = m.group(1), m.group(2), m.group(3)
        if kind == "m":
            mk, _, term = body.partition(":")
            pieces.append((term, "M:" + mk))
        else:
            if flag and not (kind == "s" and flag in "!?+" or kind == "a" and flag == "*"):
                raise MarkupError(f"misplaced mark {flag!r} in {markup!r}")
            pieces.append((body, "E" + kind))
            clauses[-1].append((kind + flag if flag == "*" else kind, body, _STATUS.get(flag, default)))
        pos = m.end()
    if pos < len(markup):
        plain(markup[pos:])
    findings: list[Finding] = []
    last: list[int] = []  # indexes of the previous clause's findings, for modifier-only continuation clauses
    sticky: tuple[str, ...] = ()  # {a*:…} anatomy, carried into the clauses after its own
    for clause in clauses:
        descs = tuple(w for k, w, _ in clause if k == "d")
        own = tuple(w for k, w, _ in clause if k in ("a", "a*"))
        anats = own + tuple(w for w in sticky if w not in own)
        sticky += tuple(w for k, w, _ in clause if k == "a*")
        subjects = [(w, st) for k, w, st in clause if k == "s"]
        if subjects:
            last = []
            for w, st in subjects:
                last.append(len(findings))
                findings.append(Finding(w, descs, anats, st))
        elif descs or own:
            anats = own
            if not last:
                raise MarkupError(f"modifier without a finding in {markup!r}")
            for i in last:
                f = findings[i]
                findings[i] = Finding(f.subject, f.descriptors + descs, f.anatomy + anats, f.status)
    return pieces, findings
