"""Dates in the forms Chinese notes use, birth dates, and ages over 89.

Every date is an identifier (HIPAA-style): visit dates are later coarsened to year-month or shifted per patient;
a date next to a birth label (出生日期, 生于, …生) is a birth date and is removed. Durations (3天前, 2年) are not dates.
Each span carries the parsed parts in `source` ("date:Y-M-D:kind") so the anonymizer needs no second parse.
"""

from __future__ import annotations

import re
from functools import cache

from cmedins.deid.lexicon import lexicon
from cmedins.deid.spans import Span

_CN_DIGIT = {"〇": 0, "零": 0, "○": 0, "O": 0, "o": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9, "两": 2}

_Y = r"(?P<y>(?:18|19|20)\d{2})"
_M = r"(?P<m>1[0-2]|0?[1-9])"
_D = r"(?P<d>3[01]|[12]\d|0?[1-9])"

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = (r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?"
           r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?")

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 2023年3月5日 / 2023年03月05号 / 2023年3月 (day optional)
    ("cn", re.compile(r"(?<!\d)" + _Y + r"\s*年\s*" + _M + r"\s*月(?:\s*" + _D + r"\s*[日号])?")),
    # 23年3月5日 (two-digit year)
    ("cn2", re.compile(r"(?<![\d年])(?P<yy>\d{2})年" + _M + r"月(?:" + _D + r"[日号])?")),
    # 二〇二三年三月五日
    ("cnnum", re.compile(r"(?P<cy>[〇零○O一二三四五六七八九]{4})年"
                         r"(?P<cm>十[一二]?|[一二三四五六七八九]|1[0-2]|0?[1-9])月"
                         r"(?:(?P<cd>[一二]?十[一二三四五六七八九]?|三十一?|[一二三四五六七八九]|3[01]|[12]\d|0?[1-9])[日号])?")),
    # 2023年十二月二十五日, 2023年3月二十五日: a year in digits, the month or the day in Chinese numerals
    ("cnmix", re.compile(r"(?<!\d)" + _Y + r"\s*年\s*(?P<cm>十[一二]?|[一二三四五六七八九]|1[0-2]|0?[1-9])\s*月"
                         r"(?:\s*(?P<cd>[一二]?十[一二三四五六七八九]?|三十一?|[一二三四五六七八九]|3[01]|[12]\d|0?[1-9])"
                         r"\s*[日号])?")),
    # 2023-03-05, 2023/3/5, 2023.03.05 (optionally followed by a time)
    ("iso", re.compile(r"(?<![\d.])" + _Y + r"\s?(?P<sep>[\-/.])\s?" + _M + r"\s?(?P=sep)\s?" + _D + r"(?![\d])")),
    # 24-05-07, 21-3-15 (two-digit year, dashes or slashes only: 1.2.3 is a version or a value); unpadded month
    # and day only with a year of this century's first decades (21-3-15, not 87-3-5 or a range like 45-3-12)
    ("iso2", re.compile(r"(?<![\d.\-/])(?P<yy>\d{2})(?P<sep>[\-/])(?P<m>0[1-9]|1[0-2])(?P=sep)"
                        r"(?P<d>0[1-9]|[12]\d|3[01])(?![\d\-/])"
                        r"|(?<![\d.\-/])(?P<yy2>[12]\d)(?P<sep2>[\-/])(?P<m2>1[0-2]|[1-9])(?P=sep2)"
                        r"(?P<d2>3[01]|[12]\d|[1-9])(?![\d\-/.%]|\s*(?:cm|mm|次|天|个|例|岁|分))")),
    # 20230305
    # (not inside a code: LB20230601-0032 is a specimen number, not a date)
    ("compact", re.compile(r"(?<![\dA-Za-z])(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])"
                           r"(?![\dA-Za-z]|-\d)")),
    # 05/03/2023 or 5-3-2023 (day-month-year or month-day-year)
    ("dmy", re.compile(r"(?<![\d.])(?P<a>[0-3]?\d)(?P<sep>[\-/.])(?P<b>[0-3]?\d)(?P=sep)(?P<y>(?:19|20)\d{2})(?!\d)")),
    # 2023-03 / 2023.3 (year-month)
    ("ym", re.compile(r"(?<![\d.])" + _Y + r"(?P<sep>[\-/.])(?P<m>1[0-2]|0?[1-9])(?![\d]|[\-/.]\d)"
                      r"(?!\s?(?:[A-Za-zμ%×*^/]|[个万亿千克升次片]))")),  # 1970.9ng/mL is a value
    # 3-28 (month-day, dash only): common in notes; not before units (3-5天, 2-3cm) or after 第/约 (第3-4腰椎)
    ("mdnum", re.compile(r"(?<![\d.\-~/A-Za-z第约共每])(?P<m>1[0-2]|0?[1-9])-(?P<d>3[01]|[12]\d|0?[1-9])"
                         r"(?![\d.\-~/%A-Za-z×*]|\s*[次天日周月年岁个粒片支袋瓶级度期型项处根枚颗滴小分秒节段针组例倍mc克升度揿喷吸贴包丸剂勺口g])")),
    # 3月5日 / 3月5号 (no year)
    ("md", re.compile(r"(?<![\d年.])" + _M + r"\s*月\s*" + _D + r"\s*[日号]")),
    # 三月五日 / 十二月三十一号 (Chinese numerals, no year)
    ("cnmd", re.compile(r"(?<![〇零○一二三四五六七八九十年])(?P<cm>十[一二]?|[一二三四五六七八九])月"
                        r"(?P<cd>[一二]?十[一二三四五六七八九]?|三十一?|[一二三四五六七八九])[日号]")),
    # 23.5.4 (two-digit year with dots, three parts: a value has at most one dot; not after a letter: v2.3.1)
    ("iso2dot", re.compile(r"(?<![\d.A-Za-z])(?P<yy>[0-3]\d|[89]\d)\.(?P<m>1[0-2]|0?[1-9])\.(?P<d>3[01]|[12]\d|0?[1-9])"
                           r"(?![\d.%])")),
    # 03/29, 5/14 (month/day with a slash): only a zero-padded month or a day past 12, so 1/2 or 3/4 stay fractions
    ("mdslash", re.compile(r"(?<![\d./\-A-Za-z])(?P<m>0[1-9]|1[0-2]|[1-9])/(?P<d>0[1-9]|1[3-9]|2\d|3[01])"
                           r"(?![\d./%A-Za-z]|\s*[例次个人天日周月年岁分项台])")),
    # March 12, 2024 / 12 March 2024 / Mar. 8, 2024 (English-language records)
    ("en", re.compile(r"(?i)\b(?:(?P<mn>" + _MONTHS + r")\.?\s+(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?,?"
                      r"|(?P<d2>3[01]|[12]\d|0?[1-9])\s+(?P<mn2>" + _MONTHS + r")\.?,?)\s+(?P<y>(?:19|20)\d{2})\b")),
    # 12-Sep-2023, 5 Sep 2023 (day, month name, year: forms and English-language records)
    ("en", re.compile(r"(?i)\b(?P<d2>3[01]|[12]\d|0?[1-9])[\- ](?P<mn2>" + _MONTHS + r")[\- ](?P<y>(?:19|20)\d{2})\b")),
    # 民國78年5月12日, 112年03月06日 (the Republic of China calendar of Taiwan notes: year + 1911); a three-digit
    # year needs the day, a two-digit one 民國
    ("roc", re.compile(r"(?:民[國国]\s*(?P<ry>\d{2,3})|(?<![\d.])(?P<ry3>1[01]\d))\s*年\s*" + _M + r"\s*月"
                       r"(?:\s*" + _D + r"\s*[日号])")),
    # 3.5 / 3-5 before a visit word is too ambiguous with values; not matched on purpose.
)

# a birth year alone (出生于1930年, 1930年生人): a year of birth says the age, and past 89 that identifies
_BIRTH_YEAR = re.compile(r"(?:出生于|(?:(?<![\u4e00-\u9fff])|(?<=[者人其]))生于|出生年份\s*[:：]?\s*|出生年\s*[:：]\s*)"
                         r"(?P<y>(?:18|19|20)\d{2})(?:\s*年)?(?![\d年月.\-/])"
                         r"|(?<!\d)(?P<y2>(?:18|19|20)\d{2})\s*年\s*(?=出生|生人|生(?![气活病产殖长理成日效育命存态物涯意]))")
# a date of the lunar calendar, as older patients and obituaries give birthdays and deaths: 1929年腊月初八,
# 一九二九年冬月, 生于农历八月十五, （农历十月廿六日）; a month alone only with a year and a month only the lunar
# calendar names (冬月, 腊月, 正月); a lunar date alone not on a festival (中秋 is 八月十五 for everyone)
_LUNAR_MD = (r"(?P<lm>十[一二]|[正一二三四五六七八九十冬腊])月(?P<ld>初[一二三四五六七八九十]|十[一二三四五六七八九]|"
             r"二十[一二三四五六七八九]?|廿[一二三四五六七八九]|三十)日?")
_LUNAR = re.compile(r"(?:(?P<y>(?:18|19|20)\d{2})|(?P<cy>[〇零○一二三四五六七八九]{4}))\s*年\s*(?:农历|阴历)?\s*"
                    rf"(?:{_LUNAR_MD}|(?P<mo>[正冬腊])月)"
                    rf"|(?P<cal>农历|阴历)\s*{_LUNAR_MD.replace('?P<l', '?P<a')}")
_FESTIVALS = frozenset(((1, 1), (1, 15), (2, 2), (5, 5), (7, 7), (7, 15), (8, 15), (9, 9), (12, 8), (12, 23),
                        (12, 30)))
_LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12}


def _lunar_number(word: str) -> int:
    """初八 -> 8, 十五 -> 15, 廿三 -> 23, 正 -> 1, 冬 -> 11, 腊 -> 12 (the lunar months and days in words)."""
    return _LUNAR_MONTHS.get(word) or _cn_int(word.removeprefix("初").replace("廿", "二十"))


# a time after a date belongs to it (2024-05-26 12:47, 2020年10月25日11时7分)
_TIME = re.compile(r"\s?(?:[01]?\d|2[0-3])(?:[:：][0-5]\d(?:[:：][0-5]\d)?|时(?:[0-5]?\d分)?|点(?:[0-5]?\d分)?)")
_AGE = re.compile(r"(?<![\d.])(?P<n>9\d|1[01]\d)\s*(?:周岁|岁|歲|yrs?|years?)"
                  r"|(?:年龄|年齡)\s*[:：]?\s*(?P<n2>9\d|1[01]\d)(?![\d.])"
                  r"|(?:今年|现年|享年|年已)\s*(?P<n3>9\d|1[01]\d)(?=\s*(?:了|岁|周岁|歲|[，,。；;]|$))"
                  r"|(?P<cn>九十[一二三四五六七八九]?|一百(?:零?[一二三四五六七八九]|一十?[一二三四五六七八九]?)?)(?:周岁|岁)")
_ANY_DIGIT = re.compile(r"\d")
_MENSES = re.compile(r"经|\d\s*$")  # the menstrual formula (月经 13 5/28) or a number just before
# where a month/day with a slash is a date: after a date word or a preposition of time (预约的03/29, 于5/14)
_DATE_SLOT = re.compile(r"(?:于|在|至|到|从|日期|时间|预约的?|复诊|就诊|入院|出院|手术|截至|[:：])\s*$")
_VISIT_AFTER = re.compile(r"\s*(?:复查|复诊|随访|入院|出院|就诊|门诊|手术|住院|来院|开始|起|至|到|[:：])")
_AGE_UNIT = re.compile(r"\s*(?:周岁|岁|歲|yrs?|years?)")
_YEARISH = re.compile(r"(?:18|19|20)\d\d")
_DOSE_BEFORE = re.compile(r"(?:mg|g|μg|ug|ml|iu|u|片|粒|支|丸|袋|次|每日|每天|qd|bid|tid)\s*$", re.IGNORECASE)
_BIRTH_AFTER = re.compile(r"\s*(?:出生|生人|生)(?![气活病产殖长理成])"
                          r"|\s*[，,、]\s*(?:出生于|生于|出生在|出生地)")  # 1964年4月，出生于北京市: the birth month


def _cn_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s.startswith("十"):
        return 10 + (_CN_DIGIT[s[1]] if len(s) > 1 else 0)
    if "十" in s:
        a, _, b = s.partition("十")
        return _CN_DIGIT[a] * 10 + (_CN_DIGIT[b] if b else 0)
    return _CN_DIGIT[s]


@cache
def _birth_label() -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in lexicon().context.get("BIRTH_DATE", ()))
    return re.compile(f"(?:{words})" + r"\s*(?:日期|时间)?\s*[:：为是于在]?\s*$")


def _parts(kind: str, m: re.Match[str]) -> tuple[int, int, int]:
    """(year, month, day) with 0 for a missing part."""
    g = m.groupdict()
    if kind == "cnmd":
        return 0, _cn_int(g["cm"]), _cn_int(g["cd"])
    if kind in ("cnnum", "cnmix"):
        y = int(g["y"]) if kind == "cnmix" else int("".join(str(_CN_DIGIT[c]) for c in g["cy"]))
        return y, _cn_int(g["cm"]), _cn_int(g["cd"]) if g.get("cd") else 0
    if kind == "en":
        name = (g.get("mn") or g["mn2"])[:3].lower()
        return int(g["y"]), _MONTH_NAMES.index(name) + 1, int(g.get("d") or g["d2"])
    if kind == "roc":
        return int(g["ry"] or g["ry3"]) + 1911, int(g["m"]), int(g["d"])
    if kind == "iso2" and g.get("yy2"):
        return 2000 + int(g["yy2"]), int(g["m2"]), int(g["d2"])
    if kind in ("cn2", "iso2", "iso2dot"):
        yy = int(g["yy"])
        return (2000 + yy if yy <= 40 else 1900 + yy), int(g["m"]), int(g["d"] or 0)
    if kind == "dmy":
        a, b = int(g["a"]), int(g["b"])
        month, day = (a, b) if a <= 12 else (b, a)
        return int(g["y"]), month, day
    y = int(g["y"]) if g.get("y") else 0
    return y, int(g["m"]), int(g["d"]) if g.get("d") else 0


def detect_dates(folded: str) -> list[Span]:
    """Dates (DATE or BIRTH_DATE) and ages over 89 (AGE) of one folded text."""
    out: list[Span] = []
    if _ANY_DIGIT.search(folded) is None and "年" not in folded and "月" not in folded and "岁" not in folded:
        return out
    birth_label = _birth_label()
    has_year = _YEARISH.search(folded) is not None
    has_nian, has_yue = "年" in folded, "月" in folded
    for kind, pat in _PATTERNS:
        # cheap gates: most patterns need a 4-digit year, 年 or 月; skip them on texts that have none
        if kind in ("iso", "compact", "dmy", "ym") and not has_year:
            continue
        if (kind in ("cn", "cnmix") and not (has_year and has_nian)) or \
                (kind in ("cn2", "cnnum", "roc") and not has_nian) or \
                (kind == "cnmd" and not has_yue):
            continue
        if (kind == "md" and not has_yue) or (kind in ("mdnum", "iso2") and "-" not in folded and "/" not in folded):
            continue
        if (kind == "iso2dot" and "." not in folded) or (kind == "mdslash" and "/" not in folded) or \
                (kind == "en" and not has_year):
            continue
        for m in pat.finditer(folded):
            y, mo, d = _parts(kind, m)
            if not (1 <= mo <= 12) or d > 31:
                continue
            if kind == "dmy" and (int(m.group("a")) > 12 and int(m.group("b")) > 12):
                continue
            if kind == "iso2" and m.group("yy2") and not (
                    _DATE_SLOT.search(folded, max(0, m.start() - 6), m.start()) or _VISIT_AFTER.match(folded, m.end())
                    or m.start() == 0 or folded[m.start() - 1] in "\n\t"):
                continue  # 12-3-4 after a lab name is a range; an unpadded date needs a date's place
            if kind == "mdnum" and _DOSE_BEFORE.search(folded, max(0, m.start() - 8), m.start()):
                continue  # 100μg 1-2揿: a dose range, not a date
            if kind == "mdslash" and (_MENSES.search(folded, max(0, m.start() - 12), m.start()) or not (
                    m.group("m").startswith("0") or _DATE_SLOT.search(folded, max(0, m.start() - 6), m.start())
                    or ((m.start() == 0 or folded[m.start() - 1] == "\n") and folded[m.end():m.end() + 1].isspace()))):
                continue  # 月经史：13 5/28, 淋巴结(5/13枚): counts and cycles; a date needs a date's place
            s, e = m.start(), m.end()
            if d:
                tm = _TIME.match(folded, e)
                if tm:
                    e = tm.end()
            before = folded[max(0, s - 10):s]
            is_birth = bool(birth_label.search(before)) or bool(_BIRTH_AFTER.match(folded, e))
            etype = "BIRTH_DATE" if is_birth else "DATE"
            score = 0.9 if kind in ("cn", "cnnum", "cnmix", "iso", "en", "roc") else \
                (0.65 if kind in ("iso2", "mdnum", "iso2dot", "mdslash") else 0.75)
            if kind == "ym" and not is_birth:
                score = 0.6
            out.append(Span(s, e, etype, score, f"date:{y}-{mo}-{d}:{kind}"))
    if "月" in folded and ("初" in folded or "十" in folded or "廿" in folded):
        for m in _LUNAR.finditer(folded):
            y = int(m.group("y")) if m.group("y") else \
                int("".join(str(_CN_DIGIT[c]) for c in m.group("cy"))) if m.group("cy") else 0
            if m.group("mo"):
                mo, d = _lunar_number(m.group("mo")), 0
            else:
                lunar = "l" if m.group("lm") else "a"
                mo, d = _lunar_number(m.group(lunar + "m")), _lunar_number(m.group(lunar + "d"))
            is_birth = bool(birth_label.search(folded, max(0, m.start() - 10), m.start())) or \
                bool(_BIRTH_AFTER.match(folded, m.end()))
            if not y and not is_birth and (mo, d) in _FESTIVALS:
                continue
            out.append(Span(m.start(), m.end(), "BIRTH_DATE" if is_birth else "DATE", 0.9,
                            f"date:{y}-{mo}-{d}:lunar"))
    if "生" in folded:
        for m in _BIRTH_YEAR.finditer(folded):
            g = "y" if m.group("y") else "y2"
            out.append(Span(m.start(g), m.end(), "BIRTH_DATE", 0.9, f"date:{m.group(g)}-0-0:birthyear"))
    age_gate = "岁" in folded or "歲" in folded or "年" in folded or "yr" in folded or "year" in folded
    for m in (_AGE.finditer(folded) if age_gate else ()):
        g = "n2" if m.group("n2") is not None else "n3" if m.group("n3") is not None else None
        if g:  # 年龄：95, 今年91了 -> keep the label, replace the number (and its 岁: 年龄：98岁)
            unit = _AGE_UNIT.match(folded, m.end(g))
            out.append(Span(m.start(g), unit.end() if unit else m.end(g), "AGE", 0.9, "age"))
        else:
            out.append(Span(m.start(), m.end(), "AGE", 0.9, "age"))
    return out
