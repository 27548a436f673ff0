"""Person names from the learned NER model (`ner.py`), kept only where other evidence agrees it is a name.

The model finds names in running prose that no rule has evidence for (刘德明高血压病史十余年), but on real clinical
text it also tags drug brands, exam phrases and eponyms as persons (希罗达, 神志清, 黄染, 多普勒, GnRH). So a model
span is kept only when it reads as a Chinese personal name by the same standards the rules use: 2-4 Han characters
(5 with a compound surname) starting with a surname from the lexicon, not a protected medical word, not a common
dictionary word, not a masked name (张某) and not a role word. The vetoes come after the union with the rules, so
they never remove what a rule found.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import jieba

from cmedins.deid.lexicon import lexicon
from cmedins.deid.spans import Span

_NAME = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff·]{1,4}$")
_MAX_FREQ = 50  # jieba dictionary frequency above which a string is an ordinary word (高凝, 药敏, 神志清)


def _surname_len(value: str) -> int:
    lx = lexicon()
    for k in (4, 2):
        if value[:k] in lx.compound_surnames:
            return k
    return 1 if value[:1] in lx.surnames else 0


def plausible_name(value: str) -> bool:
    """Could `value` be a Chinese personal name, judged without the model (see the module docstring)."""
    if not _NAME.match(value) or "某" in value:
        return False
    n_sur = _surname_len(value)
    if not n_sur or len(value) - n_sur > 3 or len(value) - n_sur < 1:
        return False
    lx = lexicon()
    if value[:1] in lx.weak_surnames and n_sur == 1:
        return False  # 于, 向, 和: prepositions far more often than surnames in clinical prose
    if lx.starts_with_allowed(value) or lx.ends_with_allowed(value) or value in lx.allow:
        return False
    if (jieba.dt.FREQ.get(value) or 0) >= _MAX_FREQ:
        return False
    return not any((jieba.dt.FREQ.get(value[i:i + 2]) or 0) >= 2000 for i in range(n_sur, len(value) - 1))


# what follows a drug, not a person: a dose, a form, a regimen (艾恒200mg, 奥沙利铂(艾恒)150mg, 吉奥胶囊, 吉奥方案)
_DRUG_AFTER = re.compile(r"[）)]?\s*(?:[（(][^）)]{0,12}[）)])?\s*(?:\d|[+＋/]|片|粒|胶囊|注射|针|口服|静滴|静脉|"
                         r"方案|化疗|治疗|单抗|联合|序贯|维持|mg|g\b|ml|μg|ug|iu|U\b)", re.IGNORECASE)
_DRUG_BEFORE = ("予", "给予", "口服", "静滴", "联合", "加用", "改用", "换用", "停用", "服用", "使用", "应用", "+", "＋")
# what follows an eponym, not a person: 墨菲征, 帕金森病, 史密斯骨折, 库欣综合征, 巴宾斯基反射 (not 病情, 病房)
_EPONYM_AFTER = re.compile(r"征|氏|综合[征症]|试验|定律|现象|反射|效应|骨折|病(?![情房历人区床员例程])")
_NOT_GIVEN_POS = frozenset(("f", "m", "q", "p", "c", "u", "d", "r", "uj", "ul", "v", "vd", "vn", "ad"))


def _word_aligned(text: str, s: int, e: int) -> bool:
    """jieba (dictionary only) puts word boundaries at both ends of text[s:e]: the model's span does not cut a word
    (疗程|化疗 -> 程化疗, 其余|因 -> 余因, 周淋巴|结)."""
    lo, hi = max(0, s - 4), min(len(text), e + 4)
    cuts, pos = set(), lo
    for tok in jieba.lcut(text[lo:hi], HMM=False):
        cuts.add(pos)
        pos += len(tok)
    cuts.add(pos)
    # inside the span the model may join jieba's pieces (a name jieba does not know); only the ends must align
    return s in cuts and e in cuts


def _glued_before(text: str, s: int) -> bool:
    """The character before the span and its first character make a common word: the model cut an anatomical or
    clinical word in two (胃窦|小弯 -> 窦小, 下段|癌 -> 段癌, 上叶|条索 -> 叶条索)."""
    return s > 0 and (jieba.dt.FREQ.get(text[s - 1:s + 1]) or 0) >= 25


def _given_reads_as_word(value: str) -> bool:
    """The part after the surname is, for jieba, a function word, a direction, a number or a verb (程|后, 余|无,
    周|麻木): not a given name."""
    from jieba import posseg

    given = value[_surname_len(value):]
    pairs = list(posseg.cut(given, HMM=False))
    return len(pairs) == 1 and pairs[0].flag in _NOT_GIVEN_POS and (jieba.dt.FREQ.get(given) or 0) >= 50


def _drug_context(text: str, s: int, e: int) -> bool:
    """The span stands where drugs or eponyms stand: a dose, form or regimen right after it, a prescribing verb
    before it, or a sign, syndrome or fracture after it."""
    return _DRUG_AFTER.match(text, e) is not None or text[max(0, s - 2):s].endswith(_DRUG_BEFORE) or \
        _EPONYM_AFTER.match(text, e) is not None


def ner_person_spans(texts: Sequence[str], model_path: str | None = None) -> list[list[Span]]:
    """PERSON spans the model finds in each text that read as names (`plausible_name`), do not cut a word and do
    not stand where drugs stand; source `ner`."""
    from cmedins.deid.ner import load_model

    jieba.initialize()
    out: list[list[Span]] = []
    for text, spans in zip(texts, load_model(model_path).predict(list(texts)), strict=True):
        kept = [Span(s, e, "PERSON", 0.7, "ner") for s, e, label in spans
                if label == "PERSON" and plausible_name(text[s:e]) and _word_aligned(text, s, e)
                and not _drug_context(text, s, e) and not _glued_before(text, s)
                and not _given_reads_as_word(text[s:e])]
        out.append(kept)
    return out
