"""Addresses (province down to room number), workplaces, schools and hospital names.

An address is a run of at least two components (朝阳区|建国路|88号|3单元|502室). Endings such as 区, 镇 or 楼 are
common in medical text (心前区, 镇痛, 楼梯), so a run counts only with a strong component (省, 市, 路, 村, 号, 室 …)
or an address label in front (住址：, 家住). Institutions are a specific name plus an ending (…人民医院, …有限公司);
generic mentions (我院, 当地医院, 外院) identify nobody and are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib.resources import files

from cmedins.deid.boundaries import name_start
from cmedins.deid.lexicon import lexicon, starts
from cmedins.deid.postags import tags
from cmedins.deid.spans import Span
from cmedins.deid.text_norm import has_capital

HAN = "\u4e00-\u9fff"
_NUM = "0-9一二三四五六七八九十百零〇甲乙丙丁"
# characters that cannot start an address: the run before them is narrative (患者于2019年在…)
_NUM_CHARS = set("0123456789" + _NUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TAIL = re.compile(r"[\u4e00-\u9fff]{1,8}?(?:[0-9]{1,4}-[0-9]{1,4}(?:-[0-9]{1,5})?(?![0-9])"
                   r"|(?:[0-9]{1,5}(?:号楼|号院|号|栋|幢|座|单元|室|房|层))+)")
_WEAK_ORG_SUFFIXES = frozenset(("所", "局", "厂", "分局", "公司", "政府", "委员会", "学校", "中心"))
_WORK_AFTER = re.compile(r"[\u4e00-\u9fff]{0,2}?(?:工作|上班|从事|任职|就职|就读|上学|务工|打工)")
_PREP = re.compile(r"[在于到赴]")
_ORG_LABEL = re.compile(r"(?:工作单位|单位|就职于|任职于|工作于|就读于|毕业于|供职于|受雇于)\s*[:：]?\s*")
_ORIGIN_FIELD = re.compile(r"(?:籍贯|户籍地址|户籍地|户籍|出生地|原籍)\s*[:：]\s*(?P<place>[\u4e00-\u9fff]{2,12})")
_NOT_A_PLACE = frozenset("本地 当地 不详 未知 同上 无 中国 汉族".split())
_PROVINCES = sorted((w for line in (files("cmedins") / "deid" / "data" / "provinces.txt").read_text(encoding="utf-8")
                     .splitlines() if not line.startswith("#") for w in line.split()), key=lambda w: (-len(w), w))
_PROVINCES_T = tuple(_PROVINCES)
# a birthplace or origin as province + city with no 省/市: 生于山东济南, 祖籍湖南长沙 (发生于, 产生于 are not births)
_BIRTHPLACE = re.compile(r"(?<![发产寄派衍滋])(?:出生于|出生在|生于|祖籍|原籍|籍贯)\s*[:：]?\s*(?P<place>(?:"
                         + "|".join(_PROVINCES) + r")[\u4e00-\u9fff]{0,6}?)(?=[，,。；;、\s]|长期|现|后|并|$)")
# a person's native place in a resume or biography: ，湖南长沙人，/ 内蒙古锡林郭勒盟人 (province + a city or county;
# a province alone identifies nobody)
_NATIVE_OF = re.compile(r"(?<=[，,、\s（(])(?P<place>(?:" + "|".join(_PROVINCES) + r")[\u4e00-\u9fff]{2,5}?)人"
                        r"(?=[，,。；;、）)\s]|$)")
_NAME_CHARS = set("0123456789（）()")
# what may still follow an address before its delimiter, and where a unit of it ends (a number, 楼, 组, 交口…)
_REST = re.compile(r"[0-9A-Za-z\u4e00-\u9fff\-]{1,12}(?=[，,。；;、：:（(）)\s]|$)")
_UNIT_END = re.compile(r"[0-9]+[A-Za-z]?|(?:号楼|单元|公寓|大厦|社区|交叉口|交汇处|交口|路口|中段"
                       r"|[组队社村屯舍楼层室号门栋幢户座])")
_CITY_POSTCODE = re.compile(r"(?<=[，,])\s*(?P<place>[\u4e00-\u9fff]{2,3})\s?[1-8]\d{5}(?=\s*(?:[；;。\n]|$))")
_NOT_IN_ADDRESS = re.compile(r"[的了在于时后被摔突发现购住到去来是有和与及]")
_FROM_PLACE = re.compile(r"来自(?P<place>(?:" + "|".join(_PROVINCES) + r")[\u4e00-\u9fff]{2,3}?)"
                         r"(?=的|人|市|县|[，,。；;\s])")
_LEAD_STOP = set("在于至到往赴为是的，。、；：:,;")


@cache
def _regexes() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    lx = lexicon()
    han_end = "|".join(re.escape(w) for w in lx.address_strong + lx.address_weak)
    num_end = "|".join(re.escape(w) for w in lx.address_numeric)
    comp = (f"(?:[{HAN}]{{2,9}}?(?:{han_end})|[{_NUM}A-Za-z]{{1,6}}(?:-[0-9]{{1,4}})?(?:{num_end})"
            f"|[0-9]{{1,4}}-[0-9]{{1,4}}(?:-[0-9]{{1,5}})?(?![0-9]))")  # 7-6-401: building-unit-room
    addr_re = re.compile(f"(?:{comp}){{2,}}(?:[0-9]{{1,5}}(?![0-9]))?")
    comp_re = re.compile(comp)
    hosp = "|".join(re.escape(w) for w in lx.hospital_suffixes)
    hosp_re = re.compile(f"{starts(lx.hospital_suffixes)}(?:{hosp})(?:[{HAN}]{{0,6}}?(?:分院|院区|门诊部))?")
    org = "|".join(re.escape(w) for w in lx.org_suffixes)
    org_re = re.compile(f"{starts(lx.org_suffixes)}(?:{org})")
    labels = "|".join(re.escape(w) for w in lx.address_labels)
    admin = "市|自治州|州|地区|盟|县|区|旗|镇|乡|村|街道"  # a province alone is kept (HIPAA keeps states)
    single_re = re.compile(f"{starts(lx.address_labels)}(?<![发产寄派衍滋])(?:{labels})\\s*[:：]?\\s*"
                           f"(?P<place>[{HAN}]{{2,8}}?(?:{admin}))"
                           f"(?![{HAN}]{{0,1}}(?:{han_end}))")
    return addr_re, comp_re, hosp_re, org_re, single_re


def _trim_lead(text: str, start: int, end: int) -> int:
    """Move `start` past narrative words that the lazy regex swallowed (患者于2019年在北京市 -> 北京市)."""
    best = start
    for i in range(start, end):
        if text[i] in _LEAD_STOP:
            best = i + 1
    return name_start(text, best, end) if best < end else best


def _label_before(text: str, start: int, labels: tuple[str, ...], width: int = 12) -> bool:
    before = text[max(0, start - width):start]
    return any(w in before for w in labels)


@cache
def _gate_regex() -> re.Pattern[str]:
    """Anything an address run needs at least one of: a strong ending, a numbered part or an address label."""
    lx = lexicon()
    words = sorted(set(lx.address_strong) | set(lx.address_labels), key=lambda w: (-len(w), w))
    nums = "|".join(re.escape(w) for w in lx.address_numeric_strong)
    return re.compile(starts(words, also=f"{_NUM}A-Za-z") + "(?:" + "|".join(re.escape(w) for w in words) +
                      f"|[0-9{_NUM}A-Za-z](?:{nums})|[0-9]-[0-9])")


# an address in English or pinyin (Room 1203, No. 88 Xueyuan Road, Haidian District, Beijing): a house number and a
# street, the flat before it and the district, city and postcode after it
_EN_STREET = (r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Way|Hutong|Lu|Jie|Dajie|Xiang|Li|"
              r"Alley|Court|Ct|Place|Pl|Square|Sq|Highway|Hwy)\.?")
_EN_NAME_WORDS = r"(?:[A-Z][A-Za-z'’]*+\s+){1,3}"
_EN_UNIT_WORD = r"(?:Room|Rm|Apt|Apartment|Unit|Flat|Suite|Building|Bldg|Block|Floor|Fl|No|Lane|Alley|Nong)\.?\s*"
_EN_UNIT = _EN_UNIT_WORD + r"[A-Za-z0-9\-]+\s*,?\s*"  # Room 502, No. 18, Lane 300 (a Shanghai lane's number)
_EN_NUMBERED = r"\d+[A-Za-z]?(?:-\d+)?"
# the street with its house number before or after it (88 Xueyuan Road, Chaoyang Road No. 12), found first; then
# the flat and lane units before it (within a bounded window, so no input makes the search quadratic) and the
# district, city and postcode after it
_EN_STREET_CORE = re.compile(rf"(?<![A-Za-z0-9])(?P<num>(?:No\.?\s*)?{_EN_NUMBERED},?\s+)?{_EN_NAME_WORDS}{_EN_STREET}"
                             rf"(?P<num2>,?\s*(?:No\.?\s*)?{_EN_NUMBERED})?(?![A-Za-z0-9])")
# units right before the street, the last one possibly without its number (Lane | 12, Huaihai Road: the core took it)
_EN_UNITS_BEFORE = re.compile(rf"(?<![A-Za-z])(?:{_EN_UNIT})*(?:{_EN_UNIT_WORD})?$")
_EN_TAIL = re.compile(r"(?:\s*,\s*(?:[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+){0,2}|\d{5,6}(?!\d))|\s+\d{5,6}(?!\d))*+")
_EN_LOOKBACK = 80


def _english_addresses(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each address in English or pinyin: a street with a number in it or in a unit before it."""
    for m in _EN_STREET_CORE.finditer(text):
        s = m.start()
        units = _EN_UNITS_BEFORE.search(text, max(0, s - _EN_LOOKBACK), s)
        if units is not None and units.start() < s:
            s = units.start()
        elif not (m.group("num") or m.group("num2")):
            continue  # a street name alone (lives on Main St.) is no address to cut
        yield s, _EN_TAIL.match(text, m.end()).end()


_COUNTRIES = frozenset("日本 加拿大 澳大利亚 新加坡 新西兰 马来西亚 俄罗斯 意大利 西班牙 荷兰 瑞士 瑞典 印度 泰国 "
                       "越南 巴西 墨西哥 埃及 南非 欧洲 亚洲 非洲 美洲 海外 国外".split())


@cache
def _label_city_re() -> re.Pattern[str]:
    labels = "|".join(re.escape(w) for w in lexicon().address_labels)
    return re.compile(f"{starts(lexicon().address_labels)}(?<![发产寄派衍滋])(?:{labels})\\s*[:：]?\\s*"
                      f"(?=[\u4e00-\u9fff]{{2}})")


_LIFE_VERBS = "工作|生活|居住|定居|经商|打工|务工|逝世|去世|病逝|出生|长大|上学|读书|安家"
# a city where a person lives, works or died, framed by the verbs around it: 在满洲里市经商, 2019年在武汉逝世, 坐标郑州
_LIFE_CITY = re.compile(rf"(?:在|于|去|到|回到|来自)(?P<city>[\u4e00-\u9fff]{{2,6}}?)市?(?={_LIFE_VERBS})"
                        r"|坐标(?P<c2>[\u4e00-\u9fff]{2,6}?)(?=[，,。；;\s]|$)")
_LIFE_GATE = re.compile(f"坐标|{_LIFE_VERBS}")


def _labelled_cities(text: str, labels: bool) -> list[Span]:
    """A city or county named without 市/县 after an address label (长于郑州, 现居杭州, 老家是四川南充), or framed
    by where a person lives, works or died (在满洲里市经商, 坐标郑州): jieba's dictionary knows it as a place (ns). A
    province or a country alone stays (HIPAA keeps states). `labels`: the address gate found some label."""
    out = []
    for m in (_label_city_re().finditer(text) if labels else ()):
        span = _city_at(text, m.end(), m.end() + 9)
        if span:
            out.append(span)
    if _LIFE_GATE.search(text):
        for m in _LIFE_CITY.finditer(text):
            g = "city" if m.group("city") else "c2"
            span = _city_at(text, m.start(g), m.end(g))
            if span and span.end == m.end(g):  # the whole run is the place (在|满洲里|市经商), not a longer phrase
                out.append(Span(span.start, span.end + (text[span.end:span.end + 1] == "市"), "ADDRESS", 0.75,
                                "labelled_city"))
    return out


def _city_at(text: str, start: int, stop: int) -> Span | None:
    """The city (a province before it allowed) that starts at `start`, if jieba's first word there is one."""
    words = tags(text[start:stop], hmm=False)
    end = start
    if words[0][0] in _PROVINCES and len(words) > 1:  # 四川南充: the province, then the city
        end += len(words[0][0])
        words = words[1:]
    word, flag = words[0]
    if flag == "nz" and end > start:
        flag = "ns"  # 浙江|义乌: after a province, a proper noun jieba does not know as a place is its city
    if flag == "ns" and len(word) >= 2 and word not in _PROVINCES and word not in _NOT_A_PLACE and \
            not word.endswith("国") and word not in _COUNTRIES:
        return Span(start, end + len(word), "ADDRESS", 0.75, "labelled_city")
    return None


_CITY_DISTRICT = re.compile(r"[\u4e00-\u9fff]{3,7}?[区县]")


def _city_districts(text: str) -> list[Span]:
    """A city and its district or county with no 市 between them (深圳南山区, 成都武侯区): a place name for jieba,
    then a word of three characters or more ending in 区 or 县 (not 病区, 西区)."""
    out = []
    for m in _CITY_DISTRICT.finditer(text):
        words = tags(m.group(), hmm=False)
        last = words[-1][0]
        if len(words) >= 2 and words[-2][1] == "ns" and len(words[-2][0]) >= 2 and len(last) >= 3 and \
                last[-1] in "区县":
            s = m.end() - len(last) - len(words[-2][0])
            out.append(Span(s, m.end(), "ADDRESS", 0.75, "city_district"))
        elif words[-1][1] == "ns" and len(last) >= 5 and last[-1] in "区县":  # 上海浦东新区: one word
            out.append(Span(m.end() - len(last), m.end(), "ADDRESS", 0.75, "city_district"))
    return out


def detect_addresses(text: str) -> list[Span]:
    lx = lexicon()
    addr_re, comp_re, _, _, single_re = _regexes()
    out: list[Span] = []
    strong = lx.address_strong
    # the run pattern tries a lazy name at every Han position: run it only when a strong ending or a label is there
    gate = _gate_regex().search(text) is not None
    for m in (addr_re.finditer(text) if gate else ()):
        first = comp_re.match(text, m.start())
        s = _trim_lead(text, m.start(), first.end() if first else m.end())
        e = m.end()
        tail = _TAIL.match(text, e)  # 万科城25-2-3204, 纺织厂宿舍12-2-1905: a named estate then numbers
        if tail:
            e = tail.end()
        comps = [c.group(0) for c in comp_re.finditer(text, s, e)]
        if len(comps) < 2 and not _label_before(text, s, lx.address_labels):
            continue
        n_strong = sum(1 for c in comps if any(c.endswith(w) for w in strong)
                       or (c[0] in _NUM_CHARS and any(c.endswith(w) for w in lx.address_numeric_strong)))
        labelled = _label_before(text, s, lx.address_labels)
        if n_strong == 0 and not labelled:
            continue
        if n_strong == 1 and len(comps) == 2 and not labelled and _medical_looking(comps):
            continue
        if lx.starts_with_allowed(text[s:e]) or any(lx.ends_with_allowed(c) for c in comps):
            continue
        out.append(Span(s, e, "ADDRESS", 0.85 if labelled or n_strong >= 2 else 0.7, "address"))
    # a form field of origin takes its whole value even with no 省/市 (籍贯：湖南长沙)
    if "籍" in text or "出生地" in text:
        for m in _ORIGIN_FIELD.finditer(text):
            if m.group("place") not in _NOT_A_PLACE and not lx.starts_with_allowed(m.group("place")):
                out.append(Span(m.start("place"), m.end("place"), "ADDRESS", 0.8, "origin_field"))
    if "生于" in text or "籍" in text or "出生在" in text:
        for m in _BIRTHPLACE.finditer(text):
            out.append(Span(m.start("place"), m.end("place"), "ADDRESS", 0.8, "birthplace"))
    # one place after an address label: 原籍北京市, 生于上海市, 籍贯：河南省 (city-level places identify too)
    for m in single_re.finditer(text):
        s, e = m.start("place"), m.end("place")
        tail = _TAIL.match(text, e)
        if tail:
            e = tail.end()
        if not lx.starts_with_allowed(text[s:e]) and not lx.ends_with_allowed(text[s:e]):
            out.append(Span(s, e, "ADDRESS", 0.75, "address_labelled"))
    for m in _CITY_POSTCODE.finditer(text):  # 华西医院麻醉科，成都 610041；: an affiliation's city and postcode
        if [flag for _, flag in tags(m.group("place"))] == ["ns"]:  # a place name for jieba (not 结果 123456)
            out.append(Span(m.start("place"), m.end(), "ADDRESS", 0.75, "city_postcode"))
    if has_capital(text):
        out += [Span(s, e, "ADDRESS", 0.8, "address_en") for s, e in _english_addresses(text)]
    out += _labelled_cities(text, gate)
    if "区" in text or "县" in text:
        out += _city_districts(text)
    if "人" in text:
        out += [Span(m.start("place"), m.end("place"), "ADDRESS", 0.75, "native_of")
                for m in _NATIVE_OF.finditer(text) if not lx.ends_with_allowed(m.group("place"))]
    if "来自" in text:  # 来自山东潍坊的务工人员: where a person comes from, province and city
        out += [Span(m.start("place"), m.end("place"), "ADDRESS", 0.75, "from_place")
                for m in _FROM_PLACE.finditer(text)]
    return [_with_tail(text, sp) for sp in out]


def _with_tail(text: str, span: Span) -> Span:
    """The address with the rest of its unit, up to the next delimiter: 5号楼1|门201, 锦花村|五社, 河东楼4号楼|312,
    SK大厦28层, 与科学大道|交口. The rest is taken up to its last address ending or digit, when short."""
    m = _REST.match(text, span.end)
    if m is None or not m.group(0):
        return span
    rest = m.group(0)
    cut = max((k.end() for k in _UNIT_END.finditer(rest)), default=0)
    if cut == 0 or cut > 8 or _NOT_IN_ADDRESS.search(rest, 0, cut):
        return span
    return Span(span.start, span.end + cut, span.entity_type, span.score, span.source)


def _medical_looking(comps: list[str]) -> bool:
    """Two components where the strong one is a number ending used in medicine (3号染色体 is not an address)."""
    return any(c[0].isdigit() and (c.endswith("号") or c.endswith("室")) for c in comps) and not any(
        c.endswith(("路", "街", "村", "市", "省", "县", "小区", "巷", "弄", "大道")) for c in comps)


# a company's registered name opens with its place (苏州新锐投资管理有限公司, 上海瑞思教育科技有限公司): from the place
# on, industry words that read as verbs (投资, 管理, 教育) belong to the name
_COMPANY_SUFFIXES = frozenset(("有限公司", "股份有限公司", "有限责任公司", "股份公司", "公司", "集团"))


def _place_head(text: str, start: int, end: int) -> int:
    """Where the first province, or a place for jieba, starts in text[start:end] after any narrative word that
    ends the run's lead (在, 于…); `end` when there is none."""
    start = max([start] + [i + 1 for i in range(start, end) if text[i] in _LEAD_STOP])
    for i in range(start, end - 2):
        if text.startswith(_PROVINCES_T, i):
            return i
    pos = start
    for word, flag in tags(text[start:end], hmm=False):
        if flag == "ns" and len(word) >= 2 and pos + len(word) < end:
            return pos
        pos += len(word)
    return end


def _specific(name: str) -> bool:
    """The name part of 北京协和医院 is specific; of 当地医院, 我院 or 市医院 it is not."""
    generic = lexicon().org_generic
    rest = name
    changed = True
    while changed and rest:
        changed = False
        for g in sorted(generic, key=len, reverse=True):
            if rest.startswith(g):
                rest = rest[len(g):]
                changed = True
                break
    rest = rest.strip("（）()")
    if "某" in name or "*" in name or "×" in name or "X" in name:
        return False  # already anonymised in the source
    return sum(1 for c in rest if "\u4e00" <= c <= "\u9fff") >= 2


def _name_before(text: str, end: int, limit: int = 22) -> int:
    """Start of the run of name characters (Han, digits, brackets) that ends at `end`, at most `limit` long."""
    i = end
    lo = max(0, end - limit)
    while i > lo and (text[i - 1] in _NAME_CHARS or "\u4e00" <= text[i - 1] <= "\u9fff"):
        i -= 1
    return i


def detect_institutions(text: str, hospitals: bool = True) -> list[Span]:
    """Find the ending first (a cheap scan), then walk back over the name: no lazy regex tried at every position."""
    lx = lexicon()
    _, _, hosp_re, org_re, _ = _regexes()
    out: list[Span] = []
    if hospitals:
        for m in hosp_re.finditer(text):
            s0 = _name_before(text, m.start())
            if s0 == m.start():
                continue
            s = _trim_lead(text, s0, m.start())
            name = text[s:m.start()]
            if name and not _specific(name) and m.group(0).startswith("中"):
                name += "中"  # 湘中医院: the name is 湘中 and the ending 医院, not 湘 + 中医院
            if not name or not _specific(name) or "某" in text[max(0, s - 2):s]:
                continue
            out.append(Span(s, m.end(), "HOSPITAL", 0.8, "hospital"))
    for m in org_re.finditer(text):
        s0 = _name_before(text, m.start())
        if s0 == m.start():
            continue
        suffix = m.group(0)
        work_after = _WORK_AFTER.match(text, m.end()) is not None
        if suffix in _WEAK_ORG_SUFFIXES and not work_after and not _label_before(text, m.start(), lx.org_labels, 28):
            continue  # 所/局/厂 alone (所以, 结局): only with a workplace label; decided before any jieba call
        lab = _ORG_LABEL.search(text, max(0, s0 - 6), m.start())
        if lab is not None and lab.end() >= s0 and lab.end() < m.start():
            s = lab.end()  # 工作单位：国家电网赣州供电公司 / 就职于…: the label says where the name starts
            if suffix not in _WEAK_ORG_SUFFIXES and text[s:m.start()].startswith("某"):
                # 就职于某科技有限公司: half-masked in the source, but the trade word still narrows it down
                out.append(Span(s, m.end(), "ORGANIZATION", 0.75, "organization"))
                continue
        elif work_after and _PREP.search(text, s0, m.start()):
            s = [p.end() for p in _PREP.finditer(text, s0, m.start())][-1]  # 在上海瑞丰汽车销售服务有限公司工作
        else:
            s = _trim_lead(text, s0, m.start())
            if suffix in _COMPANY_SUFFIXES:
                s = min(s, _place_head(text, s0, m.start()))
        name = text[s:m.start()]
        if not name or not _specific(name) or lx.starts_with_allowed(name) or "某" in text[max(0, s - 2):s]:
            continue
        labelled = _label_before(text, s, lx.org_labels, 6) or work_after
        if not labelled and suffix in ("厂", "局", "所", "公司", "政府", "分局", "委员会") and len(name) < 3:
            continue
        if not labelled and suffix in ("所", "局"):
            continue
        out.append(Span(s, m.end(), "ORGANIZATION", 0.8 if labelled else 0.7, "organization"))
    return out
