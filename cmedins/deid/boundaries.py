"""Where a place or institution name begins, decided by jieba's tagger.

Regexes find the end of a name reliably (…医院, …路88号) but not its start: the characters before 医院 may be
narrative (建议患者转上级医院, 因血糖控制不佳至某医院). jieba's POS tags tell words that can be part of a name
(nouns, place and organisation names, ordinals) from verbs, adverbs, prepositions and pronouns; the name is the
longest run of name-like words that ends at the suffix. Called only on candidate spans (an
unknown character is kept unless it is a preposition, particle or narrative verb) and cached, so it stays cheap.
"""

from __future__ import annotations

from cmedins.deid.postags import tags

_NAME_FLAGS = ("n", "ns", "nt", "nz", "nr", "nrt", "nrfg", "j", "eng", "x", "ng", "s", "b", "l", "an")
_BREAK_SINGLE = frozenset(("p", "c", "u", "d", "r", "uj", "ul", "f", "q"))
_NARRATIVE_CHARS = frozenset("入转去来回到住送行做查经返赴往至于在因后前及并")
_PLACE_FLAGS = frozenset(("ns", "nt", "nz"))
_DIRECTIONS = frozenset("东南西北中")
_NUMERAL = frozenset("第0123456789一二三四五六七八九十百零〇")
_NARRATIVE = frozenset(
    "患者 病人 建议 给予 予以 行 次 再次 于 在 至 到 往 从 经 因 后 前 时 并 及 和 与 又 遂 即".split()
)


def name_start(text: str, start: int, end: int) -> int:
    """Offset in `text` where the name inside text[start:end] begins (start <= result <= end).

    A word of two or more characters that jieba reads as a verb or an adjective still belongs to the name when a
    place or organisation name comes right before it (北京|安定医院, 青岛市|市立医院, 平江县|安定镇卫生院), or when it
    is the last word before the suffix and a name word comes before it (郑州|康宁|健康体检中心); and a direction word
    of two characters is a name word (南方医科大学)."""
    pos = start
    begin = start
    prev_flag = ""
    for word, flag in tags(text[start:end]):
        keep = flag in _NAME_FLAGS or (flag == "m" and all(c in _NUMERAL for c in word)) or (
            len(word) == 1 and flag not in _BREAK_SINGLE and word not in _NARRATIVE_CHARS)  # 爱/v in 爱尔眼科
        if not keep and len(word) >= 2 and (prev_flag in _PLACE_FLAGS and flag not in _BREAK_SINGLE
                                           or all(c in _DIRECTIONS for c in word)
                                           or (prev_flag and flag in ("a", "v") and pos + len(word) == end - start)):
            keep = True
        if not keep or word in _NARRATIVE:
            begin = pos + len(word)
        pos += len(word)
        prev_flag = flag if keep else ""
    return min(begin, end)
