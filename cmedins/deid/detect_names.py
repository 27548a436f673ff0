"""Person names: patients, relatives, doctors.

A surname list alone would redact 白芍, 高血压 and 史密斯骨折, so a name needs evidence besides its surname:
  * a title or 某 after the surname (张先生, 李某某, 王主任), checked against jieba's word boundaries (值班医生 is
    not 班医生);
  * a label before it (姓名：, 医师签名：, 患者, 其父, 家属); after a form label (with a colon) any 2-4 characters
    are taken even with no surname-list hit, after a loose label (患者, 其母) the candidate must begin with a surname
    and jieba must not read it as an ordinary word (患者陈述, 患者高热);
  * a demographic tail (张三，男，45岁 / 张三（女，30岁）), the classic opening of a Chinese note, surname or not.
Candidates that are, or start with, a protected medical word (allow_list.txt) are dropped.
"""

from __future__ import annotations

import re
from functools import cache

import jieba

from cmedins.deid.lexicon import lexicon
from cmedins.deid.postags import tags
from cmedins.deid.spans import Span

jieba.setLogLevel(60)

HAN = "\u4e00-\u9fff"
# characters that end a name: function words and clinical verbs that typically follow one
_STOP = set("因于在以自诉今入出经行无有为是的等及和与之年岁日男女性患病主述反复发现术后前近伴咳胸腹头腰肺肝肾血尿便"
            "不未已曾再就到去至被突也都均即遂既仍又还但而则且对给把将从由按查服用予做诊住转送陪带说称告知签字"
            "系属其该此每各共约余多少许并或")
# kinship words: what follows them is very often a name (配偶许纨, 外甥闫善言)
_KIN = frozenset(
    "其父 其母 其子 其女 其妻 其夫 父亲 母亲 丈夫 妻子 爱人 配偶 老伴 "
    "儿子 女儿 儿媳 女婿 哥哥 姐姐 弟弟 妹妹 孙子 孙女 外孙 外孙女 侄子 "
    "外甥 外甥女 侄女 表哥 表姐 表弟 表妹 堂兄 堂弟 堂姐 堂妹 岳父 岳母 "
    "公公 婆婆 继父 继母 养父 养母 姑姑 姑妈 姨妈 舅舅 叔叔 伯父 伯母 "
    "祖父 祖母 外婆 外公 奶奶 爷爷 兄长 胞兄 胞弟 胞姐 胞妹 老公 老婆 "
    "前妻 前夫 长子 长女 次女 其兄 其姐 其弟 其妹 其女儿 其儿子 "
    "其父亲 其母亲 其丈夫 其妻子 其配偶 其爱人 其哥哥 其姐姐 其弟弟 其妹妹 "
    "其孙子 其孙女 其外甥 同事 邻居 朋友 同学 室友 好友 "
    .split()
)
_PLACE_AFTER_MOU = set("医院卫诊科处地市县区省镇乡村单公厂校大中小肿妇保社门体") | {""} - {""}
_SEP_CAND = re.compile(r"(?P<sep>\s*[:：（()）]?\s*(?:为|是|叫|名叫|名为)?\s*)(?P<cand>[\u4e00-\u9fff·•]{1,5})")
# a form label written with spaces inside (姓 名：), and an English name after a title (Dr. Wang, Mr. Li)
_SPACED_NAME = re.compile(r"姓[ \t　]+名\s*[:：]?\s*(?P<cand>[\u4e00-\u9fff·]{2,4})")
_EN_NAME = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Prof|Dr\.)\.?\s+(?P<cand>[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)?)")
_PAREN_NAME = re.compile(r"([\u4e00-\u9fff·]{2,4})\s*[）)]")
_DEPT_CHARS = set("科院医诊部区室")
# care roles: the word after them is very often the person (护士方融已交代, 主任李明查房)
_ROLES = frozenset("护士 护士长 责任护士 医生 医师 大夫 主任 教授 上级医师 主治医师 住院医师 主任医师 经治医师".split())
_AFTER_NAME = set("患体已陪送因于在诉现曾均亦也，,。；;、（(") | {""}
# words that open a note in the name's place (患儿，男，3岁): a role, not a name
_NOT_A_NAME = frozenset(
    "患者 病人 患儿 病员 男孩 女孩 男童 女童 男婴 女婴 婴儿 新生儿 孕妇 产妇 老人 "
    "老年 本人 该患 伤者 家属 儿童 幼儿 学生 先生 女士 同志 小孩 宝宝 该男 该女".split()
)
_MOU_WORDS = set("些种个天日时处地项次位一样类年月")
_DELIMS = set("，,。；;：:、（()）)\n\t 　!?！？")
_HARD_STOP = set("因于在诉的等及与系为是")
_NOT_NAME_FLAGS = frozenset(("v", "vd", "vn", "d", "p", "c", "u", "f", "r", "m", "q", "ad", "uj", "ul", "zg"))
_STOP_WORDS = tuple(
    "性别 年龄 出生 民族 职业 住址 电话 婚姻 籍贯 科室 床号 住院 门诊 入院 "
    "日期 签名 患者 病人 主诉 现病 既往 身份 联系 地址 医生 医师 护士 家属".split()
)
_STOP_WORD_SET = frozenset(_STOP_WORDS)  # all two characters long
# characters that show a weak surname (于) is a preposition, not a name: 于今年, 于当地, 于我院, 于家中
_NOT_GIVEN = set("今昨前当本此次外我该院家某年月日时上下中后门急病医科室内期间晨晚夜午其之这那他她它们")
# after a kinship word or role and a name: 配偶于瑗馥体健, 兄长于秀兰陪同, 上级医师 于行勇；
_AFTER_KIN_NAME = _AFTER_NAME | set("体健患陪送已代去死")
# the verbs and connectives that follow a name opening a clause (张三诉头痛, 刘梅因咳嗽来诊, 黄建平自述…)
_CLAUSE_VERBS = ("自诉 自述 代诉 主诉 诉 述 主因 因 于 自 来 入院 今 昨 近 曾 既往 患 反复 出现 发现 突发 突感 自觉 感 "
                 "平素 无明显 无诱因 服用").split()
# surnames that open clauses far more often as adverbs (常呈现, 都存在, 易执行, 全身): never a clause-start name
_ADVERB_SURNAMES = frozenset(
    "常都易时全多少单双仍还亦均并另共总再高低长久初先后原又且才正偏"
    "极最更越颇甚尚较过太可能应该须欲将把被从向对与和同及经由自于在"
    "为以因按照凭据随沿顺"
)
# kinship characters before a parenthesised name in a family history: 父（张志强）, 母（李桂兰）
_KIN_CHARS = set("父母兄弟姐妹子女夫妻偶孙侄甥婆公爷奶舅姨姑叔伯嫂媳婿")
# last character of a field label that names a person's role (主刀, 查房医师, 审核者, 护士, 联系人, 一助)
_ROLE_END = set("师生者士人员刀助长任授夫")
# cheap gates: the surname-first patterns are tried at every position, so run them only when their anchor is there
_ESCORT_GATE = re.compile("陪同|陪伴|陪诊|送入|送来|送至|送院|护送|代诉|搀扶")
_MASK_GATE = re.compile("[Xx×*＊Ｘｘ○〇]")
_KIN_OR_ROLE = _KIN | _NOT_A_NAME | frozenset("患者之女 患者之子 患者之妻 患者之夫 本人 夫妻 父子 母子 父女 母女 配偶"
                                               .split())
_PAREN_AFTER = ("体健", "健在", "已故", "去世", "病故", "死于", "患", "因", "有")
_DEMOGRAPHIC = re.compile(r"\s*(?:[，,、;；]\s*|[（(]\s*|[ \t　]+)(?:性别\s*[:：]?\s*)?[男女](?:性)?"
                          r"(?:\s*[，,、]\s*|[ \t　]+)"
                          r"(?:年龄\s*[:：]?\s*)?\d{1,3}\s*(?:岁|月|个月|天|日|周)")


@cache
def _regexes() -> tuple[re.Pattern[str], ...]:
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
    title_re = re.compile(titles)
    labels = "|".join(re.escape(w) for w in sorted(set(lx.strong_person_labels) | set(lx.weak_person_labels) | _KIN,
                                                     key=lambda w: (-len(w), w)))
    label_re = re.compile(labels)
    refer_re = re.compile(f"(?<=[于至到挂找请随])(?=(?P<sur>{sur})(?P<given>[{HAN}]{{1,2}}?)"
                          "(?:处(?![理置方于])|门诊|专家门诊|诊室|专家))")
    old_re = re.compile(f"(?:(?<![{HAN}])|(?<=患者)|(?<=病人)|(?<=患儿))(?P<p>老)(?P<sur>{sur})"
                        "(?=[，,、。；;\\s]|因|于|诉|自|今|近|来|入|男|女)")
    escort_re = re.compile(f"(?P<sur>{sur})(?P<given>[{HAN}]{{1,2}}?)"
                           "(?=陪同|陪伴|陪诊|送入|送来|送至|送院|护送|代诉|搀扶)")
    demo_re = re.compile(_DEMOGRAPHIC.pattern.replace("\\s*(?:", "(?:", 1))
    verbs = "|".join(sorted(_CLAUSE_VERBS, key=lambda w: (-len(w), w)))
    clause_re = re.compile(f"(?:^|(?<=[。；;！!？?\\n\\r\\t ：:，,]))(?P<sur>{sur})"
                           f"(?P<given>[{HAN}]{{1,2}}?)(?={verbs})")
    masked_re = re.compile(f"(?P<sur>{sur})(?P<mask>[Xx×*＊Ｘｘ○〇]{{1,3}})(?![A-Za-z0-9])")
    xing_re = re.compile(f"(?<![{HAN}])(?P<sur>{sur})姓(?=患者|病人|患儿|病员|男|女|老|先生|女士|同志|家属|[，,、])")
    paren_re = re.compile(f"[（(](?P<sur>{sur})(?P<given>[{HAN}]{{1,2}})[）)]")
    kin_chars = "".join(sorted(_KIN_CHARS))
    kin_status_re = re.compile(f"(?<=[{kin_chars}])(?P<sur>{sur})(?P<given>[{HAN}]{{1,2}}?)"
                               "(?=体健|已故|健在|去世|病故|陪同|陪伴)")
    colon_re = re.compile(f"(?<=[:：])\\s*(?P<sur>{sur})(?P<given>[{HAN}]{{1,2}})(?=[。；;，,、\\s]|$)")
    return (title_re, label_re, demo_re, refer_re, old_re, escort_re, clause_re, masked_re, xing_re, paren_re,
            kin_status_re, colon_re)


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


def _weak_given_ok(text: str, i: int) -> bool:
    """After a kinship word or a marked label, a weak surname (于, 向) starts a name when jieba reads what follows
    as a name or a noun (配偶于叶寒), not as time, place or kin (于今年, 于当地, 和母亲)."""
    tg = tags(text[i:i + 4])
    if not tg:
        return False
    word, flag = tg[0]
    return (flag.startswith("nr") or flag in ("n", "nz", "ng")) and word not in _KIN and \
        not any(c in _STOP for c in word)


# surnames that are also prepositions: before a common word and a title they are the preposition (向主管医生)
_PREP_SURNAMES = frozenset("向和对与将被给把从")
# words that make a title a role, not a name (原主诊教授, 该主治医师, 其经治医生)
_ROLE_PREFIXES = frozenset(
    "主诊 主治 经治 管床 主管 经管 值班 上级 下级 床位 责任 接诊 会诊 "
    "首诊 门诊 急诊 病房 科室 本科 带组 组长 分管".split())
_PRO_TITLES = frozenset("医生 医师 大夫 主任医师 副主任医师 主治医师 住院医师 主任 教授 护士长 护士 院长 科长".split())


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
    """The character before `start` and the surname form a common word (值班医生, 主管医生): no name there."""
    if start == 0:
        return False
    return (jieba.dt.FREQ.get(text[start - 1:start + 1]) or 0) >= 25


def _allowed(text: str, start: int, end: int) -> bool:
    """A protected medical word starts at `start` and covers the candidate (其父高血压: 高血压 is not 高 + 血压;
    but 苏叶芬 is a name although 苏叶 is a herb)."""
    lx = lexicon()
    return any(text[start:start + k] in lx.allow for k in lx.allow_lengths if k >= end - start)


def detect_names(text: str) -> list[Span]:
    """PERSON spans of one text."""
    out: list[Span] = []
    (title_re, label_re, demo_re, refer_re, old_re, escort_re, clause_re, masked_re, xing_re, paren_re,
     kin_status_re, colon_re) = _regexes()
    lx = lexicon()
    for m in kin_status_re.finditer(text):  # 父张志强已故, 母李桂兰体健: a relative's name before a status
        s, e = m.start("sur"), m.end("given")
        weak = len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames
        if (weak and any(c in _NOT_GIVEN for c in m.group("given"))) or _allowed(text, s, e) or \
                any(c in _HARD_STOP for c in m.group("given")) or (jieba.dt.FREQ.get(text[s:e]) or 0) >= 20:
            continue
        out.append(Span(s, e, "PERSON", 0.8, "kin_status"))
    for m in clause_re.finditer(text):  # 张三诉头痛 / 刘梅因咳嗽来诊: a name opening a clause
        s, e = m.start("sur"), m.end("given")
        if len(m.group("sur")) == 1 and (m.group("sur") in lx.weak_surnames or m.group("sur") in _ADVERB_SURNAMES):
            continue
        if any(c in _STOP or c == "某" for c in m.group("given")) or _allowed(text, s, e) or \
                text[s:e] in _NOT_A_NAME or text[s:e] in _STOP_WORD_SET:
            continue
        if (jieba.dt.FREQ.get(text[s:e]) or 0) >= 20 or not _clause_name(text, s, e):
            continue
        out.append(Span(s, e, "PERSON", 0.75, "clause_start"))
    for m in (masked_re.finditer(text) if _MASK_GATE.search(text) else ()):  # 家属张XX: the surname identifies
        s = m.start()
        if len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames:
            continue  # 患者于**复查: a masked place after a preposition
        prev, nxt = text[s - 1:s], text[m.end():m.end() + 1]
        if ("\u4e00" <= prev <= "\u9fff" and not text[:s].endswith(_role_words_tuple())) or \
                (prev.isascii() and prev.isalnum()) or nxt in _PLACE_AFTER_MOU or nxt in ("*", "＊"):
            continue  # 肛周**, 患者于**医院: a masked place or a word, not a masked name
        out.append(Span(s, m.end(), "PERSON", 0.85, "masked"))
    for m in (xing_re.finditer(text) if "姓" in text else ()):  # 陈姓患者
        if not (len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames):
            out.append(Span(m.start(), m.end(), "PERSON", 0.8, "surname_xing"))
    for m in paren_re.finditer(text):  # 父（张志强）因肝癌去世, 母（李桂兰）健在
        s, e = m.start("sur"), m.end("given")
        kin_before = m.start() > 0 and text[m.start() - 1] in _KIN_CHARS
        if not kin_before and not text.startswith(_PAREN_AFTER, m.end()):
            continue
        if (len(m.group("sur")) == 1 and m.group("sur") in lx.weak_surnames and any(c in _NOT_GIVEN
                                                                                   for c in m.group("given"))) \
                or _allowed(text, s, e) or text[s:e] in _NOT_A_NAME:
            continue
        out.append(Span(s, e, "PERSON", 0.8, "paren_kin"))
    for m in (escort_re.finditer(text) if _ESCORT_GATE.search(text) else ()):  # 由兄长武和陪同: the escort
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
        out.append(Span(s, e, "PERSON", 0.8, "escort"))
    for m in (old_re.finditer(text) if "老" in text else ()):  # 老梁，… / 小王因…: colloquial surname-only names
        after = text[m.end():m.end() + 1]
        if m.group("sur") in lx.weak_surnames and (m.group("p") == "小" or after not in "，,、。；; "):
            continue  # 小时, 小于
        out.append(Span(m.start(), m.end(), "PERSON", 0.8, "lao_surname"))
    for m in refer_re.finditer(text):  # 至向辰处复查, 挂孔珊菊门诊: a person's clinic
        s, e = m.start("sur"), m.end("given")
        given = m.group("given")
        if _given(text, m.end("sur"), 2, strict=False) >= len(given) and not _allowed(text, s, e) and \
                not any(c in _DEPT_CHARS for c in text[s:e]):
            out.append(Span(s, e, "PERSON", 0.75, "clinic_of"))
    for m in title_re.finditer(text):
        t, end, title = m.start(), m.end(), m.group(0)
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
                if _allowed(text, s, end) or any(text[s - k:end] in _role_words() for k in (0, 1, 2) if s >= k):
                    continue  # 管床医生 is a role
                if title.startswith("某"):
                    if text[end:end + 1] in _MOU_WORDS or (given and _given(text, s + sl, 2) < len(given)):
                        continue  # 常由某些药物, 某种, 某天: 某 as "some"
                    if given == "" or _boundary_ok(text, s):
                        out.append(Span(s, end, "PERSON", 0.9, "surname_mou"))
                    continue
                if sur in _PREP_SURNAMES and len(given) == 2 and (jieba.dt.FREQ.get(given) or 0) >= 100:
                    continue  # 向主管医生: a preposition, then a common word (but 邵国庆主任, 向建军医生 are names)
                if _word_before(text, s) and text[s - 1] not in "于至到挂找请随由经":
                    continue  # 值班医生, 包皮手术医生: the surname character ends a word
                clinic = s > 0 and text[s - 1] in "挂至找请" and title in _PRO_TITLES and \
                    text.startswith(("门诊", "处", "专家", "诊室"), end)  # 挂高中主任医师门诊: a name, whatever word
                if given and sl == 1 and not clinic and \
                        not _reads_as_name(text, s, t, lenient=True, unknown_only=True):
                    continue  # (the jieba check last: it is the expensive one)
                out.append(Span(s, end, "PERSON", 0.85, "surname_title"))
    for lm in label_re.finditer(text):
        m = _SEP_CAND.match(text, lm.end())
        if m is None:
            continue
        label = lm.group(0)
        cs = m.start("cand")
        # a form field (姓名：, 签名, 医师: ...) takes any characters; a role word (主治医师, 患者) needs a surname
        is_strong = any(c in m.group("sep") for c in ":：") or "姓名" in label or label == "名字"
        marked = is_strong or any(c in m.group("sep") for c in " （(")  # 其父（张三）, 上级医师 顾家龙
        n_sur = _surname_len(text, cs)
        if "（" in m.group("sep") or "(" in m.group("sep"):
            pm = _PAREN_NAME.match(text, cs)
            if pm and pm.group(1) in _KIN_OR_ROLE:
                continue  # 患者家属（儿子）王强: the bracket names the relation; the kinship label finds the name
            if pm and not _allowed(text, cs, pm.end(1)):  # 父亲（许行翰）
                out.append(Span(cs, pm.end(1), "PERSON", 0.85, "label_paren"))
                continue
        nxt = cs + n_sur + _given(text, cs + n_sur, 2)
        if n_sur and not (n_sur == 1 and text[cs] in lx.weak_surnames) and nxt < len(text) and \
                "\u4e00" <= text[nxt] <= "\u9fff" and text[nxt] not in _HARD_STOP and nxt - cs < 3:
            # the name may go on past a stop character (姚以翔): ask jieba, only in that case
            tg = tags(text[cs:cs + 6])
            if tg and tg[0][1].startswith("nr") and n_sur < len(tg[0][0]) <= 4 and not _allowed(text, cs, cs + 4) \
                    and (jieba.dt.FREQ.get(tg[0][0]) or 0) < 50:
                out.append(Span(cs, cs + len(tg[0][0]), "PERSON", 0.8, "label_nr"))  # 同事姚以翔 (以 is a stop)
        if n_sur and text.startswith("某", cs + n_sur):  # 同事于某: even a weak surname
            end = cs + n_sur + (2 if text.startswith("某某", cs + n_sur) else 1)
            if text[end:end + 1] not in _PLACE_AFTER_MOU:  # 患者于某医院: 于 is a preposition there
                out.append(Span(cs, end, "PERSON", 0.9, "label_mou"))
            continue
        weak = n_sur == 1 and text[cs] in lx.weak_surnames
        weak_ok = weak and (is_strong or ((marked or label in _KIN) and _weak_given_ok(text, cs + 1)))
        if weak and not weak_ok and label in ("患者", "病人", "患儿") and _weak_patient_name(text, cs + 1):
            out.append(Span(cs, cs + 3, "PERSON", 0.75, "label_weak"))  # 患者于勤茗，2天前…
            continue
        if weak and not weak_ok and (marked or label in _KIN or label in _ROLES):
            wn = _weak_name_len(text, cs + 1, slot=marked and label in _ROLES)
            if wn and not _allowed(text, cs, cs + 1 + wn) and (jieba.dt.FREQ.get(text[cs:cs + 1 + wn]) or 0) < 5:
                out.append(Span(cs, cs + 1 + wn, "PERSON", 0.8, "label_weak"))  # 配偶于瑗馥体健
                continue
        if n_sur and not (weak and not weak_ok):
            gap = 1 if text[cs + n_sur:cs + n_sur + 1] == " " else 0  # 张 三 in some exports
            n_given = _given(text, cs + n_sur + gap, 3 if n_sur == 2 else 2, strict=not is_strong)
            if label in _KIN and n_given < 2:  # 配偶龚政和体健: a kinship word, then name, then 体健/患/陪同
                loose = _given(text, cs + n_sur + gap, 2, strict=False)
                if loose == 2 and text[cs + n_sur + gap + 2:cs + n_sur + gap + 3] in _AFTER_NAME:
                    n_given = loose
                elif n_given == 0 and loose >= 1 and text[cs + n_sur + gap + 1:cs + n_sur + gap + 2] in \
                        _AFTER_KIN_NAME and text[cs + n_sur + gap] not in _NOT_GIVEN:
                    n_given = 1  # 配偶秦有患高血压, 配偶东郭有患…: a one-character name that is a stop elsewhere
            if n_given == 0:
                gap = 0
            end = cs + n_sur + gap + n_given
            if text.startswith("某", end):
                end += 2 if text.startswith("某某", end) else 1
                out.append(Span(cs, end, "PERSON", 0.9, "label_mou"))
                continue
            if n_given == 0 or _allowed(text, cs, end):
                continue
            kin = label in _KIN
            closed = end == len(text) or text[end] in _DELIMS  # 上级医师 万才群  住院医师 / 患者秦芬璧，
            role = label in _ROLES
            if is_strong or n_sur == 2 or gap or kin or role or (closed and marked) or _DEMOGRAPHIC.match(text, end) \
                    or _reads_as_name(text, cs, end, lenient=marked or closed):
                out.append(Span(cs, end, "PERSON", 0.88 if is_strong else 0.8, "label_surname"))
            continue
        if is_strong:
            n = _given(text, cs, 4)
            form = "姓名" in label or label == "名字"
            if n >= 2 and not _allowed(text, cs, cs + n) and (form or _reads_as_name(text, cs, cs + n)):
                out.append(Span(cs, cs + n, "PERSON", 0.8, "label_form"))
    if "姓" in text:
        for m in _SPACED_NAME.finditer(text):
            out.append(Span(m.start("cand"), m.end("cand"), "PERSON", 0.88, "label_spaced"))
    if "M" in text or "D" in text or "P" in text:
        for m in _EN_NAME.finditer(text):
            out.append(Span(m.start("cand"), m.end("cand"), "PERSON", 0.85, "en_title"))
    if ":" in text or "：" in text:
        named = {sp.start for sp in out if sp.entity_type == "PERSON"}
        for m in colon_re.finditer(text):  # 主刀：张三。 / 查房：李四: any field whose value jieba reads as a name
            s, e = m.start("sur"), m.end("given")
            if s in named:
                continue  # a label rule already took it (医师签名：张三)
            colon = text.rfind(":", 0, s) if text.rfind(":", 0, s) > text.rfind("：", 0, s) else text.rfind("：", 0, s)
            if text[colon - 1:colon] not in _ROLE_END:
                continue  # the field must name a role (主刀, 查房医师, 审核者): 大便：黄软 is not a name
            word, flag = tags(text[s:e])[0]
            if len(word) == e - s and flag.startswith("nr") and (jieba.dt.FREQ.get(word) or 0) < 50 and \
                    not _allowed(text, s, e):
                out.append(Span(s, e, "PERSON", 0.7, "colon_nr"))
    for m in demo_re.finditer(text):  # the tail (，男，45岁) first, then the name run before it
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
        if len(cand) > limit:
            s += len(cand) - (limit - 1)
            cand = cand[-(limit - 1):]
        if m.group(0)[:1].isspace() and not _surname_len(text, s):
            continue  # "张三 男 65岁" is a name only when it starts with a surname (not 内科门诊 男 45岁)
        n_sur = _surname_len(cand, 0) if len(cand) > 2 else 0
        if len(cand.replace(" ", "")) < 2 or any(c in _HARD_STOP for c in cand[max(1, n_sur):]) or \
                _allowed(text, s, s + len(cand)) or cand in _NOT_A_NAME or cand[-2:] in _NOT_A_NAME:
            continue
        out.append(Span(s, s + len(cand), "PERSON", 0.8, "demographic"))
    return out
