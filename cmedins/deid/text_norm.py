"""Views of a text for detection: full width folded to ASCII, traditional characters simplified, invisible
characters and letter spacing taken out.

Detectors run on the folded text so that ＋８６ １３８… and 1３8… match the same patterns as ASCII, while spans stay in
the coordinates of the original text (one character in, one character out). Invisible format characters (a
zero-width space inside 138​0013​8000) cannot be folded one-for-one, so detection runs on a view without them and
its spans are mapped back to the original text, where the replacement then takes the invisible characters too. The
same view closes the padding space of a name written `庞　丽` and reports it as a name (`padded_names`).
The build normalises text at ingest already; this covers every other caller of the library and the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from cmedins.deid.spans import Span

if TYPE_CHECKING:  # (lexicon imports this module's neighbours: imported late where it is used)
    from cmedins.deid.lexicon import Lexicon

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                        "\ufeff]")

_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_TABLE[0x3000] = 0x20  # ideographic space
_TABLE[0x2014] = ord("-")  # em dash used as a separator in numbers
_TABLE[0x2013] = ord("-")
_TABLE[0x2212] = ord("-")
_TABLE[0x00A0] = 0x20


# only the full-width digits and letters (１２８弄６号 → 128弄6号), for the place and institution detectors,
# whose patterns read full-width punctuation as it stands
_ALNUM_TABLE = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B)) for cp in range(*r)}

_CAPITAL = re.compile("[A-Z]")


def has_capital(text: str) -> bool:
    """An ASCII capital letter anywhere in `text`: the gate of the detectors of Latin-script names and addresses
    (a regex scan, many times faster than a Python loop over the characters)."""
    return _CAPITAL.search(text) is not None


def fold_alnum(text: str) -> str:
    """Full-width digits and Latin letters → ASCII, same length; punctuation and spaces as they are."""
    return text.translate(_ALNUM_TABLE)


def fold(text: str) -> str:
    """Full-width ASCII forms → ASCII, same length."""
    return text.translate(_TABLE)


@cache
def _t2s():  # noqa: ANN202 - opencc has no type stubs
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1024)
def simplified(text: str) -> str:
    """Traditional characters → simplified, same length (醫師：黃國雄 → 医师：黄国雄), so that the surname list,
    the word lists and jieba, all simplified, read notes from Hong Kong, Macau and Taiwan too. OpenCC converts by
    phrase; where a phrase changes length, character by character. Memoised: the detectors of one text each ask."""
    if text.isascii():
        return text
    out = _t2s().convert(text)
    if len(out) == len(text):
        return out
    return "".join(c if len(c := _t2s().convert(ch)) == 1 else ch for ch in text)


@dataclass(frozen=True)
class VisibleView:
    """`text` without invisible characters; `index[i]` is the original position of its character i; `padded` holds
    the view positions of the surnames whose padding space was closed (see `visible_view`)."""

    text: str
    index: tuple[int, ...] | None = None  # None: nothing was removed, positions are the original ones
    padded: tuple[int, ...] = ()

    def to_original(self, span: Span) -> Span:
        if self.index is None:
            return span
        return replace(span, start=self.index[span.start], end=self.index[span.end - 1] + 1)

    def padded_names(self) -> list[Span]:
        """A PERSON span (view coordinates) for each name padded with an ideographic space: the surname and the one
        given character after it. Padding a two-character name to the width of three is a form's way of writing a
        name; an ASCII space is closed for the other detectors but is no evidence by itself."""
        return [Span(i, i + 2, "PERSON", 0.75, "padded_name") for i in self.padded]


# One space between a surname and one or two Han characters (庞　丽, 韩 冬): a two-character name padded to the width
# of three in a form or signature line. Detection reads it without the space, so every name rule and the model see
# 庞丽; the replacement still covers the original span, space included.
_PADDING = re.compile("[　 ](?<=[一-鿿][　 ])(?=[一-鿿])")  # the space first: a fast scan for it
_HAN = re.compile("[一-鿿]")
# where a weak surname (左, 冷, 于: ordinary words too) may start a padded name: after a role or a field label
_SLOT_BEFORE = frozenset("者人员师生士属科床长班名签：:，,、（(") | {""}
_WORD = 50  # jieba dictionary frequency from which two characters make a word (正常　建议: 常建 is no name)


def _padding_closes(text: str, i: int) -> bool:
    """The space at text[i] pads a name: a surname before it, no word across either side of the name, and one Han
    character after it, or two ending the Han run (宁　书, 李　伟主任, 花　蕾，; not 正常　建议, 高　血压)."""
    import jieba

    from cmedins.deid.lexicon import lexicon

    lx = lexicon()
    sur, before = text[i - 1], text[i - 2:i - 1]
    if sur not in lx.surnames or (sur in lx.weak_surnames and before not in _SLOT_BEFORE and _HAN.match(before)) or \
            before.isdigit() or _ends_a_name(text, i - 1, lx):
        return False  # (1,280.00元　退费: an amount's unit, not a surname)
    run = 0
    while i + 1 + run < len(text) and run < 3 and _HAN.match(text[i + 1 + run]):
        run += 1
    if run == 1 and text[i + 1] in "男女":
        return False  # a sex field after the space (何田田　女), not a given name
    if text[i] == " " and (run > 2 or sur in lx.weak_surnames):
        return False  # an ASCII space separates words in much real text (第四章 肾小管): only 张 三 at a field's end
    jieba.initialize()  # the dictionary loads lazily: read before that, every pair would look like no word at all
    freq = jieba.dt.FREQ
    if (freq.get(before + sur) or 0) >= _WORD or (run >= 2 and (freq.get(text[i + 1:i + 3]) or 0) >= _WORD):
        return False
    return run >= 1


def _ends_a_name(text: str, i: int, lx: Lexicon) -> bool:
    """text[i] ends a three-character Han run that stands alone and starts with a surname: the last character of a
    full name (1. 吕布谷　男, 3. 何田田　女), not a surname padded to its given name."""
    s = i - 2
    return s >= 0 and all(_HAN.match(c) for c in text[s:i]) and (s == 0 or not _HAN.match(text[s - 1])) and \
        (text[s] in lx.surnames or text[s:s + 2] in lx.compound_surnames)


# Four or more single characters (Han, digits, Latin letters, a date's or number's separators) each set apart by
# one space: text letter-spaced by OCR or a PDF export (姓 名 ： 司 马 红 梅, 2 0 2 2 - 1 1 - 0 3). Read without the
# spaces, the name or number inside is one word again for every detector.
_SPACED_CHAR = "[一-鿿0-9A-Za-z\\-/:：.]"
_LETTER_SPACED = re.compile(f"(?<![一-鿿0-9A-Za-z]){_SPACED_CHAR}(?:[ 　]{_SPACED_CHAR}){{3,}}(?![一-鿿0-9A-Za-z])"
                            # and a field's value of three Han characters (签 名：王 晓 燕)
                            "|(?<=[:：])[一-鿿](?:[ 　][一-鿿]){2}(?![一-鿿0-9A-Za-z]|[ 　][一-鿿])")
# a part of every such run that starts with a space: found by a fast scan (a leading class), where the pattern above
# is tried at every position; only a text that has one is read with the full pattern
_SPACED_PART = re.compile(f"[ 　]{_SPACED_CHAR}[ 　]{_SPACED_CHAR}[ 　]|[:：][一-鿿][ 　][一-鿿][ 　]")


def visible_view(text: str) -> VisibleView:
    """The text without invisible characters, without the padding space inside a name (`_padding_closes`) and
    without the spaces of letter-spaced text (`_LETTER_SPACED`)."""
    drop = {m.start() for m in _INVISIBLE.finditer(text)}
    if _SPACED_PART.search(text):
        drop |= {i for m in _LETTER_SPACED.finditer(text) for i in range(m.start() + 1, m.end(), 2)}
    pads = [m.start() for m in _PADDING.finditer(text) if _padding_closes(text, m.start())] \
        if ("　" in text or " " in text) else []
    drop |= set(pads)
    if not drop:
        return VisibleView(text)
    keep = [i for i in range(len(text)) if i not in drop]
    where = {orig: view for view, orig in enumerate(keep)}
    named = tuple(where[p - 1] for p in pads if text[p] == "\u3000")  # an ideographic space: a form's padding
    return VisibleView("".join(text[i] for i in keep), tuple(keep), named)
