"""Person names from the learned NER model (`ner.py`), kept only where other evidence agrees it is a name.

The model finds names in running prose that no rule has evidence for (刘德明高血压病史十余年), but on real clinical
text it also tags drug brands, exam phrases and eponyms as persons (希罗达, 神志清, 黄染, 多普勒, GnRH). So a model
span is first repaired (`_repair`, `_variants`: cut at line breaks, stretched across an interpunct, a kinship word
dropped) and then kept only when it reads as a personal name (`plausible_name`): a surname from the lexicon and a
given name of one or two characters that names use (`given_char_score`, from jieba's own dictionary), or a
nickname (老王), or a minority people's name (次仁…, 阿依古丽·吐尔逊); not a protected medical word, not a common
dictionary word, not a masked name (张某), not where drugs, doses and eponyms stand. The vetoes apply to the
model's spans only, so they never remove what a rule found. Measured on hand-written sets and five real public
clinical sources: benchmarks/deid_independent.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache

import jieba

from cmedins.deid.lexicon import lexicon, person_words
from cmedins.deid.spans import Span
from cmedins.deid.text_norm import simplified

_NAME = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff·]{1,4}$")
_DOTS = "·•・‧"  # the interpunct of transliterated names, as exports write it
_INTERPUNCT_NAME = re.compile(rf"^[\u4e00-\u9fff]{{1,8}}(?:[{_DOTS}][\u4e00-\u9fff]{{1,8}})+$")  # 阿依古丽·吐尔逊
_PADDING = re.compile("(?<=^[\u4e00-\u9fff])[ \u3000](?=[\u4e00-\u9fff]{1,2}$)")  # 李　伟: one space inside
_HAN = re.compile("[\u4e00-\u9fff]")
_MAX_FREQ = 50  # jieba dictionary frequency above which a string is an ordinary word (高凝, 药敏, 神志清)
_NICKNAME_PREFIXES = "老小阿大"  # 老王, 小刘, 阿强, 大刘: how colleagues, neighbours and chats name people
_MIN_GIVEN_SCORE = -2.5  # below this a given-name character is a word's, not a name's (see given_char_score)
_MIN_WEAK_GIVEN_SCORE = 1.2  # after a weak surname (冷, 左, 宫) the given name must be name-typical on average
_NEVER_IN_NAMES = -5.0  # the score of a common character no dictionary name holds (疗, 癌)
_COMMON_WORD_CHAR = 5000  # summed dictionary frequency of the words holding a character that makes it common


def _surname_len(value: str) -> int:
    lx = lexicon()
    for k in (4, 2):
        if value[:k] in lx.compound_surnames:
            return k
    return 1 if value[:1] in lx.surnames else 0


@cache
def _given_char_table() -> tuple[dict[str, float], float]:
    """log P(char | given names) - log P(char | dictionary words), from jieba's own dictionary: its `nr` entries
    of a surname plus one or two characters are the names, every other entry (weighted by frequency) the words.
    Why: it tells 冷雪峰 (雪, 峰 common in names) from 程化疗 or 周疗 (疗 almost never in a name) without a list."""
    import os

    lx = lexicon()
    given: Counter[str] = Counter()
    words: Counter[str] = Counter()
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            w, freq, tag = parts[0], int(parts[1]), parts[2]
            if tag == "nr" and len(w) in (2, 3) and w[0] in lx.surnames:
                given.update(w[1:])
            else:
                for ch in w:
                    words[ch] += freq
    n_given, n_words = sum(given.values()), sum(words.values())
    table = {ch: math.log(given[ch] / n_given) - math.log((words[ch] + 50) / n_words) for ch in given}
    # a character no dictionary name holds: common in words (疗, 癌, 部) it is no given name; rare, we cannot tell
    # (modern given names use characters the dictionary's names lack: 彤, 萱, 犇)
    table.update({ch: _NEVER_IN_NAMES for ch, n in words.items() if ch not in given and n >= _COMMON_WORD_CHAR})
    return table, 0.0


def given_char_score(ch: str) -> float:
    """How much more typical `ch` is of given names than of ordinary words (log ratio; see `_given_char_table`)."""
    table, unseen = _given_char_table()
    return table.get(ch, unseen)


def _minority_name(value: str) -> bool:
    """A minority people's name: written with an interpunct, or starting with a known name part (次仁央宗)."""
    lx = lexicon()
    if _INTERPUNCT_NAME.match(value):
        return not any(lx.starts_with_allowed(part) for part in re.split(f"[{_DOTS}]", value))
    return 2 <= len(value) <= 6 and value.startswith(lx.minority_name_parts) and not lx.starts_with_allowed(value)


def _nickname(value: str) -> bool:
    """老王, 小刘, 大刘 (a prefix and a surname), 阿强 (阿 and a given-name character); no dictionary word (小时,
    阿姨, 大黄)."""
    if len(value) != 2 or value[0] not in _NICKNAME_PREFIXES:
        return False
    lx = lexicon()
    freq = jieba.dt.FREQ.get(value) or 0
    if value[0] == "阿":
        return freq < _MAX_FREQ and given_char_score(value[1]) >= 1.5
    # 老王 is in the dictionary (190) as a nickname; 老师, 小麦 are words far more often than names
    return freq < 1000 and value[1] in lx.surnames and value[1] not in lx.weak_surnames


def plausible_name(value: str) -> bool:
    """Could `value` be a personal name, judged without the model (see the module docstring)."""
    value = _PADDING.sub("", value)  # 李　伟 padded to the width of three
    if _minority_name(value) or _nickname(value):
        return True
    if not _NAME.match(value) or "某" in value or any(d in value for d in _DOTS):
        return False
    n_sur = _surname_len(value)
    n_given = len(value) - n_sur
    if not n_sur or not 1 <= n_given <= 2:
        return False  # a single surname with a three-character given name reads as a drug (伊马替尼) far more often
    lx = lexicon()
    if lx.starts_with_allowed(value) or lx.ends_with_allowed(value) or value in lx.allow or "氏" in value or \
            any(ch in _CHEMICAL for ch in value):
        return False
    if (jieba.dt.FREQ.get(value) or 0) >= _MAX_FREQ:
        return False
    scores = [given_char_score(ch) for ch in value[n_sur:]]
    if n_sur == 1 and value[0] in lx.weak_surnames:
        # 于, 向, 和: prepositions far more often than surnames; only a name no dictionary knows, name-like throughout
        return not jieba.dt.FREQ.get(value) and sum(scores) / len(scores) >= _MIN_WEAK_GIVEN_SCORE and \
            min(scores) >= -1.0
    if min(scores) < _MIN_GIVEN_SCORE:
        return False  # 程化疗, 周疗, 段癌: a character names almost never hold
    # 建国, 文明: common words that jieba knows as names or places, and given names
    return not any((jieba.dt.FREQ.get(w) or 0) >= 2000 and not _word_tag(w).startswith(("nr", "ns"))
                   for i in range(n_sur, len(value) - 1) for w in (value[i:i + 2],))


def _word_tag(word: str) -> str:
    """jieba's part-of-speech tag of a dictionary word ("" when it has none). The tagger loads on first use."""
    from jieba import posseg

    return posseg.dt.word_tag_tab.get(word, "")


# what follows a drug, not a person: a dose, a form, a regimen (艾恒200mg, 奥沙利铂(艾恒)150毫克, 吉奥胶囊, 吉奥方案);
# a dose has a unit, so an age or a phone after a name is no dose
_DOSE = r"\d+(?:\.\d+)?\s*(?:mg|g\b|ml|μg|ug|iu|u\b|毫克|微克|毫升|克|单位|万|片|粒|支|袋|丸|滴|喷|揿)"
_DRUG_AFTER = re.compile(r"[）)]?\s*(?:[（(][^）)]{0,12}[）)])?\s*(?:" + _DOSE + r"|[+＋/]|片|粒|胶囊|注射|针|口服|"
                         r"静滴|静脉|方案|化疗|治疗|单抗|联合|序贯|维持|mg|g\b|ml|μg|ug|iu|U\b)", re.IGNORECASE)
_DRUG_BEFORE = ("予", "给予", "口服", "静滴", "联合", "加用", "改用", "换用", "停用", "服用", "使用", "应用", "+", "＋")
# what follows an eponym, not a person: 墨菲征, 帕金森病, 史密斯骨折, 库欣综合征, 巴宾斯基反射 (not 病情, 病房)
EPONYM_AFTER = re.compile(r"征|氏|综合[征症]|试验|定律|现象|反射|效应|骨折|杂音|分期|评分|手术"
                           r"|病(?![情房历人区床员例程])"
                           r"|[-－][\u4e00-\u9fff]")  # 霍恩-雅尔分期, 冯·希佩尔-林道病: a hyphenated eponym
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
    """The character before the span and its first character make a common or protected word: the model cut an
    anatomical or clinical word in two (胃窦|小弯 -> 窦小, 下段|癌 -> 段癌, 上叶|条索 -> 叶条索), or a count
    (2程新辅助化疗: the second cycle)."""
    if s == 0:
        return False
    pair = text[s - 1:s + 1]
    return (jieba.dt.FREQ.get(pair) or 0) >= 25 or pair in lexicon().allow or \
        (text[s - 1].isdigit() and text[s] in _COUNTED)


_COUNTED = frozenset("程周次天年月日期疗")  # after a digit: a cycle, a week, a dose count, not a surname
# characters of chemistry and drug transliteration that no Han given name holds (他罗利姆 is neither 罗 nor a name)
_CHEMICAL = frozenset("汀坦唑酮嗪啶吖喹啉氟氯溴碘胺酯醇苷肽霉嘧吡咪噻伐昔哌羟烷烯酚铂铵钠钾钙镁锌铁")


def _given_reads_as_word(value: str) -> bool:
    """The part after the surname is, for jieba, a function word, a direction, a number or a verb (程|后, 余|无,
    周|麻木): not a given name."""
    from jieba import posseg

    given = value[_surname_len(value):]
    pairs = list(posseg.cut(given, HMM=False))
    return len(pairs) == 1 and pairs[0].flag in _NOT_GIVEN_POS and (jieba.dt.FREQ.get(given) or 0) >= 50


_CONFER = ("授予", "赋予", "准予", "免予", "不予", "特予")  # 予 that confers a title, not a drug (授予梁国华…称号)
_ENUM_SEP = re.compile(r"[、/]|和|或|及")  # separators of a list's items (a comma also separates clauses)
_COMMA = re.compile("[，,]")
_ITEM = re.compile(r"[\u4e00-\u9fff]{2,8}")
_ITEM_AROUND = 8  # characters of the list item before the span read
_LAST_ITEM = re.compile(r"[\u4e00-\u9fff]{2,8}$")


def _drug_list(text: str, s: int, e: int) -> bool:
    """The span is an item of a list whose neighbour is a drug or another protected medical word (“洛赛克、施维舒”,
    米帕明、帕罗西汀; after a comma only a whole protected word: 达喜，马丁灵): a list of drugs, not of people."""
    lx = lexicon()
    for m in (_ENUM_SEP.match(text, e), _COMMA.match(text, e)):
        if m is not None:
            nxt = _ITEM.match(text, m.end() + (text[m.end():m.end() + 1] in "“\"'"))
            if nxt is not None and (lx.starts_with_allowed(nxt.group()) if m.group() not in "，," else
                                    any(nxt.group()[:k] in lx.allow for k in lx.allow_lengths)):
                return True
    k = s - (text[s - 1:s] in "”\"'")
    sep = text[k - 1:k]
    if sep and (_ENUM_SEP.fullmatch(sep) or sep in "，,"):
        prev = _LAST_ITEM.search(text[max(0, k - 1 - _ITEM_AROUND):k - 1].rstrip("”\"'"))
        if prev is not None and (lx.ends_with_allowed(prev.group()) if sep not in "，," else prev.group() in lx.allow):
            return True
    return False


def _drug_context(text: str, s: int, e: int) -> bool:
    """The span stands where drugs or eponyms stand: a dose, form or regimen right after it, a prescribing verb
    before it, a sign, syndrome or fracture after it, or a drug beside it in a list. A slash before another name
    (a pair of players) and 授予 (conferring an honour) are not a drug's."""
    before = text[max(0, s - 2):s]
    after = _DRUG_AFTER.match(text, e)
    if after is not None and text[e:e + 1] == "/" and \
            any(plausible_name(text[e + 1:e + 1 + k]) for k in (2, 3)):
        after = None  # 周启航/陈曦月组合: a pair of players
    return after is not None or (before.endswith(_DRUG_BEFORE) and not before.endswith(_CONFER)) or \
        EPONYM_AFTER.match(text, e) is not None or _drug_list(text, s, e)


def _accept(text: str, s: int, e: int) -> bool:
    value = text[s:e]
    if _nickname(value):  # 老王: not one jieba word, so the word-boundary checks do not apply
        return not _inside_allowed(text, s, e) and not _glued_before(text, s)
    if _minority_name(value):
        return not _inside_allowed(text, s, e) and EPONYM_AFTER.match(text, e) is None and \
            EPONYM_AFTER.fullmatch(value[-1]) is None and text[s - 1:s] not in ("-", "－")
    return plausible_name(value) and not _inside_allowed(text, s, e) and _word_aligned(text, s, e) and \
        text[s - 1:s] not in ("-", "－") and \
        not _drug_context(text, s, e) and not _glued_before(text, s) and not _given_reads_as_word(value)


_CONTEXT_MAX_FREQ = 1000  # a model span in a person's context may be a dictionary word (黎明, 小雨), not a common one
_CONTEXT_MIN_WORD_FREQ = 20  # a whole span this frequent as a word that is no name (nr) or place (ns) is that word
_LABEL_GAP = " \t\u3000:："  # between a role word and the name: 核对：明珊, 护士　代娟


@cache
def _title_after() -> re.Pattern[str]:
    """What follows a person's name: a title or a greeting (黎明医生, 黎明叔叔, 冷静您好)."""
    titles = [t for t in lexicon().titles if "某" not in t] + ["您好", "你好"]
    return re.compile("|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True)))


_DEMOGRAPHIC = re.compile(r"[ \t\u3000]*[，,（(][ \t\u3000]*[男女](?:性)?[，,、 ]")  # 于　淼，女，34岁
_SAYS_AFTER = re.compile(r"自?诉|述|称|表示|说")  # 嘉怡诉疼痛, 杜邦表示: what a person says
# the span fills a short field's value (记录：木兰　, 发血：冉冉⏎): a form's field holds a person's name
_FIELD_BEFORE = re.compile(r"(?:^|[\s|｜])[\u4e00-\u9fff]{1,5}[:：][ \t\u3000]*$")
_FIELD_END = re.compile(r"[ \t\u3000]|\n|$")
# words that make a person of what precedes them: 小宇（化名）, 邢立新夫妇, 杜邦一行, 萨沙的祖父
_GROUP_AFTER = ("（化名）", "(化名)", "夫妇", "夫妻", "一家", "一行", "等人", "母子", "母女", "父子", "父女")


@cache
def _person_after() -> re.Pattern[str]:
    """What follows a person's name and says so: a pseudonym mark, a couple or party (夫妇, 一行), or 的 and a
    kinship word (萨沙的祖父, 宇航的妈妈)."""
    kin = sorted(lexicon().names.kinship, key=len, reverse=True)
    return re.compile("|".join([*map(re.escape, _GROUP_AFTER), "的(?:" + "|".join(map(re.escape, kin)) + ")"]))


def _person_context(text: str, s: int, e: int) -> bool:
    """The words around the model's span say a person stands there: a role, label or kinship word before it
    (翻译娜塔莎, 核对：明珊, 妻子库兰), a title or greeting after it (黎明医生), sex and age after it, a verb of
    saying after it (嘉怡诉), a party or kin after it (小宇（化名）, 萨沙的祖父), it opens a line as a chat's or
    interview's speaker (小雯：我来), or it is the whole value of a short field (记录：木兰　审核：…)."""
    before = text[max(0, s - 8):s].rstrip(_LABEL_GAP)
    return before.endswith(person_words()) or _title_after().match(text, e) is not None or \
        _DEMOGRAPHIC.match(text, e) is not None or _SAYS_AFTER.match(text, e) is not None or \
        _person_after().match(text, e) is not None or (text[s - 1:s] in ("", "\n") and text[e:e + 1] in ("：", ":")) \
        or (_FIELD_BEFORE.search(text, max(0, s - 8), s) is not None and _FIELD_END.match(text, e) is not None)


def _accept_in_context(text: str, s: int, e: int) -> bool:
    """A model span in a person's context (`_person_context`) that fails `plausible_name` (a given name alone,
    a nickname, a rare surname, a four-character name 陈林淑芬) is kept unless it is a common word, a protected
    medical word, a masked name or stands where drugs and eponyms stand: the context is the evidence the name
    itself lacks."""
    value = _PADDING.sub("", text[s:e])
    lx = lexicon()
    if not 2 <= len(value) <= 5 or not all(_HAN.match(ch) for ch in value) or "某" in value:
        return False
    if value in lx.allow or lx.starts_with_allowed(value) or lx.ends_with_allowed(value) or \
            any(ch in _CHEMICAL for ch in value) or ((jieba.dt.FREQ.get(value) or 0) >= _CONTEXT_MAX_FREQ and
                                                     not _known_name(value)):
        return False
    return not (_holds_word(value) and not _pet_name_after_person(text, s, value)) and \
        not _inside_allowed(text, s, e) and not _drug_context(text, s, e) and text[s - 1:s] not in ("-", "－")


PET_NAME_MAX_FREQ = 200  # 小雪, 小叶 as words are rarer than this; 小心, 小孩, 小儿 are commoner
_NOT_PET_TAGS = ("v", "d", "a", "p", "c", "u", "r", "m", "f")


def _pet_name_after_person(text: str, s: int, value: str) -> bool:
    """A pet name (小 or 阿 + one character, or a doubled character) right after a person word (护士小雪,
    护士朵朵): a word (a solar term, a nickname that is a noun) is the name there, unless it is a common word or a
    verb, adverb or adjective (护士小心: 小心 is too common)."""
    if len(value) != 2 or not (value[0] in "小阿" or value[0] == value[1]):
        return False
    if not text.endswith(person_words(), 0, s) or (jieba.dt.FREQ.get(value) or 0) >= PET_NAME_MAX_FREQ:
        return False
    return not _word_tag(value).startswith(_NOT_PET_TAGS)


def _known_name(value: str) -> bool:
    """jieba's dictionary tags `value` as a person's name (白雪, 宁静: words that are names as often)."""
    return _word_tag(value).startswith("nr")


def _holds_word(value: str) -> bool:
    """Some two or three characters of `value` are a dictionary word that is not a name (神志 of 神志清 after 患者):
    the model took a phrase, not a name. A name the dictionary knows (黎明, 小雨: tagged nr) does not count."""
    if (jieba.dt.FREQ.get(value) or 0) >= _CONTEXT_MIN_WORD_FREQ and not _word_tag(value).startswith(("nr", "ns")):
        return True  # 轮班 after 陪护: the whole span is a word that is neither a name nor a place
    return any((jieba.dt.FREQ.get(w) or 0) >= _MAX_FREQ and not _word_tag(w).startswith("nr")
               for k in (2, 3) for i in range(len(value) - k + 1) for w in (value[i:i + k],))


def _inside_allowed(text: str, s: int, e: int) -> bool:
    """A protected word covers the span: 高敏 in 高敏肌钙蛋白, 吉奥 in 吉奥胶囊, 莫昔芬 in 他莫昔芬."""
    lx = lexicon()
    return any(text[p:p + k] in lx.allow for p in range(max(0, s - 6), s + 1) for k in lx.allow_lengths
               if p + k >= e)


def _trim_role_prefix(text: str, s: int, e: int) -> int:
    """Start of the name inside a model span that begins with a kinship or role word (次子戈卫东, 其弟扎西·多吉):
    the model often takes the word that introduces a name as part of it."""
    value = text[s:e]
    for word in _kin_words():
        if value.startswith(word) and e - s - len(word) >= 2:
            return s + len(word)
    return s


@cache
def _kin_words() -> tuple[str, ...]:
    lx = lexicon()
    return tuple(sorted(lx.names.kinship | lx.names.care_roles, key=len, reverse=True))


_MAX_NAME_PART = 8  # characters of one part of a transliterated name (阿卜杜热合曼)
_KIN_CHARS = frozenset("父母子女妻夫兄弟姐妹孙侄儿")  # 孙旦增尼玛: 之孙 + the name
_TAIL_CHARS = frozenset("代婶叔姨伯嫂哥姐爷奶")  # 帕提古丽•艾则孜代诉, 秀英婶
_WHITESPACE = re.compile(r"\s")


def _repair(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """The model's span, cut and stretched to the name it marks: cut at line breaks and spaces (the model tags
    across the lines of a roster: 孔繁华⏎调班), stretched across an interpunct (哈斯木 -> 哈斯木·依明) and from a lone
    surname to the given name after it (卢 -> 卢家宝 before a space or punctuation)."""
    parts, pos = [], s
    for m in _WHITESPACE.finditer(text, s, e):
        if m.start() > pos and text[m.start()] == "\u3000" and _PADDING.search(text[pos:e]):
            continue  # 李　伟: the padding inside a name
        if m.start() > pos:
            parts.append((pos, m.start()))
        pos = m.end()  # (a span may start with the line break before a speaker's name: ⏎小雯：)
    parts.append((pos, e))
    out = []
    for a, b in parts:
        while b < len(text) - 1 and text[b] in _DOTS and _HAN.match(text[b + 1]):
            b += 1
            dot = b
            while b < len(text) and _HAN.match(text[b]) and b - dot < _MAX_NAME_PART and \
                    (b == dot or text[b] not in _CLOSES_NAME):
                b += 1  # 亚历山大·彼得罗夫|是在: the part ends where a name's closing word starts
        while a > 1 and text[a - 1] in _DOTS and _HAN.match(text[a - 2]):
            a -= 1
            while a > 0 and _HAN.match(text[a - 1]):
                a -= 1
        if b - a == 1 and _surname_len(text[a]) and not _HAN.match(text[a - 1:a] or " "):
            run = b
            while run < len(text) and run - a < 3 and _HAN.match(text[run]):
                run += 1
            if run - a >= 2 and (run == len(text) or not _HAN.match(text[run])):
                b = run  # 5/14 卢家宝 住院号: the model took the surname alone
        out.append((a, b))
    return [(a, b) for a, b in out if b > a]


_CLOSES_NAME = frozenset("，,。；;、：:（()）)!?！？ \t\u3000\n系于称诉是为的") | {""}  # what may follow a name


def _variants(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """The span; one character longer when the model stopped a character short of a name's end (狄青|山系患者之兄,
    次仁旺|堆，, 邢立|新夫妇); with the surname the model left off (和|光耀查房, 时|佳怡, 上官|晓婉); then without
    a kinship character before it or a kinship tail after it (孙旦增尼玛, 秀英婶)."""
    out = []
    if e - s >= 2 and e < len(text) and _HAN.match(text[e]) and text[e] not in _CLOSES_NAME and \
            (text[e + 1:e + 2] in _CLOSES_NAME or _person_after().match(text, e + 1)) and \
            (_surname_len(text[s:e]) or _minority_name(text[s:e + 1])):
        out.append((s, e + 1))  # (邢立|新夫妇)
    out.append((s, e))
    if e - s == 2 and s > 1 and _surname_len(text[s - 2:e]) == 2:
        out.append((s - 2, e))  # 上官|晓婉: a compound surname left off
    if e - s == 2 and s > 0 and not _surname_len(text[s:e]) and _surname_len(text[s - 1]):
        out.append((s - 1, e))
    if e - s >= 3 and text[s] in _KIN_CHARS:
        out.append((s + 1, e))
    if e - s >= 3 and text[e - 1] in _TAIL_CHARS:
        out.append((s, e - 1))
    return out


# a word of a name in Latin script: Maria, O'Connell, Krüger, Hans-Peter, Ji-won
_LATIN_WORD = r"[A-Z][a-zà-ÿ]*(?:['’][A-Z]?[a-zà-ÿ]+)?(?:-[A-Za-zà-ÿ][a-zà-ÿ]+)*"
_LATIN_SPAN = re.compile(rf"{_LATIN_WORD}(?: {_LATIN_WORD})*")
_LATIN_BEFORE = re.compile(rf"(?:{_LATIN_WORD}[ -])+$")
_TITLE_AFTER = re.compile(r"\s*(?:教授|医生|医师|大夫|主任|博士|先生|女士|小姐)")
# words of an institution's name, not a person's (Australian Department of Health)
_ORG_WORDS = frozenset(("Department", "Hospital", "University", "Institute", "Center", "Centre", "College", "School",
                        "Society", "Association", "Ministry", "Health", "Clinic", "Foundation", "Council", "Group",
                        "Organization", "Organisation", "Press", "Journal", "National", "International"))


def _latin_name(text: str, s: int, e: int) -> tuple[int, int] | None:
    """A name in Latin script from the model's span, which often holds only one of its words (Maria of Maria
    Fernanda Oliveira, Krüger of Hans-Peter Krüger): stretched over the capitalised words around it, and kept when
    it has two words or more, or one before a title (Krüger教授), after a kinship word (我老公Jason) or opening a
    line as a speaker (Tony：), and no eponym's tail (John Cunningham 病毒) or institution's word (Department of
    Health)."""
    before = _LATIN_BEFORE.search(text, max(0, s - 60), s)
    a = before.start() if before else s
    m = _LATIN_SPAN.match(text, a)
    if m is None or m.end() < e:
        return None
    b = m.end()
    value = text[a:b]
    if a > 0 and text[a - 1].isascii() and text[a - 1].isalnum():
        return None  # glued to a longer Latin token
    words = value.replace("-", " ").split()
    lx = lexicon()
    if any(w in lx.allow or w.lower() in lx.english_terms or w in _ORG_WORDS for w in words) or \
            text.startswith(" of ", b) or \
            EPONYM_AFTER.match(text, b + (text[b:b + 1] == " ")) is not None:
        return None
    kin_before = text[max(0, a - 4):a].endswith(tuple(lexicon().names.kinship))
    speaker = text[a - 1:a] in ("", "\n") and text[b:b + 1] in ("：", ":")
    return (a, b) if len(words) >= 2 or _TITLE_AFTER.match(text, b) or kin_before or speaker else None


def ner_person_spans(texts: Sequence[str], model_path: str | None = None) -> list[list[Span]]:
    """PERSON spans the model finds in each text that read as names (`plausible_name`), do not cut a word and do
    not stand where drugs stand; source `ner`."""
    from cmedins.deid.ner import load_model

    jieba.initialize()
    out: list[list[Span]] = []
    for text, spans in zip(texts, load_model(model_path).predict(list(texts)), strict=True):
        text = simplified(text)  # the checks read simplified word lists; positions stay the same
        kept = []
        for s0, e0, label in spans:
            if label != "PERSON":
                continue
            while s0 < e0 and text[s0].isspace():  # the model may take the line break before a speaker (⏎Tony：)
                s0 += 1
            if _LATIN_SPAN.fullmatch(text, s0, e0):
                latin = _latin_name(text, s0, e0)
                if latin is not None and all((k.start, k.end) != latin for k in kept):  # one per name
                    kept.append(Span(*latin, "PERSON", 0.7, "ner"))
                continue
            for a, b in _repair(text, _trim_role_prefix(text, s0, e0), e0):
                for s, e in _variants(text, a, b):
                    if _accept(text, s, e) or (_person_context(text, s, e) and _accept_in_context(text, s, e)):
                        kept.append(Span(s, e, "PERSON", 0.7, "ner"))
                        break
        out.append(kept)
    return out
