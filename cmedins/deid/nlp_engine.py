"""A presidio NLP engine over jieba, so presidio works on Chinese without spaCy models.

presidio's context enhancement compares recognizer context words with the lemmas around a match; with the
NoOp engine there are no lemmas and context never boosts a score. This engine fills tokens, their character
offsets and lemmas (a Chinese word is its own lemma) from jieba, and keeps jieba's part-of-speech tags
(`nr` person, `ns` place, `nt` organisation) on the artifacts for the tag-based recognizer.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator
from typing import Any

import jieba
import jieba.posseg as pseg
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

jieba.setLogLevel(60)

_STOPWORDS = frozenset(
    "的 了 和 与 及 或 在 于 是 为 有 无 也 都 而 并 其 该 此 之 "
    "以 因 由 从 向 对 把 被 将 就 等 着 过 个".split()
)
_PUNCT = frozenset(string.punctuation + "，。、；：？！“”‘’（）《》【】—…·　 \t\n\r")


class JiebaArtifacts(NlpArtifacts):
    """NlpArtifacts plus jieba's POS tags, one per token."""

    def __init__(self, tokens: list[str], indices: list[int], tags: list[str], engine: NlpEngine, language: str):
        super().__init__(entities=[], tokens=tokens, tokens_indices=indices, lemmas=list(tokens), nlp_engine=engine,
                         language=language)
        self.pos_tags = tags

    def to_json(self) -> str:  # presidio logs this in decision-process mode; keep raw text out of it
        return "{}"


class JiebaNlpEngine(NlpEngine):
    """Tokens, offsets, lemmas and POS tags from jieba (posseg); no model download, deterministic."""

    engine_name = "jieba"
    is_available = True

    def __init__(self, language: str = "zh", pos: bool = True):
        self.language = language
        self.pos = pos
        self._loaded = False

    def load(self) -> None:
        jieba.initialize()
        self._loaded = True

    def is_loaded(self) -> bool:
        return self._loaded

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        if not self._loaded:
            self.load()
        tokens: list[str] = []
        tags: list[str] = []
        if self.pos:
            for word, flag in pseg.lcut(text):
                tokens.append(word)
                tags.append(flag)
        else:
            tokens = jieba.lcut(text)
            tags = [""] * len(tokens)
        indices: list[int] = []
        pos = 0
        for tok in tokens:
            indices.append(pos)
            pos += len(tok)
        return JiebaArtifacts(tokens, indices, tags, self, language)

    def process_batch(self, texts: Iterable[str | tuple[str, Any]], language: str, batch_size: int = 1,
                      n_process: int = 1, as_tuples: bool = False, **kwargs: Any) -> Iterator[Any]:
        for item in texts:
            if as_tuples:
                text, ctx = item  # type: ignore[misc]
                yield text, self.process_text(text, language), ctx
            else:
                yield item, self.process_text(item, language)  # type: ignore[arg-type]

    def is_stopword(self, word: str, language: str) -> bool:
        return word in _STOPWORDS

    def is_punct(self, word: str, language: str) -> bool:
        return bool(word) and all(c in _PUNCT for c in word)

    def get_supported_entities(self) -> list[str]:
        return ["PERSON", "LOCATION", "ORGANIZATION"]

    def get_supported_languages(self) -> list[str]:
        return [self.language]
