"""Names that share a list with a name already found: 参加人员：文静、常青、左建华、黎梦瑶.

Rosters, author lines, shift tables and sign-off lines enumerate people; a detector that finds one of them by its
own evidence (a title, a label, the model) says what the list is. Its other items then need much less evidence of
their own: a surname followed by name-typical characters, even when the whole reads as a word (文静, 常青, 甘露 are
words and given names). This is a second pass over the spans already resolved, like the propagation of names
across a record's sections (`detect.propagation_terms`), so it sees the model's spans as well as the rules'.

A list here is a run of items between hard boundaries (sentence ends, line breaks, colons, brackets, spaces)
separated by 、，, — and only a list whose every item is name-shaped counts (2-4 Han characters, or an interpunct
name; authors' affiliation digits and asterisks stripped), except the items holding a found name, which may carry
words before or after it (助手钟毓秀, 左建华主任). So 张三、高血压病史 is no list of names, while 作者：冉思远1，钟瀚2，
甘露1 is one.

Layouts make lists too, with items between spaces or in cells rather than between separators: a roster line
(A班：景悦 花蕾 段宏), a table's column, a sign-off line of `label：value` pairs (检查医师：林森　记录：木兰) and names
with bracketed affiliations (晏紫（ICU）、席梦（产科）). Every item of such a list must be surname-first.

The speakers of a chat or a transcript are such a list too, one per line: when one line-opening label
(宋晓梅：在护士站) is a found name, or a speaker speaks twice, the other labels that read as names are names
(文静：找到了).

Two more places say a name stands there: a table column headed 姓名, 患者, 访客… (plain-text tables too, cells
between full-width spaces), and the brackets right after a found name, holding the same person's other name
(陳美玲（CHAN Mei-ling）, 唐宁（Tony）, 黑子（真名何黑）).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator

import jieba

from cmedins.deid.detect_ner import PET_NAME_MAX_FREQ, _surname_len, _word_tag, given_char_score
from cmedins.deid.lexicon import lexicon
from cmedins.deid.spans import Span

SOURCE = "name_list"
_SCORE = 0.7
# A list lives between these: a sentence end, a line, a label's colon, a bracket, a quote, a space.
_SEGMENT = re.compile(r"[^。；;！？!?.．\n\r：:（）()【】\[\]“”\"《》<>\s]+")
_SEPARATOR = re.compile(r"[、，,]")
_CLAUSE_SEP = re.compile(r"[，,]")
_ITEM = re.compile(r"[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,8}(?:[·•][\u4e00-\u9fff]{1,8})+")
_AFFILIATION = re.compile(r"[\d*＊#†‡,]+$")  # 冉思远1, 钟瀚2*, 李明1,2: an author's affiliation marks
_MAX_WORD_FREQ = 2000  # 和平, 方案, 程序: too common a word to be a name on a list's say-so
_MIN_MEAN_SCORE = 0.0  # the given name's characters, on average at least as typical of names as of words
_MIN_CHAR_SCORE = -2.5  # and none of them a character names almost never hold (血, 疗)
_SPEAKER = re.compile(r"^[ \t\u3000]*([\u4e00-\u9fff]{2,4})[ \t\u3000]*[:：]", re.MULTILINE)


def _items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The items of one segment as [start, end) ranges, stripped of spaces and affiliation marks."""
    out = []
    pos = start
    for sep in [*_SEPARATOR.finditer(text, start, end), None]:
        s, e = pos, (sep.start() if sep else end)
        pos = sep.end() if sep else end
        while s < e and text[s].isspace():
            s += 1
        m = _AFFILIATION.search(text, s, e)
        if m is not None and m.start() > s:
            e = m.start()
        if e > s:  # (a segment opening with its separator: 刘为民（班长）、苗青、…)
            out.append((s, e))
    return out


def sibling_name(value: str, lax: bool = False) -> bool:
    """An item of a list of names that is itself a name: a surname and a name-typical given name of one or two
    characters, not a protected medical word, not a common word, not a role (护士长). `lax` (the cells of a table
    column or a roster line, where the layout says what the column holds): any given name, common word or not
    (|和平|, 陆离)."""
    lx = lexicon()
    if "·" in value or "•" in value:
        return not any(lx.starts_with_allowed(part) for part in re.split("[·•]", value))
    if len(value) == 2 and value[0] in "小阿" and not _protected(value):  # 阿杰、阿斌、小慧: pet names listed
        return (jieba.dt.FREQ.get(value) or 0) < PET_NAME_MAX_FREQ and given_char_score(value[1]) >= 0.5
    n_sur = _surname_len(value)
    given = value[n_sur:]
    if not n_sur or not 1 <= len(given) <= 2 or "某" in given or value == value[0] * 2:
        return False  # (张某: already masked in the source, kept like the masked names the rules find; 哈哈)
    if _protected(value) or value in lx.names.not_a_name or value in lx.names.kinship or \
            value in lx.names.care_roles:
        return False
    if lax:
        return True
    jieba.initialize()  # the dictionary loads lazily; FREQ is empty until then
    if (jieba.dt.FREQ.get(value) or 0) >= _MAX_WORD_FREQ:
        return False
    scores = [given_char_score(ch) for ch in given]
    return sum(scores) / len(scores) >= _MIN_MEAN_SCORE and min(scores) >= _MIN_CHAR_SCORE


def _protected(value: str) -> bool:
    lx = lexicon()
    return lx.starts_with_allowed(value) or lx.ends_with_allowed(value) or value in lx.allow


def _covered(text: str, spans: list[Span]) -> bytearray:
    """1 where some span lies: an item or label already taken by a detector is left alone (one pass, no pairs)."""
    cover = bytearray(len(text))
    for sp in spans:
        cover[sp.start:sp.end] = b"\1" * (sp.end - sp.start)
    return cover


def _anchored(items: list[tuple[int, int]], persons: list[tuple[int, int]]) -> list[int]:
    """Indexes of the items that hold a found name at their start (左建华主任) or at their end (助手钟毓秀)."""
    by_start = {ps: pe for ps, pe in persons}
    by_end = {pe: ps for ps, pe in persons}
    return [k for k, (s, e) in enumerate(items)
            if (s in by_start and by_start[s] <= e) or (e in by_end and by_end[e] >= s)]


def list_siblings(text: str, spans: list[Span]) -> Iterator[Span]:
    """PERSON spans for the unfound items of every list of names in `text` that holds a found PERSON (the lists of
    `_item_lists`)."""
    persons = sorted((s.start, s.end) for s in spans if s.entity_type == "PERSON")
    if not persons:
        return
    starts = [s for s, _ in persons]
    cover = _covered(text, spans)
    done: set[tuple[int, int]] = set()
    for items, laid_out, lax in _item_lists(text):
        lo, hi = bisect_left(starts, items[0][0]), bisect_left(starts, items[-1][1])
        inside = [(s, e) for s, e in persons[lo:hi] if e <= items[-1][1]]
        if not inside:
            continue
        anchors = set(_anchored(items, inside))
        if not anchors or len(anchors) == len(items):
            continue
        if not all(k in anchors or _ITEM.fullmatch(text, s, e) for k, (s, e) in enumerate(items)):
            continue
        if laid_out and not all(k in anchors or sibling_name(text[s:e], lax=True) for k, (s, e) in enumerate(items)):
            continue  # a column or line holding any other word is no roster (|胰岛素|, 双侧 对称)
        # a list that is mostly found names (two or more, half of it or more) says its other items are names too, even
        # when they are words (司马南星、庄严、欧阳春; 苗青、谷雨、赖小春), as a roster's layout does
        lax = lax or (len(anchors) >= 2 and 2 * len(anchors) >= len(items))
        for k, (s, e) in enumerate(items):
            if k == 0 and not laid_out and k not in anchors:
                s = _after_lead_word(text, s, e)
            if k not in anchors and (s, e) not in done and not any(cover[s:e]) and \
                    sibling_name(text[s:e], lax=lax):
                done.add((s, e))
                yield Span(s, e, "PERSON", _SCORE, SOURCE)


def _after_lead_word(text: str, s: int, e: int) -> int:
    """Start of the name in a list's first item that opens with the word leading into the list (表彰|文静, 授予|
    梁国华): the item minus a dictionary word before its last two or three characters; else the item's start."""
    freq = jieba.dt.FREQ
    for n in (3, 2):
        if e - s - n >= 2 and (freq.get(text[s:e - n]) or 0) >= 50 and sibling_name(text[e - n:e]):
            return e - n
    return s


def _item_lists(text: str) -> Iterator[tuple[list[tuple[int, int]], bool, bool]]:
    """Every list of `text` as its items; whether the layout (a line, a column) rather than separators makes it a
    list (its items must then all be surname-first, and the first carries no word leading into the list); and
    whether its items need no more than a surname (`sibling_name`'s lax): only in a roster line or a table column,
    where nothing but names stands (a sign-off line may hold 检验：阳性, a bracketed list drugs and doses)."""
    for lo, hi in _lists(text):
        items = _items(text, lo, hi)
        if len(items) >= 2:
            yield items, False, False
    for items in _rosters(text):
        yield items, True, True
    for items in _table_columns(text):
        yield items, True, True
    for items in _sign_off_values(text):
        yield items, True, False
    for items in _affiliated(text):
        yield items, True, False


# a roster line: after a label and its colon (A班：, 参会人员：) or alone, two or more short words between spaces
# or slashes (麻醉医师：尚文 / 向阳)
_ROSTER_SEP = r"(?:[ \t\u3000]*[/／][ \t\u3000]*|[ \t\u3000]+)"
_ROSTER = re.compile(rf"^(?:[^\n:：]{{1,12}}[:：])?[ \t\u3000]*(?P<items>[\u4e00-\u9fff]{{2,4}}"
                     rf"(?:{_ROSTER_SEP}[\u4e00-\u9fff]{{2,4}})+)[ \t\u3000/／]*$", re.MULTILINE)
_WORD_RUN = re.compile(r"[\u4e00-\u9fff]+")


def _rosters(text: str) -> Iterator[list[tuple[int, int]]]:
    """Lines that list people between spaces or slashes, as duty rosters and sign-off lines do: A班：景悦 花蕾 段宏,
    完成人：晁阳/伍月/钟秀."""
    if " " not in text and "\t" not in text and "\u3000" not in text and "/" not in text and "／" not in text:
        return
    for m in _ROSTER.finditer(text):
        yield [(w.start(), w.end()) for w in _WORD_RUN.finditer(text, m.start("items"), m.end("items"))]


_LINE = re.compile(r"[^\n]+")
# one `label：value` pair of a sign-off line (检查医师：林森　记录：木兰, 审核/调配：雷鸣), the value up to a space
_SIGN_OFF_PAIR = re.compile(r"[^\s:：]{1,8}[:：][ \t\u3000]*(?P<v>[\u4e00-\u9fff]{2,4})(?=[ \t\u3000]|$)", re.MULTILINE)


def _sign_off_values(text: str) -> Iterator[list[tuple[int, int]]]:
    """The values of each line made of two or more `label：value` pairs between spaces: a sign-off line, whose
    values are people once one of them is (检查医师：林森　记录：木兰). A line with any other value (结果：阴性) is
    none, as `list_siblings` checks."""
    if "：" not in text and ":" not in text:
        return
    for line in _LINE.finditer(text):
        pairs = [(m.start("v"), m.end("v")) for m in _SIGN_OFF_PAIR.finditer(text, line.start(), line.end())]
        if len(pairs) >= 2:
            yield pairs


# names with an affiliation in brackets, listed: 一等奖：晏紫（ICU）、席梦（产科）
_AFFILIATED = re.compile(r"(?P<n>[\u4e00-\u9fff]{2,4})[（(][^（）()\n]{1,20}[）)](?=[、，,；;]|$)", re.MULTILINE)


def _affiliated(text: str) -> Iterator[list[tuple[int, int]]]:
    """The names of a list whose items are a name and its affiliation in brackets (晏紫（ICU）、席梦（产科）): runs
    of such items joined by list separators, the names only."""
    if "（" not in text and "(" not in text:
        return
    run: list[tuple[int, int]] = []
    last_end = -1
    for m in _AFFILIATED.finditer(text):
        if run and (m.start() != last_end + 1 or text[last_end] not in "、，,；;"):
            if len(run) >= 2:
                yield run
            run = []
        run.append((m.start("n"), m.end("n")))
        last_end = m.end()
    if len(run) >= 2:
        yield run


# cells are cut by bars, tabs, or (in a line with none of them) runs of full-width or double spaces, as tables
# typed into a plain-text field are (序号　姓名　科室 / 1　颜如玉　内一)
_CELL_SEP = re.compile(r"[|｜\t]")
_SPACE_CELL_SEP = re.compile(r"\u3000+|  +")
_MIN_TABLE_ROWS = 2
# a column headed by one of these holds people's names (姓名, 患者, 家属, 签名…)
_NAME_HEADERS = frozenset(("姓名", "患者姓名", "病人姓名", "患者", "病人", "家属", "家属姓名", "联系人", "签名",
                           "访客", "访客姓名", "探视人", "陪护人", "医生", "医师", "护士", "责任护士", "主管医生"))


def _table_columns(text: str) -> Iterator[list[tuple[int, int]]]:
    """The name-shaped cells of each column of each table in `text` (lines cut into the same number of cells, two
    lines or more), top to bottom: a column that holds one found name is a column of names
    (|晏秋生|K+|6.8|, |和平|Glu|1.9|). Cells that are not 2-4 Han characters (times, values) or are a person
    label (the header 姓名) are left out of the column rather than ending it."""
    labels = set(lexicon().strong_person_labels) | set(lexicon().weak_person_labels)
    for rows in _tables(text):
        for k in range(len(rows[0])):
            cells = [row[k] for row in rows if _ITEM.fullmatch(text, *row[k]) and text[slice(*row[k])] not in labels]
            if len(cells) >= 2:
                yield cells


def headed_column_names(text: str, spans: list[Span]) -> Iterator[Span]:
    """PERSON spans for the cells of a table column headed 姓名, 患者, 家属… (`_NAME_HEADERS`): the header says
    what the column holds, so a cell needs only be name-shaped (a surname first; any word: |路漫|)."""
    cover: bytearray | None = None
    for rows in _tables(text):
        for k, (hs, he) in enumerate(rows[0]):
            if text[hs:he] not in _NAME_HEADERS:
                continue
            cover = _covered(text, spans) if cover is None else cover
            for row in rows[1:]:
                s, e = row[k]
                if _ITEM.fullmatch(text, s, e) and not any(cover[s:e]) and _headed_cell_name(text[s:e]):
                    yield Span(s, e, "PERSON", _SCORE, SOURCE)


def _headed_cell_name(value: str) -> bool:
    """A cell under a name header is a name unless it is a protected word, a role, a kinship word or a common
    word (同上, 本人, 家属): surname first or not (卡米拉, 阿娜尔古丽: transliterated and minority names)."""
    lx = lexicon()
    if sibling_name(value, lax=True):
        return True
    jieba.initialize()
    return not _protected(value) and value not in lx.names.not_a_name and value not in lx.names.kinship and \
        value not in lx.names.care_roles and (jieba.dt.FREQ.get(value) or 0) < _MAX_WORD_FREQ // 20


def _tables(text: str) -> Iterator[list[list[tuple[int, int]]]]:
    """Each table of `text` as its rows of cells: consecutive lines cut into the same number of cells (two or
    more cells, two lines or more)."""
    if not any(c in text for c in "|｜\t\u3000") and "  " not in text:
        return
    rows: list[list[tuple[int, int]]] = []
    pos = 0
    for line in [*text.split("\n"), None]:
        cells = _cells(text, pos, len(line)) if line is not None else None
        if cells is not None and len(cells) >= 2 and (not rows or len(cells) == len(rows[-1])):
            rows.append(cells)
        else:
            if len(rows) >= _MIN_TABLE_ROWS:
                yield rows
            rows = [cells] if cells is not None and len(cells) >= 2 else []
        pos += len(line) + 1 if line is not None else 0


def _cells(text: str, pos: int, length: int) -> list[tuple[int, int]]:
    line = text[pos:pos + length]
    sep_re = _CELL_SEP if _CELL_SEP.search(line) else _SPACE_CELL_SEP
    out, start = [], pos
    for sep in [*sep_re.finditer(text, pos, pos + length), None]:
        end = sep.start() if sep else pos + length
        s, e = start, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        out.append((s, e))
        start = sep.end() if sep else end
    return out


def _lists(text: str) -> Iterator[tuple[int, int]]:
    """The ranges that may hold a list: each segment with a separator, and inside one that has clauses (a comma)
    each clause holding an enumeration comma (决定，授予梁国华、陈观水、黎阿妹: the clause before is no item)."""
    for seg in _SEGMENT.finditer(text):
        if not _SEPARATOR.search(seg.group()):
            continue
        yield seg.start(), seg.end()
        if "、" in seg.group() and _CLAUSE_SEP.search(seg.group()):
            pos = seg.start()
            for sep in [*_CLAUSE_SEP.finditer(text, seg.start(), seg.end()), None]:
                end = sep.start() if sep else seg.end()
                if "、" in text[pos:end]:
                    yield pos, end
                pos = sep.end() if sep else end


def speaker_names(text: str, spans: list[Span]) -> Iterator[Span]:
    """PERSON spans for the line-opening speaker labels of a text where one such label is a found PERSON, or of a
    chat where a speaker speaks twice: family and ward chats name their speakers by given names (建国：…, 秀梅：…,
    建国：…), which a record's one-off section headings (主诉：, 诊断：) never repeat as a conversation does."""
    labels = [(m.start(1), m.end(1)) for m in _SPEAKER.finditer(text)]
    if len(labels) < 2:
        return
    persons = {(s.start, s.end) for s in spans if s.entity_type == "PERSON"}
    values = [text[s:e] for s, e in labels]
    chat = len(labels) >= 3 and len(set(values)) >= 2 and len(set(values)) < len(values)
    if not chat and not any(label in persons for label in labels):
        return
    cover = _covered(text, spans)
    person_labels = set(lexicon().strong_person_labels) | set(lexicon().weak_person_labels)
    for s, e in labels:
        value = text[s:e]
        if value in person_labels or any(cover[s:e]):
            continue
        if sibling_name(value) or (chat and given_name_alone(value)):
            yield Span(s, e, "PERSON", _SCORE, SOURCE)


# A person's other name in brackets right after (or before) a found name: 陳美玲（CHAN Mei-ling）, 唐宁（Tony）,
# 黑子（真名何黑）, Aisha（阿依夏）. Latin: capitalised words, with a lower-case letter or two or more words (not an
# acronym alone: 晏紫（ICU） is an affiliation). Han: a name-shaped item, any 2-4 characters after a marker (真名).
_LATIN_ALIAS = r"[A-Z][A-Za-z'’\-]*(?:,? [A-Z][A-Za-z'’\-]*){0,3}"
_ALIAS_MARK = r"(?:真名|原名|本名|化名|英文名|实名|又名|小名|乳名|别名|曾用名)[:：]?"
_ALIAS_AFTER = re.compile(rf"[ \t\u3000]*[（(](?:(?P<latin>{_LATIN_ALIAS})|(?P<mark>{_ALIAS_MARK})?"
                          r"(?P<han>[\u4e00-\u9fff]{2,4}))[）)]")
_ALIAS_BEFORE = re.compile(rf"(?<![A-Za-z])(?P<latin>{_LATIN_ALIAS})[ \t\u3000]*[（(]$")


def alias_names(text: str, spans: list[Span]) -> Iterator[Span]:
    """PERSON spans for the other name a found PERSON carries in brackets (see _ALIAS_AFTER), and for a Latin name
    whose bracket holds a found PERSON (Coco（李可可）). A part found already (CHAN Mei) is completed (Mei-ling)."""
    persons = [(s.start, s.end) for s in spans if s.entity_type == "PERSON"]
    if not persons or not any(c in text for c in "（("):
        return
    cover = _covered(text, spans)
    for ps, pe in persons:
        m = _ALIAS_AFTER.match(text, pe)
        if m is not None:
            g = "latin" if m.group("latin") else "han"
            s, e = m.start(g), m.end(g)
            if not all(cover[s:e]) and (_latin_alias(m.group(g)) if g == "latin" else
                                        (m.group("mark") and not _protected(m.group(g))) or sibling_name(m.group(g))):
                yield Span(s, e, "PERSON", _SCORE, SOURCE)
        b = _ALIAS_BEFORE.search(text, max(0, ps - 40), ps)
        if b is not None and text[ps - 1:ps] in "（(" and not all(cover[b.start():b.end("latin")]) and \
                _latin_alias(b.group("latin")):
            yield Span(b.start(), b.end("latin"), "PERSON", _SCORE, SOURCE)


def _latin_alias(value: str) -> bool:
    words = value.replace(",", " ").split()
    return (any(c.islower() for c in value) or len(words) >= 2) and \
        not any(w.lower() in lexicon().english_terms for w in words)


_GIVEN_MIN_MEAN, _GIVEN_MIN_CHAR = 0.2, -1.0  # 秀梅, 国平, 思琪 pass; 主诉, 诊断, 备注, 楼主, 医嘱 do not


def given_name_alone(value: str) -> bool:
    """Two characters that read as a given name alone: name-typical characters (`given_char_score`), no protected
    word, no common word unless the dictionary knows it as a name (or a place: 建国 is tagged one)."""
    lx = lexicon()
    if len(value) != 2 or _protected(value) or value in lx.names.not_a_name or value in lx.names.kinship or \
            value in lx.names.care_roles or value in lx.names.person_nouns:
        return False
    scores = [given_char_score(ch) for ch in value]
    if sum(scores) / 2 < _GIVEN_MIN_MEAN or min(scores) < _GIVEN_MIN_CHAR:
        return False
    return (jieba.dt.FREQ.get(value) or 0) < _MAX_WORD_FREQ // 2 or _word_tag(value).startswith(("nr", "ns"))
