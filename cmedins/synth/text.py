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


@dataclass(frozen=True)
class Span:
    field: str
    start: int
    end: int
    tag: str
    text: str


def render_spans(section: Section) -> tuple[str, list[Span]]:
    """The section text and the span of every tagged piece in it (identifiers, medical terms, event words)."""
    out: list[str] = []
    spans: list[Span] = []
    pos = 0
    for i, sent in enumerate(section.sentences):
        if i and section.sep:
            out.append(section.sep)
            pos += len(section.sep)
        for text, tag in sent.pieces:
            n = len(text)
            if tag is not None and tag != "Ed" and n:
                spans.append(Span(section.name, pos, pos + n, tag, text))
            out.append(text)
            pos += n
    return "".join(out), spans


_MARK = re.compile(r"\{([sdam]):([^{}]*)\}")


def parse_markup(markup: str) -> tuple[list[Piece], dict[str, list[str]]]:
    """Parse the vocabulary's tiny markup: `{s:主体词}`, `{d:描述词}`, `{a:部位}`, `{m:kind:term}`.

    Returns the pieces and the event words found (keys s, d, a). Writing findings as markup keeps the vocabulary
    readable while letting the generator know exactly which words an event's fields point at.
    """
    pieces: list[Piece] = []
    words: dict[str, list[str]] = {"s": [], "d": [], "a": []}
    pos = 0
    for m in _MARK.finditer(markup):
        if m.start() > pos:
            pieces.append((markup[pos : m.start()], None))
        kind, body = m.group(1), m.group(2)
        if kind == "m":
            mk, _, term = body.partition(":")
            pieces.append((term, "M:" + mk))
        else:
            pieces.append((body, "E" + kind))
            words[kind].append(body)
        pos = m.end()
    if pos < len(markup):
        pieces.append((markup[pos:], None))
    return pieces, words
