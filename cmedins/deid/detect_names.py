"""Person names: patients, relatives, doctors.

A surname list alone would redact 白芍, 高血压 and 史密斯骨折, so a name needs evidence besides its surname:
  * a title or 某 after the surname (张先生, 李某某, 王主任), checked against jieba's word boundaries (值班医生 is
    not 班医生);
  * a label before it (姓名：, 医师签名：, 患者, 其父, 家属); after a form label (with a colon) any 2-4 characters
    are taken even with no surname-list hit, after a loose label (患者, 其母) the candidate must begin with a surname
    and jieba must not read it as an ordinary word (患者陈述, 患者高热);
  * a demographic tail (张三，男，45岁 / 张三（女，30岁）), the classic opening of a Chinese note, surname or not;
  * a place in a sentence that only a person fills: a relative before a status (父张志强已故), an escort (由其子
    张国强陪同), someone's clinic (挂王行涛门诊), a name opening a clause (张三诉头痛).
Candidates that are, or start with, a protected medical word (allow_list.txt) are dropped.

Each kind of evidence is one rule: a small function below, run in the order of `RULES` by `detect_names`; every
span's `source` is the name of the rule that found it. The word and character lists the rules read are data
(`data/name_*.txt`, loaded by `lexicon()`), each file saying what it is for, so a clinician can review them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import NamedTuple

import jieba

from cmedins.deid.detect_lists import given_name_alone, sibling_name
from cmedins.deid.detect_ner import EPONYM_AFTER, _word_tag, given_char_score, plausible_name
from cmedins.deid.lexicon import lexicon, person_words, starts
from cmedins.deid.postags import tags
from cmedins.deid.spans import Span
from cmedins.deid.text_norm import has_capital

jieba.setLogLevel(60)

_LX = lexicon()
_W = _LX.names  # the lists of data/name_*.txt
HAN = "\u4e00-\u9fff"
# characters that end a name: function words and clinical verbs that typically follow one
_STOP = _W.stop_chars
# kinship words: what follows them is very often a name (配偶许纨, 外甥闫善言)
_KIN = _W.kinship
_PLACE_AFTER_MOU = _W.place_after_mou  # 某医院, 于**医院: a place, not a person
_SEP_CAND = re.compile(r"(?P<sep>\s*[:：（()）|｜]?\s*(?:为|是|叫|名叫|名为)?\s*)(?P<cand>[\u4e00-\u9fff·•]{1,5})")
# a form label written with spaces inside (姓 名：), and an English name after a title (Dr. Wang, Mr. Li)
_SPACED_NAME = re.compile(r"姓[ \t　]+名\s*[:：]?\s*(?P<cand>[\u4e00-\u9fff·]{2,4})")
# (no \b before the title: between Han and Latin letters there is none, 主診Dr. Ho)
_EN_NAME = re.compile(r"(?<![A-Za-z])(?:Dr|Mr|Mrs|Ms|Miss|Prof|Dr\.)\.?\s+(?P<cand>[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)?)"
                      r"|(?<![A-Za-z])(?:[Hh]usband|[Ww]ife|[Ss]on|[Dd]aughter|[Mm]other|[Ff]ather|[Bb]rother|[Ss]ister|"
                      r"[Gg]uardian)\s+(?P<kin>[A-Z][a-z]+)(?![A-Za-z]|\s*:)")  # (Mother Tongue: is a field)
_PAREN_NAME = re.compile(r"([\u4e00-\u9fff·]{2,4})\s*[）)]")
_DEPT_CHARS = _W.dept_chars  # 心内科门诊 is a department's clinic
# care roles: the word after them is very often the person (护士方融已交代, 主任李明查房)
_ROLES = _W.care_roles
_AFTER_NAME = _W.after_name_chars | frozenset("，,。；;、（(") | {""}
# words that open a note in the name's place (患儿，男，3岁): a role, not a name
_NOT_A_NAME = _W.not_a_name
_MOU_WORDS = _W.mou_some_chars  # 某些, 某种: 某 as "some"
_DELIMS = set("，,。；;：:、（()）)\n\t 　!?！？")
_HARD_STOP = _W.hard_stop_chars
_NOT_NAME_FLAGS = frozenset(("v", "vd", "vn", "d", "p", "c", "u", "f", "r", "m", "q", "ad", "uj", "ul", "zg"))
_STOP_WORD_SET = frozenset(_W.field_words)  # all two characters long (the loader checks)
# characters that show a weak surname (于) is a preposition, not a name: 于今年, 于当地, 于我院, 于家中
_NOT_GIVEN = _W.not_given_chars
# after a kinship word or role and a name: 配偶于瑗馥体健, 兄长于秀兰陪同, 上级医师 于行勇；
_AFTER_KIN_NAME = _AFTER_NAME | _W.after_kin_name_chars
# the verbs and connectives that follow a name opening a clause (张三诉头痛, 刘梅因咳嗽来诊, 黄建平自述…)
_CLAUSE_VERBS = _W.clause_verbs
# surnames that open clauses far more often as adverbs (常呈现, 都存在, 易执行, 全身): never a clause-start name
_ADVERB_SURNAMES = _W.adverb_surnames
# kinship characters before a parenthesised name in a family history: 父（张志强）, 母（李桂兰）
_KIN_CHARS = _W.kin_chars
# last character of a field label that names a person's role (主刀, 查房医师, 审核者, 护士, 联系人, 一助)
_ROLE_END = _W.role_end_chars
# escorting verbs (由其子张国强陪同): the escort's name comes right before one
_ESCORT_VERBS = "|".join(re.escape(w) for w in _W.escort_verbs)
# cheap gates: the surname-first patterns are tried at every position, so run them only when their anchor is there
_ESCORT_GATE = re.compile(_ESCORT_VERBS)
_MASK_GATE = re.compile("[Xx×*＊Ｘｘ○〇]")
_KIN_OR_ROLE = _KIN | _NOT_A_NAME | _W.relation_words  # in brackets after a label: the relation (家属（儿子）)
_PAREN_AFTER = _W.relative_status  # 母（李桂兰）健在
_STATUS_WORDS = tuple(w for w in _PAREN_AFTER if len(w) > 1)  # 体健, 已故: what may start inside a short candidate
# the sex, then an age (45岁, 83y), a birth year (1978年) or a people (汉族): 张三，男，45岁 / 高峰：男，1978年出生
_DEMOGRAPHIC = re.compile(r"\s*(?:[，,、;；：:]\s*|[（(]\s*|[ \t　]+)(?:性别\s*[:：]?\s*)?[男女](?:性)?"
                          r"(?:\s*[，,、]\s*|[ \t　]+)"
                          r"(?:(?:年龄\s*[:：]?\s*)?\d{1,3}\s*(?:岁|月|个月|天|日|周|[yY](?:rs?|o)?(?![A-Za-z]))"
                          r"|(?:18|19|20)\d{2}\s*年|[\u4e00-\u9fff]{1,3}族)")
# surnames that are also prepositions: before a common word and a title they are the preposition (向主管医生)
_PREP_SURNAMES = _W.preposition_surnames
# words that make a title a role, not a name (原主诊教授, 该主治医师, 其经治医生)
_ROLE_PREFIXES = _W.role_prefixes
_PRO_TITLES = _W.professional_titles


class _Patterns(NamedTuple):
    """The compiled patterns of the rules (built once per process, from the lexicon)."""

    title: re.Pattern[str]
    label: re.Pattern[str]
    demographic: re.Pattern[str]
    clinic: re.Pattern[str]
    lao: re.Pattern[str]
    escort: re.Pattern[str]
    clause: re.Pattern[str]
    masked: re.Pattern[str]
    xing: re.Pattern[str]
    xing_sur: re.Pattern[str]
    paren: re.Pattern[str]
    kin_status: re.Pattern[str]
    colon: re.Pattern[str]


@cache
def _patterns() -> _Patterns:
    # jieba's dictionary loads lazily on the first cut; the frequency checks below read it directly, so load it
    # here, or the first text of a process would be judged against an empty dictionary
    jieba.initialize()
    tags("预热")  # and the POS tagger's tables (a one-time load of ~0.5 s, paid here rather than mid-batch)
    lx = lexicon()
    singles = "".join(sorted(lx.surnames))
    compounds = "|".join(re.escape(c) for c in lx.compound_surnames)
    sur = f"(?:{compounds}|[{singles}])"
    titles = "|".join(re.escape(t) for t in lx.titles)
    # titles and labels are found as plain literals (fast: the regex engine skips on their first characters);
    # the surname before a title and the name after a label are then checked in Python
    labels = "|".join(re.escape(w) for w in sorted(set(lx.strong_person_labels) | set(lx.weak_person_labels) | _KIN,
                                                     key=lambda w: (-len(w), w)))
    verbs = "|".join(re.escape(w) for w in sorted(_CLAUSE_VERBS, key=lambda w: (-len(w), w)))
    kin_chars = "".join(sorted(_KIN_CHARS))
    return _Patterns(
        title=re.compile(starts(lx.titles) + f"(?:{titles})"),
        label=re.compile(starts(set(lx.strong_person_labels) | set(lx.weak_person_labels) | _KIN) + f"(?:{labels})"),
        demographic=re.compile(_DEMOGRAPHIC.pattern.replace("\\s*(?:", "(?:", 1)),
        clinic=re.compile(f"(?<=[于至到挂找请随])(?=(?P<sur>{sur})(?P<given>[{HAN}]{{1,2}}?)"
                          "(?:处(?![理置方于])|门诊|专家门诊|诊室|专家))"),
        lao=re.compile(f"(?P<p>[老小])(?P<sur>{sur})"
                       "(?=[，,、。；;\\s？?！!”\"]|因|于|诉|自|今|近|来|入|男|女|$"
                       "|[吧吗呢啊呀和跟与说在也都的])"),  # (老伴老曹吧？, 单位的老唐和小范在…: speech)
        escort=re.compile(f"(?P<sur>{sur})(?P<given>[{HAN}]{{1,2}}?)(?={_ESCORT_VERBS})"),
        clause=re.compile(f"(?:^|(?<=[。；;！!？?\\n\\r\\t ：:，,]))(?P<sur>{sur})"
                          f"(?P<given>[{HAN}]{{1,2}}?)(?={verbs})"),
        masked=re.compile(f"(?P<sur>{sur})(?P<mask>[Xx×*＊Ｘｘ○〇]{{1,3}})(?![A-Za-z0-9])"),
        xing=re.compile(f"(?P<sur>{sur})姓(?=患者|病人|患儿|病员|男|女|老|先生|女士|同志|家属|[，,、])"),
        xing_sur=re.compile(f"(?<![同异复单双百贵])姓(?P<sur>{sur})(?=的|[，,。；;、！!\\s]|$)"),
        paren=re.compile(f"[（(](?P<sur>{sur})(?P<given>[{HAN}]{{1,2}})[）)]"),
        kin_status=re.compile(f"(?<=[{kin_chars}])(?P<sur>{sur})(?P<given>[{HAN}]{{1,2}}?)"
                              "(?=体健|已故|健在|去世|病故|陪同|陪伴)"),
        colon=re.compile(f"(?<=[:：])\\s*(?P<sur>{sur})(?P<given>[{HAN}]{{1,2}})(?=[。；;，,、\\s]|$)"),
    )


def _surname_len(text: str, i: int) -> int:
    """Length of the surname starting at text[i] (2 for 欧阳), 0 when none."""
    lx = lexicon()
    compounds = _compound_set()
    for k in (4, 2):  # 爱新觉罗, 欧阳
        if text[i:i + k] in compounds:
            return k
    return 1 if i < len(text) and text[i] in lx.surnames else 0


@cache
def _role_words() -> frozenset[str]:
    lx = lexicon()
    return frozenset(lx.strong_person_labels) | frozenset(lx.weak_person_labels) | _ROLES


@cache
def _role_words_tuple() -> tuple[str, ...]:
    return tuple(_role_words())


@cache
def _compound_set() -> frozenset[str]:
    return frozenset(lexicon().compound_surnames)


def _given(text: str, i: int, limit: int = 2, strict: bool = True) -> int:
    """See `_given_chars`; a name closed by punctuation keeps characters that are stops elsewhere (秦和民，)."""
    n = _given_chars(text, i, limit, strict)
    if strict and n < limit:
        loose = _given_chars(text, i, limit, False)
        after = text[i + loose:i + loose + 1]
        if loose > n and (after == "" or after in _DELIMS):
            return loose
    return n


def _given_chars(text: str, i: int, limit: int = 2, strict: bool = True) -> int:
    """How many characters from text[i] can be a given name: up to `limit`, stopping at stop characters/words.

    After a form label (姓名：) the name is delimited by the form itself, so only hard stops end it (罗友有 keeps 有).
    """
    n = 0
    stops = _STOP if strict else _HARD_STOP
    while n < limit and i + n < len(text):
        c = text[i + n]
        if not ("\u4e00" <= c <= "\u9fff") or c in stops or c == "某":
            break
        if text[i + n:i + n + 2] in _STOP_WORD_SET:
            break
        n += 1
    return n


def _boundary_ok(text: str, start: int) -> bool:
    """jieba puts a word boundary at `start` (值班医生: no boundary before 班)."""
    lo = max(0, start - 4)
    pos = lo
    for tok in jieba.lcut(text[lo:start + 4], HMM=False):
        if pos == start:
            return True
        if pos > start:
            return False
        pos += len(tok)
    return pos == start


def _reads_as_name(text: str, start: int, end: int, lenient: bool = False, unknown_only: bool = False) -> bool:
    """jieba's tagger reads text[start:end] as a name, or as unknown single characters (a rare name) followed by a
    delimiter; a dictionary word inside it (陈述, 高热, 侵犯) means it is not a name."""
    window = text[start:min(len(text), end + 3)]
    pos = 0
    n = end - start
    for word, flag in tags(window):
        if pos == 0 and flag.startswith("nr") and 2 <= len(word) <= n + 1 and _rare(word):
            return True
        if pos == 0 and len(word) > 1:
            # the surname character belongs to an ordinary word (陈述, 高热, 何时); after a kinship word or a
            # marked label a noun-tagged word is read as the name (郑兴/ns, 顾家/n)
            unknown = (jieba.dt.FREQ.get(word) or 0) < 5
            if unknown_only:  # before a title: 高龄老人 and 皮手术医生 are words, 莫露主任 and 余行主任 are not
                seldom = (jieba.dt.FREQ.get(word) or 0) < 50
                return len(word) < n or (len(word) == n and (unknown or seldom or (flag.startswith("nr")
                                                                                   and _rare(word))))
            return lenient and len(word) <= n and _rare(word) and (flag[:1] == "n" or unknown)
        if pos == 0 and flag in _NOT_NAME_FLAGS and not lenient:
            return False  # 解 (v) 暗红色, 常 (d) 染色体
        if 0 < pos < n and len(word) > 1:
            if pos + len(word) > n and not lenient:
                return False  # the candidate cuts a word in two (解暗红|色)
            return lenient or flag[:1] in ("n", "j") or flag == "x"  # a noun-tagged given name (小宝), not 侵犯
        pos += len(word)
        if pos >= n:
            break
    nxt = text[end:end + 1]
    return lenient or nxt == "" or not ("\u4e00" <= nxt <= "\u9fff") or nxt in _STOP


def _clause_name(text: str, s: int, e: int) -> bool:
    """jieba reads text[s:e] (before 诉/因/于…) as a person name or as unknown characters, not as a word that
    happens to start with a surname character (严重因…, 解大便于…, 周身乏力)."""
    word, flag = tags(text[s:e + 2])[0]
    if len(word) >= e - s:
        return flag.startswith("nr") or (jieba.dt.FREQ.get(word[:e - s]) or 0) < 5
    if len(word) > 1:
        return False  # the surname character starts a longer word (周身, 严重)
    pos = 0
    for w, _ in tags(text[s:e + 2]):
        if pos < e - s < pos + len(w) and (jieba.dt.FREQ.get(w) or 0) >= 100:
            return False  # the last given character makes a common word with what follows (常呈|现 -> 呈现)
        pos += len(w)
    return not any(len(w) > 1 and not f.startswith("nr") and (jieba.dt.FREQ.get(w) or 0) >= 5
                   for w, f in tags(text[s:e]))


def _no_word_over(text: str, s: int, e: int) -> bool:
    """jieba reads no function word at text[s] (常可高于: 常 is an adverb) and no word other than a name over the
    whole of text[s:e] (支原体)."""
    word, flag = tags(text[s:e + 2])[0]
    return flag not in _NOT_NAME_FLAGS and (len(word) < e - s or flag.startswith("nr"))


_PHRASE_FLAGS = frozenset(("v", "vn", "vd", "i", "l", "t", "c", "d", "p", "f", "m"))


def _phrase_after_slot(text: str, s: int, e: int) -> bool:
    """text[s:e], unclosed after a kinship or role word, starts a phrase rather than a name: jieba's first word
    there is a conjunction (和新生儿), a verb, idiom or time word (谈谈心, 平时), or a word ending inside it while
    another word runs across its end (平时|应该, 呼叫|救护车); a name that is also a word (配偶胡琴, 马超) stays."""
    words = tags(text[s:e + 3])
    word, flag = words[0]
    if len(word) == 1 and flag in ("c", "p") and word in _LX.weak_surnames:
        return True  # 母亲和新生儿: a conjunction, not the surname 和
    if len(word) < 2 or flag.startswith("nr"):
        return False
    if len(word) >= e - s:
        return flag in _PHRASE_FLAGS
    pos = 0
    for w, _ in words:
        if pos < e - s < pos + len(w):
            return True  # a word straddles the candidate's end
        pos += len(w)
    return False


def _weak_given_ok(text: str, i: int) -> bool:
    """After a kinship word or a marked label, a weak surname (于, 向) starts a name when jieba reads what follows
    as a name or a noun (配偶于叶寒), not as time, place or kin (于今年, 于当地, 和母亲)."""
    tg = tags(text[i:i + 4])
    if not tg:
        return False
    word, flag = tg[0]
    return (flag.startswith("nr") or flag in ("n", "nz", "ng")) and word not in _KIN and \
        not any(c in _STOP for c in word)


def _weak_title_ok(text: str, s: int, t: int, end: int, given: str) -> bool:
    """A weak surname before a professional title: 于行勇教授 (a rare given name), or 于主任 / 于护士 where the
    phrase is someone's clinic or act (挂于主任医师门诊, 至于教授处复查, 宣教由于护士完成)."""
    title = text[t:end]
    if title in ("先生", "女士", "小姐") and not given:
        # 病人于先生 / 联系人：于女士 / 于女士，女，54岁: the slot before or the tail after says a person is meant
        return text[:s].rstrip(" ：:").endswith(_role_words_tuple()) or _DEMOGRAPHIC.match(text, end) is not None
    if title not in _PRO_TITLES:
        return False
    if given and s > 0 and text[s - 1] in "挂至找请" and text.startswith(("门诊", "处", "专家", "诊室"), end):
        # 至于卫国主任医师门诊: a clinic is a person's, even when the given name is also a word (卫国, 建设)
        return len(given) <= 2 and given not in _ROLE_PREFIXES and \
            not any(c in _NOT_GIVEN or c in _HARD_STOP for c in given)
    if given:
        return len(given) <= 2 and given not in _role_words() and given not in _ROLE_PREFIXES and \
            not any(c in _NOT_GIVEN or c in _HARD_STOP for c in given) and \
            (len(given) == 1 or (jieba.dt.FREQ.get(given) or 0) < 50) and not jieba.dt.FREQ.get(text[s:t]) and \
            not lexicon().starts_with_allowed(text[s:t])  # 查房医师, 全科医生: a word, not 查 + 房
    if text[s] != "于":
        return False
    before = text[s - 1:s] if s else ""
    return before in ("挂", "至", "找", "请", "随", "由", "经", "于") or \
        text.startswith(("门诊", "处", "专家门诊", "诊室"), end)


def _weak_patient_name(text: str, i: int) -> bool:
    """患者 + weak surname + two characters + a comma is a name only when the two characters are no word at all
    (患者于勤茗， is a name; 患者于近期， / 患者于外院， are not)."""
    given = text[i:i + 2]
    return len(given) == 2 and all("\u4e00" <= c <= "\u9fff" and c not in _NOT_GIVEN and c not in _STOP
                                   for c in given) and \
        text[i + 2:i + 3] in ("，", ",") and not jieba.dt.FREQ.get(given) and \
        not any(jieba.dt.FREQ.get(c + given[0]) for c in text[i - 1:i])


def _weak_name_len(text: str, i: int, slot: bool = False) -> int:
    """Length of a given name after a weak surname at text[i - 1] in a name slot (after a kinship word, a role or
    before 陪同): 1-2 characters that are not time/place words (于今年, 于当地, 于家中), closed by a delimiter or
    by what follows a relative's name (体健, 患, 陪同, 已故); 0 when it does not read as a name."""
    for n in range(_given_chars(text, i, 2, strict=False), 0, -1):
        after = text[i + n:i + n + 1]
        closed = slot and (after == "" or after in _DELIMS)  # 上级医师 于建设；: the slot is closed by the form
        if n > 1 and text.startswith(_STATUS_WORDS, i + n - 1):
            continue  # 配偶于洁体健: the status (体健) starts inside the candidate, so the name ends before it
        if any(c in _NOT_GIVEN for c in text[i:i + n]) or \
                (n > 1 and not closed and (jieba.dt.FREQ.get(text[i:i + n]) or 0) >= 50):
            continue
        if after in _AFTER_KIN_NAME or after in _DELIMS:
            return n
    return 0


def _rare(word: str) -> bool:
    """Not a frequent dictionary word: jieba sometimes tags 安静 or 陈述 as `nr` in context."""
    return (jieba.dt.FREQ.get(word) or 0) < 300


def _word_before(text: str, start: int) -> bool:
    """The character before `start` and the surname form a common word or a role (值班医生, 主管医生, 随车医生):
    no name there."""
    if start == 0:
        return False
    pair = text[start - 1:start + 1]
    return (jieba.dt.FREQ.get(pair) or 0) >= 25 or pair in _ROLE_PREFIXES


def _allowed(text: str, start: int, end: int) -> bool:
    """A protected medical word starts at `start` and covers the candidate (其父高血压: 高血压 is not 高 + 血压;
    but 苏叶芬 is a name although 苏叶 is a herb)."""
    lx = lexicon()
    return any(text[start:start + k] in lx.allow for k in lx.allow_lengths if k >= end - start)


Hit = tuple[int, int, float]  # start, end, score of one PERSON span


class _Slot:
    """The place right after a person label (姓名：, 患者, 其父, 上级医师 …) where a name may stand, shared by the
    label_* rules. `done` is set by the first of them that settles the slot; the later ones skip it."""

    __slots__ = ("text", "label", "sep", "cs", "is_strong", "marked", "n_sur", "weak", "done", "_weak_ok", "_end")

    def __init__(self, text: str, label: str, sep: str, cs: int) -> None:
        self.text, self.label, self.sep, self.cs = text, label, sep, cs
        # a form field (姓名：, 签名, 医师: ...) takes any characters; a role word (主治医师, 患者) needs a surname
        self.is_strong = any(c in sep for c in ":：") or "姓名" in label or label == "名字"
        self.marked = self.is_strong or any(c in sep for c in " （(")  # 其父（张三）, 上级医师 顾家龙
        self.n_sur = _surname_len(text, cs)
        self.weak = self.n_sur == 1 and text[cs] in _LX.weak_surnames
        self.done = False
        self._weak_ok: bool | None = None  # computed on first use (it may ask jieba)
        self._end: tuple[int, int, int] | None = None

    def weak_ok(self) -> bool:
        """A weak surname (于) starts a name here: after a form label, or in a marked or kinship slot when jieba reads
        what follows as a name."""
        if self._weak_ok is None:
            self._weak_ok = self.weak and (self.is_strong or ((self.marked or self.label in _KIN)
                                                              and _weak_given_ok(self.text, self.cs + 1)))
        return self._weak_ok

    def surname_path(self) -> bool:
        """The candidate starts with a surname that may start a name here."""
        return bool(self.n_sur) and not (self.weak and not self.weak_ok())

    def name_end(self) -> tuple[int, int, int]:
        """(gap, given-name length, end) of the surname-first name at the slot."""
        if self._end is None:
            self._end = self._name_end()
        return self._end

    def _name_end(self) -> tuple[int, int, int]:
        text, cs, n_sur = self.text, self.cs, self.n_sur
        gap = 1 if text[cs + n_sur:cs + n_sur + 1] in (" ", "\u3000") else 0  # 张 三 / 宁　书 in some exports
        n_given = _given(text, cs + n_sur + gap, 3 if n_sur == 2 else 2, strict=not self.is_strong)
        if self.label in _KIN and n_given < 2:  # 配偶龚政和体健: a kinship word, then name, then 体健/患/陪同
            loose = _given(text, cs + n_sur + gap, 2, strict=False)
            if loose == 2 and text[cs + n_sur + gap + 2:cs + n_sur + gap + 3] in _AFTER_NAME:
                n_given = loose
            elif n_given == 0 and loose >= 1 and text[cs + n_sur + gap + 1:cs + n_sur + gap + 2] in \
                    _AFTER_KIN_NAME and text[cs + n_sur + gap] not in _NOT_GIVEN:
                n_given = 1  # 配偶秦有患高血压, 配偶东郭有患…: a one-character name that is a stop elsewhere
        if n_given == 0:
            gap = 0
        return gap, n_given, cs + n_sur + gap + n_given


class _Scan:
    """One text under detection: the spans found so far (the colon rule reads them), and what several rules share
    (the title matches of surname_mou and surname_title, the label slots of the label_* rules)."""

    __slots__ = ("text", "p", "found", "titles", "slots")

    def __init__(self, text: str) -> None:
        self.p = p = _patterns()
        self.text = text
        self.found: list[Span] = []
        self.titles = list(p.title.finditer(text))
        self.slots: list[_Slot] = []
        for lm in p.label.finditer(text):
            m = _SEP_CAND.match(text, lm.end())
            if m is not None:
                self.slots.append(_Slot(text, lm.group(0), m.group("sep"), m.start("cand")))

    def open_slots(self) -> Iterator[_Slot]:
        return (slot for slot in self.slots if not slot.done)


def _title_candidates(text: str, m: re.Match[str]) -> Iterator[tuple[int, int, str]]:
    """(start, surname length, given name) of each surname + 0-2 characters that may stand before the title `m`."""
    lx = _LX
    t, end = m.start(), m.end()
    for g in (0, 1, 2):
        for sl in (1, 2):
            s = t - g - sl
            if s < 0:
                continue
            sur = text[s:s + sl]
            if (sl == 1 and sur not in lx.surnames) or (sl == 2 and sur not in lx.compound_surnames):
                continue
            given = text[s + sl:t]
            if sl == 1 and sur in lx.weak_surnames and not _weak_title_ok(text, s, t, end, given):
                continue
            if given and (_given(text, s + sl, 2, strict=False) < len(given)):
                continue  # the title closes the name, so only hard stops count (王行涛护士长)
            if _allowed(text, s, end) or any(text[p:end] in _role_words() for p in range(max(0, s - 2), t)):
                continue  # 管床医生, 班主任 (各班班主任): a role ends at the title
            yield s, sl, given


# ---- the rules, in the order they run (see RULES) --------------------------------------------------------------


def kin_status(scan: _Scan) -> Iterator[Hit]:
    """A relative's name between a kinship character and a status: 父张志强已故, 母李桂兰体健, 女王芳陪同.

    Family histories list relatives this way with no label or punctuation; the status word closes the name."""
    text, lx = scan.text, _LX
    for m in scan.p.kin_status.finditer(text):
        s, e = m.start("sur"), m.end("given")
        weak = len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames
        if (weak and any(c in _NOT_GIVEN for c in m.group("given"))) or _allowed(text, s, e) or \
                any(c in _HARD_STOP for c in m.group("given")) or (jieba.dt.FREQ.get(text[s:e]) or 0) >= 20:
            continue
        yield s, e, 0.8


def clause_start(scan: _Scan) -> Iterator[Hit]:
    """A name opening a sentence or clause before a reporting or cause verb: 张三诉头痛, 刘梅因咳嗽来诊, 黄建平自述….

    Notes often start with the patient's bare name; jieba must read it as a name or as unknown characters, since
    ordinary words start with surname characters too (严重因…, 周身乏力, 常呈现)."""
    text, lx = scan.text, _LX
    for m in scan.p.clause.finditer(text):
        s, e = m.start("sur"), m.end("given")
        # a full name whose given characters are name-typical (see plausible_name) stands even when they form a
        # word (时光明称, 石桂兰诉); else jieba must read a name there, not a word (严重因…, 周身乏力)
        full = len(m.group("sur")) == 1 and len(m.group("given")) == 2 and plausible_name(text[s:e]) and \
            _no_word_over(text, s, e)
        if len(m.group("sur")) == 1 and (m.group("sur") in lx.weak_surnames or m.group("sur") in _ADVERB_SURNAMES) \
                and not full:
            continue  # 常出现, 时感…: a weak surname only with a full, name-typical name
        if any(c in _STOP or c == "某" for c in m.group("given")) or _allowed(text, s, e) or \
                text[s:e] in _NOT_A_NAME or text[s:e] in _STOP_WORD_SET:
            continue
        if (jieba.dt.FREQ.get(text[s:e]) or 0) >= 20 or not (full or _clause_name(text, s, e)):
            continue
        yield s, e, 0.75


def masked(scan: _Scan) -> Iterator[Hit]:
    """A surname with a masked given name: 家属张XX陪护, 患者李**. The surname still identifies, so it goes too.

    A masked place after a preposition (患者于**医院) or a masked run inside a word (肛周**) is not a name."""
    text, lx = scan.text, _LX
    if not _MASK_GATE.search(text):
        return
    for m in scan.p.masked.finditer(text):
        s = m.start()
        if len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames:
            continue  # 患者于**复查: a masked place after a preposition
        prev, nxt = text[s - 1:s], text[m.end():m.end() + 1]
        if ("\u4e00" <= prev <= "\u9fff" and not text[:s].endswith(_role_words_tuple())) or \
                (prev.isascii() and prev.isalnum()) or nxt in _PLACE_AFTER_MOU or nxt in ("*", "＊"):
            continue  # 肛周**, 患者于**医院: a masked place or a word, not a masked name
        yield s, m.end(), 0.85


def surname_xing(scan: _Scan) -> Iterator[Hit]:
    """A surname named as such: 陈姓患者, 王姓男子, 李姓，…, 抽符姓患者血培养, 一位姓郝的护士. Written to hide the
    name, it still tells the surname."""
    if "姓" not in scan.text:
        return
    lx = _LX
    text = scan.text
    for m in scan.p.xing.finditer(text):
        if len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames:
            continue
        if m.start() > 0 and "\u4e00" <= text[m.start() - 1] <= "\u9fff" and \
                (_word_before(text, m.start()) or _frequent(text[m.end() - 2:m.end()]) or
                 text[m.end():m.end() + 1] in "，,、"):
            continue  # 老百姓: a word across the surname; 浊音阴姓，: a typo of 阴性 (after text, a person must follow)
        yield m.start(), m.end(), 0.8
    for m in scan.p.xing_sur.finditer(text):  # 一位姓郝的护士, 家属说姓邓，: the surname after 姓
        if not (len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames):
            yield m.start("sur"), m.end("sur"), 0.8


def paren_kin(scan: _Scan) -> Iterator[Hit]:
    """A relative's name in brackets: 父（张志强）因肝癌去世, 母（李桂兰）健在, 兄（王强）患高血压.

    The bracket must follow a kinship character or come before a status word (健在, 已故, 患…), since brackets
    also hold drugs and findings."""
    text, lx = scan.text, _LX
    for m in scan.p.paren.finditer(text):
        s, e = m.start("sur"), m.end("given")
        kin_before = m.start() > 0 and text[m.start() - 1] in _KIN_CHARS
        if not kin_before and not text.startswith(_PAREN_AFTER, m.end()):
            continue
        if (len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames and any(c in _NOT_GIVEN
                                                                                   for c in m.group("given"))) \
                or _allowed(text, s, e) or text[s:e] in _NOT_A_NAME:
            continue
        yield s, e, 0.8


def escort(scan: _Scan) -> Iterator[Hit]:
    """The name of whoever brought the patient: 由兄长武和陪同, 由其子张国强陪同入院, 由其女王芳代诉.

    A surname + 1-2 characters before an escorting verb counts only after 由 or a kinship word, where nothing but a
    person can stand (由家属于门诊陪同 is not a name)."""
    text, lx = scan.text, _LX
    if not _ESCORT_GATE.search(text):
        return
    for m in scan.p.escort.finditer(text):
        s, e = m.start("sur"), m.end("given")
        before = text[max(0, s - 5):s]
        if "由" not in before and not any(before.endswith(k) for k in _KIN) and before[-1:] not in _KIN_CHARS:
            continue
        if len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames:
            g = m.group("given")
            if any(c in _NOT_GIVEN for c in g) or (len(g) > 1 and (jieba.dt.FREQ.get(g) or 0) >= 50):
                continue  # 由兄长于秀兰陪同 is a name, 由家属于门诊陪同 is not
        if _allowed(text, s, e):
            continue
        if any(c in _HARD_STOP for c in m.group("given")):
            continue
        yield s, e, 0.8


_LAO_BEFORE = ("是", "的", "叫", "找")  # (and the person words: 患者老梁, 我是小覃, 找老王, 司机老崔, 邻居小陈)


def lao_surname(scan: _Scan) -> Iterator[Hit]:
    """A colloquial surname-only name: 患者老梁，6个月前…, 老王因胸痛来诊, 我是社区的小覃，, 司机老崔，.

    老 or 小 + surname, closed by punctuation or a clause verb (小 + a surname that makes a word, 小米, is that
    word). A weak surname after 老 counts only before punctuation
    (老于，): before a verb its character is more often a preposition."""
    text, lx = scan.text, _LX
    if "老" not in text and "小" not in text:
        return
    for m in scan.p.lao.finditer(text):
        if m.start() > 0 and "\u4e00" <= text[m.start() - 1] <= "\u9fff" and \
                not text.endswith((*_LAO_BEFORE, *person_words()), 0, m.start()):
            continue  # 大小便: inside other text; after a role or a person noun it is a person (司机老崔)
        after = text[m.end():m.end() + 1]
        if m.group("sur") in lx.weak_surnames and (m.group("p") == "小" or after not in "，,、。；; "):
            continue  # 小时, 小于
        if (m.group("p") == "小" and _frequent(m.group(0))) or (jieba.dt.FREQ.get(m.group(0)) or 0) >= 2000 or \
                _allowed(text, m.start(), m.end()):
            continue  # 小米, 小叶, 老师: words, not 小 or 老 + a surname (老王, 老李 are in the dictionary too)
        yield m.start(), m.end(), 0.8


def clinic_of(scan: _Scan) -> Iterator[Hit]:
    """A person's clinic: 至向辰处复查, 挂孔珊菊门诊, 请李明专家会诊. After 于/至/挂/找/请 and before 处/门诊/诊室/专家.

    Department clinics (至心内科门诊, 至我院门诊) are not names: a department character drops the candidate."""
    text = scan.text
    for m in scan.p.clinic.finditer(text):
        s, e = m.start("sur"), m.end("given")
        given = m.group("given")
        if _given(text, m.end("sur"), 2, strict=False) >= len(given) and not _allowed(text, s, e) and \
                not any(c in _DEPT_CHARS for c in text[s:e]):
            yield s, e, 0.75


def surname_mou(scan: _Scan) -> Iterator[Hit]:
    """A surname with 某 or 某某 for the given name: 李某某，女，33岁 / 张某 / 欧阳某某.

    The common way to hide a name still leaks the surname. 某 as "some" (常由某些药物, 某种, 某天) is not a name, and
    with characters between the surname and 某 (王小某) jieba must put a word boundary before the surname."""
    text = scan.text
    for m in scan.titles:
        end, title = m.end(), m.group(0)
        if not title.startswith("某"):
            continue
        for s, sl, given in _title_candidates(text, m):
            if text[end:end + 1] in _MOU_WORDS or (given and _given(text, s + sl, 2) < len(given)):
                continue  # 常由某些药物, 某种, 某天: 某 as "some"
            if given == "" or _boundary_ok(text, s):
                yield s, end, 0.9


def surname_title(scan: _Scan) -> Iterator[Hit]:
    """A surname (+ 0-2 characters) before a title: 张先生, 王女士, 李主任, 刘建华主任, 王行涛护士长, 王老先生.

    Roles are not names: the surname character must not end a word (值班医生, 主管医生), the whole must not be a role
    word (管床医生), and a given name must read as a name to jieba, unless it is someone's clinic
    (挂高中主任医师门诊)."""
    text = scan.text
    for m in scan.titles:
        t, end, title = m.start(), m.end(), m.group(0)
        if title.startswith("某"):
            continue
        for s, sl, given in _title_candidates(text, m):
            sur = text[s:s + sl]
            if sur in _PREP_SURNAMES and len(given) == 2 and (jieba.dt.FREQ.get(given) or 0) >= 100:
                continue  # 向主管医生: a preposition, then a common word (but 邵国庆主任, 向建军医生 are names)
            if _word_before(text, s) and text[s - 1] not in "于至到挂找请随由经":
                continue  # 值班医生, 包皮手术医生: the surname character ends a word
            clinic = s > 0 and text[s - 1] in "挂至找请" and title in _PRO_TITLES and \
                text.startswith(("门诊", "处", "专家", "诊室"), end)  # 挂高中主任医师门诊: a name, whatever word
            if given and not clinic and _adverb_then_verb(text, s, t):
                continue  # 应请医生: an adverb and a verb before the title (至高兴副主任医师门诊 is a clinic's)
            if given and sl == 1 and not clinic and \
                    not _reads_as_name(text, s, t, lenient=True, unknown_only=True):
                continue  # (the jieba check last: it is the expensive one)
            yield s, end, 0.85


_SIGN_WORDS = frozenset(("签字", "签名", "签章", "手签", "盖章", "签署", "本人", "代签"))


def label_paren(scan: _Scan) -> Iterator[Hit]:
    """A name in brackets after a label: 父亲（许行翰）体健, 联系人（王强）, 其母（李桂兰）.

    Any 2-4 characters in the bracket, unless they name the relation instead (家属（儿子）王强: 儿子 is no name, and
    the kinship rule finds 王强 after it)."""
    text = scan.text
    for slot in scan.open_slots():
        if "（" not in slot.sep and "(" not in slot.sep:
            continue
        pm = _PAREN_NAME.match(text, slot.cs)
        if pm and (pm.group(1) in _KIN_OR_ROLE or pm.group(1) in _SIGN_WORDS):
            slot.done = True  # 患者家属（儿子）王强, 转诊医生（签字）：: the bracket names the relation or the act
        elif pm and not _allowed(text, slot.cs, pm.end(1)) and not _opens_with_word(pm.group(1)):
            slot.done = True
            yield slot.cs, pm.end(1), 0.85


def _opens_with_word(value: str) -> bool:
    """A bracket's three or more characters open with a common word that is no name (患者（孕妇除外）,
    患者（重症疾病）): a condition or a group, not a name (其父（欧阳振华）, 家属（王建国） open with a surname)."""
    if len(value) < 3 or _surname_len(value, 0) == 2:
        return False
    head = value[:2]
    return (jieba.dt.FREQ.get(head) or 0) >= 100 and not _word_tag(head).startswith("nr")


def label_nr(scan: _Scan) -> Iterator[Hit]:
    """A name after a label that runs past a stop character: 同事姚以翔陪同, 其妻蒋以琳体健 (以 ends a name elsewhere).

    Only when jieba tags the run as a person name (nr) of 2-4 characters that is no common word; the other label
    rules still run on the same slot."""
    text = scan.text
    for slot in scan.open_slots():
        cs, n_sur = slot.cs, slot.n_sur
        if not n_sur or slot.weak:
            continue
        nxt = cs + n_sur + _given(text, cs + n_sur, 2)
        if nxt < len(text) and "\u4e00" <= text[nxt] <= "\u9fff" and text[nxt] not in _HARD_STOP and nxt - cs < 3:
            # the name may go on past a stop character (姚以翔): ask jieba, only in that case
            tg = tags(text[cs:cs + 6])
            if tg and tg[0][1].startswith("nr") and n_sur < len(tg[0][0]) <= 4 and not _allowed(text, cs, cs + 4) \
                    and (jieba.dt.FREQ.get(tg[0][0]) or 0) < 50:
                yield cs, cs + len(tg[0][0]), 0.8  # 同事姚以翔 (以 is a stop)


def label_mou(scan: _Scan) -> Iterator[Hit]:
    """A label, then a surname (+ given name) and 某: 同事于某, 患者李某某, 家属王小某. Even a weak surname counts.

    患者于某医院 is a place (于 the preposition), so 某 before a place character is not taken."""
    text = scan.text
    for slot in scan.open_slots():
        cs, n_sur = slot.cs, slot.n_sur
        if n_sur and text.startswith("某", cs + n_sur):  # 同事于某: even a weak surname
            slot.done = True
            end = cs + n_sur + (2 if text.startswith("某某", cs + n_sur) else 1)
            if text[end:end + 1] not in _PLACE_AFTER_MOU:  # 患者于某医院: 于 is a preposition there
                yield cs, end, 0.9
        elif slot.surname_path():
            end = slot.name_end()[2]
            if text.startswith("某", end):
                slot.done = True
                yield cs, end + (2 if text.startswith("某某", end) else 1), 0.9


def label_weak(scan: _Scan) -> Iterator[Hit]:
    """A name with a weak surname (于, 和: more often a preposition) in a name slot: 配偶于瑗馥体健, 患者于勤茗，….

    The given name must be no time or place word (患者于近期, 于外院, 于家中) and be closed by a delimiter or by what
    follows a relative's name (体健, 患, 陪同, 已故)."""
    text = scan.text
    for slot in scan.open_slots():
        if not slot.weak or slot.weak_ok():
            continue
        cs, label = slot.cs, slot.label
        if label in ("患者", "病人", "患儿") and _weak_patient_name(text, cs + 1):
            slot.done = True
            yield cs, cs + 3, 0.75  # 患者于勤茗，2天前…
        elif slot.marked or label in _KIN or label in _ROLES:
            wn = _weak_name_len(text, cs + 1, slot=slot.marked and label in _ROLES)
            if wn and not _allowed(text, cs, cs + 1 + wn) and (jieba.dt.FREQ.get(text[cs:cs + 1 + wn]) or 0) < 5:
                slot.done = True
                yield cs, cs + 1 + wn, 0.8  # 配偶于瑗馥体健


# labels that also open a speaker's line in a chat or a dialogue transcript (医生：…, 患者：…, 家属：…)
_SPEAKER = re.compile(r"医生|医师|大夫|患者|病人|家属|护士|用户|客服|咨询者|患儿家长|[父母]亲|儿子|女儿")


def label_surname(scan: _Scan) -> Iterator[Hit]:
    """A surname-first name after a label: 患者张建国，男…, 其母王秀英患…, 医师签名：赵敏, 上级医师 顾家龙.

    After a form label (a colon) or in a kinship or role slot the name is taken as is; after a loose label (患者)
    jieba must not read it as an ordinary word (患者陈述, 患者高热), unless a delimiter or a demographic tail closes
    it."""
    text = scan.text
    for slot in scan.open_slots():
        if not slot.surname_path():
            continue
        slot.done = True
        cs, label = slot.cs, slot.label
        gap, n_given, end = slot.name_end()
        if n_given == 0 or (_allowed(text, cs, end) and not _DEMOGRAPHIC.match(text, end)):
            continue  # (患者白薇，女，41岁: a herb has no sex and age)
        kin = label in _KIN
        closed = end == len(text) or text[end] in _DELIMS  # 上级医师 万才群  住院医师 / 患者秦芬璧，
        role = label in _ROLES
        if slot.is_strong and not closed and _SPEAKER.fullmatch(label) and not _DEMOGRAPHIC.match(text, end) \
                and not _reads_as_name(text, cs, end, lenient=True):
            continue  # 医生：支原体感染…: a chat speaker's line, not a name field
        if (kin or role) and not (slot.is_strong or slot.n_sur == 2 or gap or slot.marked) and \
                not _DEMOGRAPHIC.match(text, end) and _phrase_after_slot(text, cs, end):
            continue  # 母亲和新生儿, 母亲呼叫救护车, 朋友平时应该, 和朋友谈谈心。: what follows is no name
        if slot.is_strong or slot.n_sur == 2 or gap or kin or role or (closed and slot.marked) or \
                _DEMOGRAPHIC.match(text, end) or _reads_as_name(text, cs, end, lenient=slot.marked or closed):
            yield cs, end, 0.88 if slot.is_strong else 0.8


def label_form(scan: _Scan) -> Iterator[Hit]:
    """Any 2-4 characters after a form label, surname list or not: 姓名：禾木子, 姓名：买买提江, 名字：木子美.

    The form says a name is there; after a field label other than 姓名/名字, jieba must still read it as a name."""
    text = scan.text
    for slot in scan.open_slots():
        if not slot.is_strong:
            continue
        cs, label = slot.cs, slot.label
        n = _given(text, cs, 4)
        if n < 2 or _allowed(text, cs, cs + n):
            continue
        form = ("姓名" in label or label == "名字") and (slot.sep != "" or not tags(text[cs:cs + n])[0][1].startswith(
            ("d", "p", "c", "u", "f", "v")))  # 核对姓名后再执行: no form field
        if form or _reads_as_name(text, cs, cs + n):
            yield cs, cs + n, 0.8


def label_spaced(scan: _Scan) -> Iterator[Hit]:
    """A name after the form label written with spaces inside: 姓 名：张三, 姓　名 李四 (some exports pad labels)."""
    if "姓" not in scan.text:
        return
    for m in _SPACED_NAME.finditer(scan.text):
        yield m.start("cand"), m.end("cand"), 0.88


_EN_GATE = ("Dr", "Mr", "Ms", "Miss", "Prof", "usband", "ife ", "on ", "aughter", "other ", "ather ", "rother ",
            "ister ", "uardian")  # a cheap literal scan before the pattern: most texts hold none of these


def en_title(scan: _Scan) -> Iterator[Hit]:
    """A romanised name after an English title: Dr. Wang, Mr. Li, Prof. Zhang San (consultants, foreign staff), or
    after a kinship word in English notes (Husband Daniel joined)."""
    text = scan.text
    if not any(w in text for w in _EN_GATE):
        return
    for m in _EN_NAME.finditer(text):
        g = "cand" if m.group("cand") else "kin"
        if g == "cand" or m.group(g).lower() not in _LX.english_terms:
            yield m.start(g), m.end(g), 0.85


# a common English given name alone, as Chinese text writes a colleague's, a classmate's or an interpreter's name
# (见证人：Lily（翻译）, 同桌Linda和她, 室友Coco发现后): between Han text or delimiters, not before another
# capitalised word (a full name is romanised_name's) nor before an eponym's word (Lauren分型)
_NOT_ALONE_NAMES = frozenset(("Max", "Sunny", "Candy", "Mark", "Jack", "Frank", "Amber", "Ivy", "Joy"))
_EN_ALONE_AFTER = frozenset("（(）)，,、。；;：:！!？?和与说在的\n\t \u3000") | {""}


@cache
def _en_alone() -> re.Pattern[str]:
    given = "|".join(n for n in _LX.english_given_names if n not in _NOT_ALONE_NAMES)
    return re.compile(rf"(?=[A-Z])(?<![A-Za-z\-.])(?:{given})(?![A-Za-z\-])")


def english_given(scan: _Scan) -> Iterator[Hit]:
    """A common English given name standing alone in Chinese text (see _en_alone and data/name_romanised.txt)."""
    text = scan.text
    if not has_capital(text):
        return
    for m in _en_alone().finditer(text):
        s, e = m.span()
        before, after = text[s - 1:s], text[e:e + 1]
        if not (before == "" or "\u4e00" <= before <= "\u9fff" or before in _EN_ALONE_AFTER) or \
                re.match(r" [A-Z]", text[e:e + 2]) or EPONYM_AFTER.match(text, e):
            continue
        if after in _EN_ALONE_AFTER or ("\u4e00" <= after <= "\u9fff" and text.endswith(person_words(), 0, s)):
            yield s, e, 0.75  # (Han text right after it only when a person word stands before: 室友Kevin发现)


# a name in Latin letters after an English field label (Patient: WANG, Xiaoyu; Verified by: J. Liu; Patient Name:
# Nguyen Thi Lan): any capitalised words there, in the forms records write them
_EN_LABEL = re.compile(r"(?<![A-Za-z])(?i:patient(?:'s)? name|patient|full name|name|verified by|reported by|"
                       r"signed by|reviewed by|checked by|attending|physician|doctor|nurse|contact(?: person)?|"
                       r"guardian|next of kin|informant|interpreter|spouse|mother|father)\s*[:：]\s*")
_EN_LABEL_GATE = re.compile(r"[A-Za-z][ \t]*[:：]")  # a label's last letter and its colon: a fast scan first
_EN_LABEL_NAME = re.compile(r"[A-Z]{2,12},[ \u00a0]?[A-Z][a-z]+(?:[ \-][A-Z]?[a-z]+)?"  # WANG, Xiaoyu
                            r"|(?:[A-Z]\.[ \u00a0]?){1,2}[A-Z][a-z'’\-]+"  # J. Liu
                            r"|[A-Z][a-z'’\-]+(?:[ \u00a0][A-Z][a-z'’\-]+){0,3}"  # Nguyen Thi Lan
                            r"|[A-Z]{2,12}(?:[ \u00a0][A-Z]{2,12}){1,3}(?![a-z])")  # LEONG KA IAN


def en_label_name(scan: _Scan) -> Iterator[Hit]:
    """A Latin-script name after an English field label (see _EN_LABEL), unless its words are English medical
    words (Patient: Stable, Name: Unknown are no names)."""
    text = scan.text
    if _EN_LABEL_GATE.search(text) is None:
        return
    for m in _EN_LABEL.finditer(text):
        n = _EN_LABEL_NAME.match(text, m.end())
        if n is None:
            continue
        words = re.split(r"[ ,.\u00a0\-]+", n.group(0))
        if any(w.lower() in _LX.english_terms or w.lower() in _EN_NOT_NAMES for w in words if w):
            continue
        yield n.start(), n.end(), 0.8


_EN_NOT_NAMES = frozenset(("unknown", "stable", "none", "male", "female", "yes", "no", "self", "same", "see", "n/a",
                           "normal", "negative", "positive", "pending", "refused", "mr", "mrs", "ms", "dr"))


# one Hanyu Pinyin syllable (initial + final), as written in passports and English-language records
_PINYIN_SYLLABLE = (r"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?(?:iang|iong|uang|ang|eng|ing|ong|uai|ian|iao|uan|van|"
                    r"ai|ei|ao|ou|an|en|in|un|vn|ia|ie|iu|ua|uo|ui|ue|ve|er|a|o|e|i|u|v)")
_PINYIN_GIVEN = re.compile(rf"(?:{_PINYIN_SYLLABLE}){{1,2}}")


@cache
def _person_labels() -> tuple[str, ...]:
    return (*_LX.strong_person_labels, "患者", "病人", "家属", "联系人", "受检者", "患儿")


_ROMAN_CAPS = re.compile(r"(?<![A-Za-z])([A-Z]{2,6})[ \u00a0]([A-Z]{2,12})(?![A-Za-z])")


@cache
def _romanised() -> re.Pattern[str]:
    """Two capitalised words, the first possibly a common English given name (data/name_romanised.txt)."""
    given = "|".join(_LX.english_given_names)
    return re.compile(rf"(?=[A-Z])(?<![A-Za-z])(?:(?P<en>{given})|(?P<a>[A-Z][a-z]{{0,6}}))(?:[ \u00a0]|-)"
                      r"(?P<b>[A-Z][a-z]{1,11})(?![A-Za-z])")


def _pinyin_given(word: str) -> bool:
    return _PINYIN_GIVEN.fullmatch(word.lower()) is not None


# a surname in capitals before its given name in title case, as passports, journals and Hong Kong records write it:
# ZHAO Xinyi, OUYANG Xiaofei, LI Ming1 (an affiliation mark), CHAN Ka Ho, HO Pik Ha
_CAPS_SURNAME = re.compile(r"(?<![A-Za-z])([A-Z]{2,8})((?:[ \u00a0][A-Z][a-z]{1,8}){1,3})(?![A-Za-z])")


def romanised_name(scan: _Scan) -> Iterator[Hit]:
    """A Chinese name in pinyin, either order (Wang Lixin, Li Yan, Lixin Wang), or a common English given name and a
    surname (Sarah Liu, David Miller): how staff, foreign patients and English-language records write names.

    Both words capitalised; in pinyin, one of the surnames of data/name_romanised.txt and a given name of one or
    two syllables, so English words that happen to be pinyin (China, Dining) still need a listed surname next to
    them. Pairs may overlap (Subject Chen Meiling: the second and third words are the name)."""
    text = scan.text
    if not has_capital(text):
        return
    surnames = _LX.pinyin_surnames
    pattern, pos = _romanised(), 0
    while (m := pattern.search(text, pos)) is not None:
        a, b = m.group("a"), m.group("b")
        pos = m.start("b")  # unless this pair is a name, the next may start at its second word
        if EPONYM_AFTER.match(text, m.end() + (text[m.end():m.end() + 1] == " ")):
            continue  # John Cunningham 病毒, Stevens Johnson 综合征: an eponym
        if m.group("en") is not None or (a in surnames and _pinyin_given(b)) or \
                (b in surnames and a is not None and len(a) >= 2 and _pinyin_given(a)) or \
                (text[:m.start()].rstrip(" :：\u3000").endswith(_person_labels()) and
                 not any(w.lower() in _LX.english_terms or w in _LX.allow
                         for w in m.group(0).replace("-", " ").split())):
            pos = m.end()
            yield m.start(), m.end(), 0.8  # (患者Aisha Khan: any two capitalised words right after a person label)
    for m in _ROMAN_CAPS.finditer(text):  # LI MING, ZHANG XIAOHONG: the passport and wristband form, pinyin only
        a, b = m.group(1).title(), m.group(2).title()
        if (a in surnames and _pinyin_given(b)) or (b in surnames and len(a) >= 2 and _pinyin_given(a)):
            yield m.start(), m.end(), 0.8
    for m in _CAPS_SURNAME.finditer(text):
        sur, given = m.group(1).title(), m.group(2).split()
        if any(w.lower() in _LX.english_terms or w in _LX.allow for w in given):
            continue
        if (sur in surnames and len(given) == 1 and _pinyin_given(given[0])) or \
                (sur in _LX.cantonese_surnames and all(len(w) <= 5 for w in given)):
            yield m.start(), m.end(), 0.8


# one author of a reference in Vancouver style: a surname (possibly two words, hyphenated or with an apostrophe)
# and the initials of the given names: Whitfield RT, O'Neil C, García-López MJ, Van Damme P, O'Brien D
_AUTHOR_SURNAME = r"(?:[OD][’']|Mc|Mac)?[A-Z][a-zà-ÿ]+(?:[-'’][A-Z]?[a-zà-ÿ]+)*"  # (O'Brien, D'Amico, McLean too)
_REF_AUTHOR = re.compile(rf"(?=[A-Z])(?<![A-Za-z])((?:{_AUTHOR_SURNAME} )?{_AUTHOR_SURNAME}) [A-Z]{{1,3}}(?![A-Za-z])")
_ET_AL = re.compile(r",?\s*(?:et al|等)")
_AUTHOR_SEP = re.compile(r",\s?")


def reference_authors(scan: _Scan) -> Iterator[Hit]:
    """The authors of a cited paper (Whitfield RT, Okonkwo C, Marchetti L, et al.): a run of two or more
    "Surname INITIALS" items separated by commas, or one before "et al"; not a run of English medical words
    (Hepatitis B, Type II, Stage IV are no authors: data/name_romanised.txt `not_names`)."""
    text = scan.text
    if ", " not in text and "et al" not in text and "等" not in text:
        return
    run: list[re.Match[str]] = []
    for m in [*_REF_AUTHOR.finditer(text), None]:
        if m is not None and run and _AUTHOR_SEP.fullmatch(text, run[-1].end(), m.start()):
            run.append(m)
            continue
        if run and (len({a.group(1) for a in run}) >= 2 or _ET_AL.match(text, run[-1].end())) and \
                not any(w.lower() in _LX.english_terms or w in _LX.allow
                        for a in run for w in re.split(r"[ \-]", a.group(1))):
            for a in run:
                yield a.start(), a.end(), 0.8
        run = [m] if m is not None else []


# a short Han run standing alone between spaces, tabs, table bars or list marks: a roster, a table cell, a list.
# Found from the characters that may open it (a fast scan for rare characters), not by trying every position.
_SPACED_OPEN = re.compile(r"[\s|｜]")
_SPACED = re.compile(r"([\u4e00-\u9fff]{2,3})(?=[ \t\u3000、，,；;|｜]|$|\n)")
_NUMBERED = re.compile(r"[0-9]\.")


def _spaced_runs(text: str) -> Iterator[re.Match[str]]:
    """The short Han runs that open the text or follow a space, a tab, a bar, a line break or a list number's
    `1. `, and end at a delimiter."""
    opens = [0] + [m.end() for m in _SPACED_OPEN.finditer(text)
                   if m.group() in " \t\u3000|｜\n" or _NUMBERED.fullmatch(text, m.start() - 2, m.start())]
    for p in opens:
        m = _SPACED.match(text, p)
        if m is not None:
            yield m


def spaced_name(scan: _Scan) -> Iterator[Hit]:
    """A name alone between spaces in a roster or a table (一线 时光明 二线 周立伟, 1. 毕淑贞 96岁): a surname, a
    given name of name-like characters, and no dictionary word (体温 正常, 诊断 高血压 stay)."""
    text = scan.text
    if not any(c in text for c in " \t\u3000|｜"):
        return
    for m in _spaced_runs(text):
        s, e = m.start(1), m.end(1)
        n_sur = _surname_len(text, s)
        word = text[s:e]
        if not n_sur or e - s - n_sur < 1 or (jieba.dt.FREQ.get(word) or 0) >= 5 or _allowed(text, s, e) or \
                word in _NOT_A_NAME or word in _STOP_WORD_SET:
            continue
        scores = [given_char_score(c) for c in word[n_sur:]]
        need = 1.5 if (n_sur == 1 and text[s] in _LX.weak_surnames) else 0.5
        if min(scores) >= -1.0 and sum(scores) / len(scores) >= need:
            yield s, e, 0.7


_MINORITY_BEFORE = frozenset("者妇士师生属人员手妻夫子女母父儿孙弟兄姐妹为是叫：:，,、（( \u3000\n\t|｜") | {""}


@cache
def _minority_parts_re() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """One name part, and where a run of parts starts (a lookahead, so runs may overlap) and how far it goes."""
    alts = "|".join(re.escape(p) for p in _LX.minority_name_parts)  # longest first, as the lexicon sorts them
    # parts may be joined by an interpunct, as Uyghur and Kazakh names are written (买买提·艾山)
    return re.compile(alts), re.compile(f"{starts(_LX.minority_name_parts)}(?=((?:{alts})(?:[·•]?(?:{alts}))*))")


def minority_name(scan: _Scan) -> Iterator[Hit]:
    """A name of China's minority peoples built from known name parts (乌云其木格, 拉巴次吉, 那仁格日勒; see
    data/name_minority_parts.txt), standing where a name stands: after a role, a kinship word, a label or a
    delimiter, and not running on into other Han text. Such names have no surname for the other rules."""
    text = scan.text
    one_part, runs = _minority_parts_re()
    done = 0
    for m in runs.finditer(text):
        i = m.start()
        if i < done or (text[i - 1:i] not in _MINORITY_BEFORE and not text.endswith(person_words(), 0, i)):
            continue  # (选手次仁多布, 消防员买合木提: after a person noun too)
        e, n_parts = i, 0
        run = m.group(1)
        for part in one_part.finditer(run):  # the parts of the run, while under 8 characters (and its dots)
            if part.start() - run.count("·", 0, part.start()) - run.count("•", 0, part.start()) >= 8:
                break
            e, n_parts = i + part.end(), n_parts + 1
        # one part alone may be a word (乌兰 the city, 阿曼 the country); two or more make a name (乌云其木格)
        if e - i >= 2 and not ("\u4e00" <= text[e:e + 1] <= "\u9fff" and not _rest_is_word(text, e)) \
                and (n_parts >= 2 or (jieba.dt.FREQ.get(text[i:e]) or 0) < 50) and not _allowed(text, i, e):
            yield i, e, 0.75
            done = e


# a name written with an interpunct between its parts, standing alone: after a delimiter or a person word and
# closed by one (约翰·史密斯，, 马哈木提·吐尔洪　男): transliterated and minority names are written so
_DOTTED = re.compile(r"(?<![\u4e00-\u9fff《])([\u4e00-\u9fff]{1,6}(?:[·•][\u4e00-\u9fff]{1,6}){1,2})"
                     r"(?=[，,、。；;：:（()）)\s！!？?]|$)")


def dotted_name(scan: _Scan) -> Iterator[Hit]:
    """A name with an interpunct (see _DOTTED), not in a book's title (《金匮要略·血痹》) and no protected word in
    its parts; a person word before it (丈夫约翰·史密斯，) is not part of it."""
    text = scan.text
    if "·" not in text and "•" not in text:
        return
    for m in _DOTTED.finditer(text):
        s, e = m.span(1)
        lead = next((w for w in person_words() if text.startswith(w, s) and text[s + len(w)] not in "·•"), "")
        s += len(lead)
        parts = re.split("[·•]", text[s:e])
        if max(map(len, parts)) < 2 or len(parts[0]) > 4 or \
                any(_LX.starts_with_allowed(p) or p in _STOP_WORD_SET for p in parts):
            continue  # (出自金匮要略·食治: a first part of five or more characters is a clause, not a name)
        yield s, e, 0.75


def _rest_is_word(text: str, e: int) -> bool:
    """What follows the name starts a dictionary word (协助, 陪护, 陪同): the name ends here."""
    return any((jieba.dt.FREQ.get(text[e:e + k]) or 0) >= 5 for k in (2, 3))


def colon_nr(scan: _Scan) -> Iterator[Hit]:
    """A name as the value of a role field not in the label lists: 审核者：王建军， / 责任人：刘洋。 / 主持人：吴刚。

    The field must end in a role character (者, 人, 师, 员 …) and jieba must tag the value a rare person name:
    大便：黄软 is not a name. Runs after the label rules and skips what they found (医师签名：张三)."""
    text = scan.text
    if ":" not in text and "：" not in text:
        return
    named = {sp.start for sp in scan.found if sp.entity_type == "PERSON"}
    for m in scan.p.colon.finditer(text):
        s, e = m.start("sur"), m.end("given")
        if s in named:
            continue  # a label rule already took it (医师签名：张三)
        colon = max(text.rfind(":", 0, s), text.rfind("：", 0, s))
        if text[colon - 1:colon] not in _ROLE_END:
            continue  # the field must name a role (主刀, 查房医师, 审核者): 大便：黄软 is not a name
        word, flag = tags(text[s:e])[0]
        if len(word) == e - s and flag.startswith("nr") and (jieba.dt.FREQ.get(word) or 0) < 50 and \
                not _allowed(text, s, e):
            yield s, e, 0.7


def demographic(scan: _Scan) -> Iterator[Hit]:
    """The 2-4 characters before a demographic tail: 张三，男，45岁 / 张三（女，30岁） / 姓名 张三 男 65岁.

    The classic opening of a Chinese note: whatever stands there is the patient's name, surname list or not, unless
    it is a role word (患儿，男，3岁) or a medical word. With only spaces before the tail it must start with a surname
    (内科门诊 男 45岁 is a clinic)."""
    text, lx = scan.text, _LX
    for m in scan.p.demographic.finditer(text):  # the tail (，男，45岁) first, then the name run before it
        e = m.start()
        s = e
        spaces = 0
        while s > 0 and e - s < 9:
            c = text[s - 1]
            if c == " " and spaces == 0 and s - 1 > 0 and "\u4e00" <= text[s - 2] <= "\u9fff":
                spaces = 1
            elif not ("\u4e00" <= c <= "\u9fff" or c == "·"):
                break
            s -= 1
        cand = text[s:e]
        # drop a leading label (患者张三 -> 张三), keep the last 2-4 characters that can be a name
        for lab in lx.strong_person_labels + lx.weak_person_labels:
            i = cand.rfind(lab)
            if i >= 0 and i + len(lab) < len(cand):
                s += i + len(lab)
                cand = cand[i + len(lab):]
                break
        while cand[:1] == " ":
            s += 1
            cand = cand[1:]
        limit = 5 if " " in cand else 4
        cut = len(cand) > limit
        if cut:
            s += len(cand) - (limit - 1)
            cand = cand[-(limit - 1):]
        if (m.group(0)[:1].isspace() or m.group(0)[:1] in "：:") and not _surname_len(text, s):
            continue  # "张三 男 65岁", "高峰：男，1978年" are names only when they start with a surname (not 内科门诊
            # 男 45岁, 诊断：女，2020年确诊)
        n_sur = _surname_len(cand, 0) if len(cand) > 2 else 0
        if len(cand.replace(" ", "")) < 2 or any(c in _HARD_STOP for c in cand[max(1, n_sur):]) or \
                _allowed(text, s, s + len(cand)) or cand in _NOT_A_NAME or cand[-2:] in _NOT_A_NAME:
            continue
        if cut and _word_before(text, s):
            continue  # 来自外地的务工人员，男，45岁: the cut to the last characters runs through a word
        yield s, s + len(cand), 0.8


_NAME_END = frozenset("，,。；;、：:（()）)\n\t 　!?！？0123456789") | {""}
# a field label ending in a role (签字人：, 收件人, 户名：, 转诊医生（签字）：, 检验者：): the value is a person
_ROLE_FIELD = re.compile(r"(?:姓名|名字|户名|签字|签名|签章|[\u4e00-\u9fff]{0,5}[" + "".join(sorted(_ROLE_END)) +
                         r"])(?:\s*[（(](?:签字|签名|签章|手签)[）)])?\s*[:：]\s*")
# a record line's author or a chat's speaker: 本记录由王芳于…, 由李医生审核, 用户张三（IP：…）, 我是张三的女儿
_AUTHOR = re.compile(r"(?:由|经由)(?=\S{2,4}?(?:于|在|录入|记录|书写|完成|审核|签发|执行|操作|核对|填写))"
                     r"|用户(?=\S{2,4}?[（(])|我是(?=\S{2,4}?的)|我叫|本人(?=\S{2,3}?[，,。])")
# a bed and the patient lying in it: 43床王建国，术后返回病房 / 12床 李秀英 今日拔管
_BED_NAME_END = frozenset("今昨晨夜术血|｜")  # 18床钱塘血钾2.6: a lab value may follow the patient's name
_BED_NAME = re.compile(r"(?<![0-9A-Za-z])(?:[A-Z]|\+)?\d{1,3}(?:号)?床\s*")


def _surname_name(text: str, i: int, closed_by: frozenset[str], allow_space: bool = False,
                  words_ok: bool = False) -> int:
    """End of a surname-first name of 2-4 characters at text[i] (one space inside allowed: 宁 书), closed by one
    of `closed_by`; 0 when there is none, or it is a protected medical word or a common dictionary word.

    words_ok: the slot says a person stands there (a role field, 复核人：), so a weak surname may start the name and
    an ordinary noun, adjective or place may be the name (原野, 黎明, 蓝天, 江南); still no verb, adverb or
    function word (同意, 何必), no protected medical word and no word that names the role instead (本人, 家属)."""
    n_sur = _surname_len(text, i)
    if not n_sur or (n_sur == 1 and text[i] in _LX.weak_surnames and not words_ok):
        return 0
    gap = 1 if allow_space and text[i + n_sur:i + n_sur + 1] in (" ", "\u3000") else 0
    longest = _given(text, i + n_sur + gap, 3 if n_sur == 2 else 2, strict=False)
    # the longest given name the closing set accepts: 姜甜已通知 is 姜甜 + 已, not 姜甜已
    n_given = next((n for n in range(longest, 0, -1) if text[i + n_sur + gap + n:i + n_sur + gap + n + 1]
                    in closed_by), 0)
    end = i + n_sur + gap + n_given
    if n_given == 0:
        return 0
    if _title_at(text, i + n_sur, end):
        return 0  # 王老师, 王医生: a surname and a title (surname_title's case), not a given name
    word = text[i:end].replace(" ", "")
    if _allowed(text, i, end) or word in _NOT_A_NAME or word in _STOP_WORD_SET or word in _KIN_OR_ROLE:
        return 0
    if (jieba.dt.FREQ.get(word) or 0) >= 50 and (not words_ok or _function_word(word)):
        return 0
    return end


def _function_word(word: str) -> bool:
    """jieba reads `word` as one verb, adverb, preposition, pronoun, number or function word (同意, 何必, 于是)."""
    pairs = tags(word, hmm=False)
    return len(pairs) != 1 or pairs[0][1] in _NOT_NAME_FLAGS


# a verb that appoints, elects or nominates people, then the names and 为 + the office: 聘任万向阳为财务总监,
# 提名强大伟、和平、过磊为董事候选人 (announcements and news)
_APPOINT = re.compile(r"(?:聘任|聘请|任命|选举|选聘|提名|推选|推举|委派|增补|补选)(?=[\u4e00-\u9fff·、]{2,40}?为)")
_APPOINTED_END = frozenset("、为")


def appointed(scan: _Scan) -> Iterator[Hit]:
    """The people an announcement appoints: each name between the verb and 为, separated by 、; names that are
    also words (万向阳, 和平) count, as in a role field."""
    text = scan.text
    for m in _APPOINT.finditer(text):
        i = m.end()
        while (end := _surname_name(text, i, _APPOINTED_END, words_ok=True)):
            yield i, end, 0.8
            if text[end] != "、":
                break
            i = end + 1


def role_field(scan: _Scan) -> Iterator[Hit]:
    """The value of any field whose label names a role, surname first: 签字人：赵志强, 收件人：孙丽华, 户名：周建平,
    检验者：马云飞, 转诊医生（签字）：林志远, 姓名：宁　书 (a full-width space between surname and given name).

    Forms and audit lines invent role labels freely, so the label is recognised by its last character (人, 者,
    员, 师, 生…) rather than from a list; the value must start with a surname and end at the field's end."""
    text = scan.text
    if ":" not in text and "：" not in text:
        return
    for m in _ROLE_FIELD.finditer(text):
        end = _surname_name(text, m.end(), _NAME_END, allow_space=True, words_ok=True) or \
            _whole_field_value(text, m.end())
        if end:
            yield m.end(), end, 0.85


# where a role field's value ends when the whole value is the name: the line, a full-width space (the next field
# of a sign-off line) or a tab; not a comma (医生：平卧，不要动 is a doctor speaking in a dialogue)
_FIELD_VALUE_END = frozenset("\n\t\u3000") | {""}


def _whole_field_value(text: str, i: int) -> int:
    """End of a role field's value that is a person although the name checks refuse it, because it fills the field
    to its end: a surname alone (医师：祁⏎, 随访人：廖) or a name that is also a herb or a place (器械护士：丁香,
    会诊医生：蒲公英, 上级医师：华山). Still no verb or function word (医生：同意), no weak surname alone, and no
    protected word unless jieba reads it as a name or a place."""
    n_sur = _surname_len(text, i)
    if not n_sur:
        return 0
    if text[i + n_sur:i + n_sur + 1] in _FIELD_VALUE_END:  # the surname alone
        return i + n_sur if n_sur == 2 or text[i] not in _LX.weak_surnames else 0
    n = next((k for k in (2, 1) if all("\u4e00" <= c <= "\u9fff" for c in text[i + n_sur:i + n_sur + k]) and
              i + n_sur + k <= len(text) and text[i + n_sur + k:i + n_sur + k + 1] in _FIELD_VALUE_END), 0)
    word = text[i:i + n_sur + n]
    if not n or word in _NOT_A_NAME or \
            word in _KIN_OR_ROLE or word in _STOP_WORD_SET or _function_word(word) or \
            _title_at(text, i + n_sur, i + n_sur + n):
        return 0
    if _allowed(text, i, i + n_sur + n) and tags(word, hmm=False)[0][1] not in ("nr", "ns"):
        return 0  # a protected word that jieba reads as a name or a place may be one here; 高血压 may not
    return i + n_sur + n


def _title_at(text: str, start: int, end: int) -> bool:
    """A title starts somewhere in text[start:end] (王医生: a surname and a title, not a given name)."""
    return any(text.startswith(t, k) for k in range(start, end) for t in _LX.titles)


def author(scan: _Scan) -> Iterator[Hit]:
    """A person named as the author of a record line or as a chat speaker: 本记录由何佳怡于…录入, 由王医生审核 (the
    surname only is left when a title follows), 用户杨帆（IP：…）, 我是黄美玲的女儿."""
    text = scan.text
    for m in _AUTHOR.finditer(text):
        end = _surname_name(text, m.end(), _NAME_END | frozenset("于在录记书完审签执操核填的"))
        if end:
            yield m.end(), end, 0.8


# a person named right after a word for their role or kinship, with no colon: 主刀欧阳振华，受检者屠晓光，由护工杭立国
#陪同, 投诉人麻建新称, 长女戈秀云、次子戈卫东, 妻彭翠兰. Role words are recognised by their last character (人, 者, 员,
# 师, 生, 士...; `name_role_end_chars.txt`) or are kinship words, like role_field's labels but without the colon.
# 护工, 交警, 保姆, 雇主, 司机, 房东, 老板, 经理, 书记, 会计, 保安; and a department: 胸外科孔令辉
_NOUN_ROLE_END = frozenset("工警姆主机东板理记计安科")
_ROLE_KIN = {k for k in _KIN | _W.colloquial_kinship if len(k) >= 2}
_ROLE_WORD = re.compile(r"(?:" + starts(_ROLE_KIN) + "(?:" +
                        "|".join(sorted((re.escape(k) for k in _ROLE_KIN), key=len, reverse=True)) +
                        r")|[\u4e00-\u9fff]{1,4}[" + "".join(sorted(_ROLE_END | _NOUN_ROLE_END)) + r"])[ \u3000]?")
# what may follow the name in a clause: a delimiter, or a verb or preposition that starts the rest of it
_AFTER_ROLE_NAME = _NAME_END | frozenset("称述诉说讲在也已陪随来于的之向给与及和等均今昨曾将从到被把对住系去回送带处")


_NOUN_ONLY_END = frozenset("主姆警工")  # 雇主 and 户主 end no verb, though jieba tags 雇主 as one
_NOT_ROLE_TAGS = frozenset(("v", "vn", "vd", "c", "d", "r", "p", "a", "an", "ad", "u", "m", "q", "f"))


def _frequent(word: str) -> bool:
    return (jieba.dt.FREQ.get(word) or 0) >= 50


# a field whose label is the act a person signs for: 检验：庞丽, 交接：蒙丹, 调配：葛小川, 参加抢救：牛犇、许嘉文
_ACT_FIELD = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{0,2}[\u4e00-\u9fff]{2})\s*[:：]\s*")
_FIELD_END = frozenset("，,。；;、\n\t 　（(") | {""}


def act_field(scan: _Scan) -> Iterator[Hit]:
    """The value of a field labelled with an act (a verb: 检验, 交接, 记录, 调配, 核对, 抢救, 会诊) when it is a
    surname-first name that fills the field, and the names listed after it (、): the person who did the act.
    Labels that are nouns (诊断：, 主诉：) are left to the other rules; the value must not be a dictionary word."""
    text = scan.text
    if ":" not in text and "：" not in text:
        return
    for m in _ACT_FIELD.finditer(text):
        label = m.group(1)
        if tags(label[-2:], hmm=False)[-1:][0][1] not in ("v", "vn") or label[-2:] in _STOP_WORD_SET:
            continue
        start = m.end()
        while start < len(text):
            end = _surname_name(text, start, _FIELD_END | frozenset("医护主教副"), allow_space=True)
            if not end:
                break
            yield start, end, 0.75
            if text[end:end + 1] != "、":
                break
            start = end + 1


# roles whose holder is named right after them in records and forms (受理人, 检验者, 药师, 户名), and the words
# with those endings that name no functionary (患者, 本人, 人员)
_FUNCTIONARY_END = frozenset("人者员师士名")
_NOT_FUNCTIONARY = frozenset(("患者", "病人", "本人", "他人", "家人", "老人", "别人", "个人", "成人", "病员", "伤员",
                              "人员", "学员", "会员", "成员", "动员", "全员", "大人", "女士", "男士", "护士", "学者",
                              "作者", "读者", "姓名", "病名", "排名", "报名", "签名", "署名", "命名", "名名"))
_HARD_CLOSE = frozenset("，,。；;、（(\n") | {""}


def role_noun(scan: _Scan) -> Iterator[Hit]:
    """The person right after a role or kinship word (see _ROLE_WORD): the name must start with a surname, be no
    dictionary word, and end the clause or meet its verb. Without a colon the slot is weaker than role_field's,
    so the role must not be a verb or a function word (发生, 或者, 卫生: jieba's tag of its last two characters),
    and the name must not make a word with its neighbours or with itself (任何, 常存在, 呼吸时)."""
    text = scan.text
    for m in _ROLE_WORD.finditer(text):
        role = m.group(0).strip(" \u3000")
        start = m.end()
        end = _surname_name(text, start, _AFTER_ROLE_NAME, allow_space=True)
        if not end and role[-1] in _FUNCTIONARY_END and role[-2:] not in _NOT_FUNCTIONARY:
            # 受理人严冬，: after a functionary's role, a name that is a noun or an adjective, closed by punctuation
            # (not a function word: 复核人何必。 stays, a known gap)
            end = _surname_name(text, start, _HARD_CLOSE, allow_space=True, words_ok=True)
        if not end:
            continue
        tail = tags(role[-2:], hmm=False)
        if len(tail) == 1 and tail[0][1] in _NOT_ROLE_TAGS and role not in _ROLE_KIN and \
                role[-1] not in _NOUN_ONLY_END:
            continue
        if _frequent(role[-1] + text[start]) or _frequent(text[end - 1:end + 1]):
            continue
        if end - start >= 3 and _surname_len(text, start) == 1 and _frequent(text[start:start + 2]):
            continue  # 自主呼吸时: 呼吸 is a word, not a surname and a given name
        if _adverb_then_verb(text, start, end) or role[-2:] in _NOT_PERSON_ROLE_WORDS:
            continue
        yield start, end, 0.75


# words that end in a role's last character and name no person: 花生米大小 is no 米 after a 花生
_NOT_PERSON_ROLE_WORDS = frozenset(("花生", "卫生", "发生", "产生", "再生", "寄生", "共生", "派生", "衍生", "滋生",
                                    "伴生", "原生", "野生", "天生", "人生", "民生", "养生", "两者", "前者", "后者",
                                    "三者", "或者", "白人", "老人", "他人", "别人"))


def _adverb_then_verb(text: str, start: int, end: int) -> bool:
    """The candidate opens with an adverb that is also a surname and goes on with a verb or an adverb (两者都有,
    后者常继发, 患者曾就诊, 怀疑者应复查): a clause, not a name (收款人高明, 患者曾小明 stay names)."""
    if text[start] not in _LX.names.adverb_surnames and text[start] != "曾":
        return False
    rest = tags(text[start + 1:end + 2], hmm=False)
    return bool(rest) and rest[0][1].startswith(("v", "d"))


def bed_name(scan: _Scan) -> Iterator[Hit]:
    """The patient named right after a bed number in ward notes: 43床王建国，术后返回病房 / 12床 李秀英 今日拔管.
    The bed says a patient is named there, so the name may be an ordinary word (12床金山，肝硬化)."""
    text = scan.text
    if "床" not in text:
        return
    for m in _BED_NAME.finditer(text):
        end = _surname_name(text, m.end(), _NAME_END | _STOP | _BED_NAME_END, words_ok=True)
        if end:
            yield m.end(), end, 0.8


# a school class and its pupil, as school clinics and notices write them: 三(2)班何必 发热, 初二（3）班上官晓婉，
# 高二（1）班：司徒嘉怡 (the grade, the class number in brackets, 班)
_CLASS_BEFORE = re.compile(r"(?:[初高][一二三]|[一二三四五六七八九]年级|大[一二三四五]|[一二三四五六])[ \t\u3000]*"
                          r"[（(][ \t\u3000]*(?:\d{1,2}|[一二三四五六七八九十]{1,2})[ \t\u3000]*[）)][ \t\u3000]*班"
                          r"[ \t\u3000]*[:：]?[ \t\u3000]*")


def class_name(scan: _Scan) -> Iterator[Hit]:
    """A pupil named right after the class, as a bed number names a patient: 三(2)班何必 咳嗽, 初一（1）班江南，."""
    text = scan.text
    if "班" not in text:
        return
    for m in _CLASS_BEFORE.finditer(text):
        end = _surname_name(text, m.end(), _NAME_END | _STOP, words_ok=True)
        if end:
            yield m.end(), end, 0.8


# a child's or a friend's called name: 小名叫乐乐, 乳名：豆豆, 宝宝叫朵朵 (a doubled character after 叫 is a name)
_CALLED = re.compile(starts(["小名", "乳名", "昵称", "外号", "绰号", "叫", "自称", *_KIN, *_W.colloquial_kinship]) +
                     r"(?:(?:小名|乳名|昵称|外号|绰号)(?:是|叫)?\s*[:：]?\s*"
                     r"(?P<n1>[\u4e00-\u9fff]{2,3})(?=[，,。；;、！!？?\s）)]|$)"
                     r"|(?:叫[他她我]?|自称|小名|乳名|昵称|外号|绰号|"
                     + "|".join(sorted(map(re.escape, _KIN | _W.colloquial_kinship), key=len, reverse=True)) +
                     r")[:：]?[\"“「『](?P<n3>[\u4e00-\u9fff]{2,3})[\"”」』]"
                     r"|叫(?P<n2>(?P<c>[\u4e00-\u9fff])(?P=c))(?![\u4e00-\u9fff]))")


def called_name(scan: _Scan) -> Iterator[Hit]:
    """A pet name or nickname after the word that introduces it (小名叫乐乐, 乳名：豆豆), a quoted name after 叫,
    自称 or a kinship word (自称“老五”, 老伴“秀珍”), or a doubled character after 叫 (宝宝叫朵朵): what children
    and friends are called identifies them as well as a full name."""
    text = scan.text
    if "叫" not in text and "名" not in text and "号" not in text and "称" not in text and \
            not any(q in text for q in "\"“「『"):
        return
    for m in _CALLED.finditer(text):
        g = "n1" if m.group("n1") else "n3" if m.group("n3") else "n2"
        s, e = m.start(g), m.end(g)
        if g == "n3" and not (text[s] in "小老阿大" or text[s] == text[s + 1] or sibling_name(text[s:e]) or
                              given_name_alone(text[s:e])):
            continue  # 就叫“低血压”: a term in quotes; a quoted name is 小/老/阿/大 + …, doubled, or name-shaped
        if not _allowed(text, s, e) and text[s:e] not in _NOT_A_NAME:
            yield s, e, 0.8


# a directory line: a department or a role, its colon, a name and a phone number (外科：宁远 135 0842 2219)
_NAME_PHONE = re.compile(r"(?<=[:：])[ \t\u3000]*(?P<n>[\u4e00-\u9fff]{2,4})[ \t\u3000]+"
                         r"(?=(?:\+?86[ \-]?)?1[3-9]\d[ \-]?\d{4}[ \-]?\d{4}(?!\d)"
                         r"|0\d{2,3}[ \-]?\d{3,4}[ \-]?\d{4}(?!\d))")
_PHONE_WORDS = frozenset(("手机", "座机", "电话", "固话", "微信", "传真", "分机", "短号", "号码", "本人", "家属"))


def phone_directory(scan: _Scan) -> Iterator[Hit]:
    """The name before a phone number in a directory or contact line (值班：夏至 158 7421 2219): surname first, a
    word or not, as a roster's names are; not the phone's own label (手机 138…)."""
    text = scan.text
    if ":" not in text and "：" not in text:
        return
    for m in _NAME_PHONE.finditer(text):
        value = m.group("n")
        if value not in _PHONE_WORDS and sibling_name(value, lax=True):
            yield m.start("n"), m.end("n"), 0.75


# a letter's or a post's signature: a dash, then the writer's name closing the line (谢谢大家！——秀英)
_SIGNED = re.compile(r"(?:——|—|--)[ \t\u3000]*(?P<n>[\u4e00-\u9fff]{2,4})[ \t\u3000]*(?=\n|$)")


def signed_name(scan: _Scan) -> Iterator[Hit]:
    """The writer's name after a dash at the end of a line (——秀英, —— 欧阳立): a surname-first name or a given name
    alone; a dash before a word (——完, ——摘自) is no signature."""
    text = scan.text
    if "—" not in text and "--" not in text:
        return
    for m in _SIGNED.finditer(text):
        value = m.group("n")
        if (sibling_name(value) or given_name_alone(value)) and value not in _STOP_WORD_SET:
            yield m.start("n"), m.end("n"), 0.8


# a child's doubled name (糖糖, 诺诺) where a child or a parent is spoken of: 我家糖糖8个月, 诺诺妈妈请联系…
_KID_WORDS = ("我们家", "我家", "孩子", "女儿", "儿子", "小孩", "闺女", "外孙", "孙子", "孙女", "患儿")
_PARENT_WORDS = ("妈妈", "爸爸", "奶奶", "爷爷", "姥姥", "姥爷", "外婆", "外公", "家长", "妈", "爸")
_DOUBLED = re.compile(f"(?:(?P<kid>{'|'.join(_KID_WORDS)})叫?)?(?P<n>(?P<c>[\u4e00-\u9fff])(?P=c))"
                      f"(?P<parent>的?(?:{'|'.join(_PARENT_WORDS)}))?")
_DOUBLED_MAX_FREQ = 100  # 天天, 慢慢, 星星, 点点: words; 糖糖, 诺诺, 乐乐: names


def doubled_name(scan: _Scan) -> Iterator[Hit]:
    """A child's doubled name (叠字名: 糖糖, 诺诺, 凯凯) after a word for one's child (我家糖糖8个月) or before a
    parent (诺诺妈妈): parents' posts and school or ward notes call children so. Doubled words (天天, 慢慢) stay."""
    text = scan.text
    if not any(w in text for w in (*_KID_WORDS, *_PARENT_WORDS)):
        return
    for m in _DOUBLED.finditer(text):
        if not (m.group("kid") or m.group("parent")):
            continue
        s, e = m.start("n"), m.end("n")
        if (jieba.dt.FREQ.get(text[s:e]) or 0) < _DOUBLED_MAX_FREQ and not _allowed(text, s, e):
            yield s, e, 0.8


# a surname followed by its mask: 张某, 李某某, 王XX, 赵**, 欧阳某 (the forms `masked` and the *_mou rules find)
_MASKED = re.compile(r"^[\u4e00-\u9fff]{1,2}(?:某某?|[Xx×*＊Ｘｘ○〇]{1,3})$")


def is_masked_name(span: Span, text: str) -> bool:
    """A PERSON span found on bare text that is an already masked name with one of the 100 commonest surnames (see
    DeidConfig.keep_masked_names). A rare or compound surname (訾某, 万俟某某) narrows the person down too far and is
    never kept; nor is the record's own patient (source `record`: the record says whose surname it is)."""
    return span.entity_type == "PERSON" and span.source != "record" and masked_common(text[span.start:span.end])


def masked_common(value: str) -> bool:
    """`value` is a masked name (张某, 李XX) whose surname is one of the 100 commonest, a single character."""
    return _MASKED.match(value) is not None and value[0] in _LX.common_surnames and _surname_len(value, 0) == 1


Rule = Callable[[_Scan], Iterator[Hit]]
# The order matters: colon_nr reads what the earlier rules found, and the label_* rules settle each label slot in
# turn (the first that claims a slot ends it for the later ones).
RULES: tuple[Rule, ...] = (
    kin_status, clause_start, masked, surname_xing, paren_kin, escort, lao_surname, clinic_of, surname_mou,
    surname_title, label_paren, label_nr, label_mou, label_weak, label_surname, label_form, label_spaced, en_title,
    english_given, en_label_name, romanised_name, reference_authors, colon_nr, demographic, appointed, role_field,
    author, bed_name, class_name, role_noun, act_field, spaced_name, minority_name, dotted_name, called_name,
    doubled_name, signed_name, phone_directory,
)
RULE_NAMES: tuple[str, ...] = tuple(rule.__name__ for rule in RULES)  # the values of Span.source


def detect_names(text: str) -> list[Span]:
    """PERSON spans of one text; each span's `source` is the name of the rule that found it (see RULES)."""
    scan = _Scan(text)  # (its _patterns() call loads jieba's dictionary and tagger before any rule reads them)
    found = scan.found
    for rule in RULES:
        for s, e, score in rule(scan):
            found.append(Span(s, e, "PERSON", score, rule.__name__))
    return found
