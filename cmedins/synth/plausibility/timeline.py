"""Durations and dates as a reader finds them in the text: what 主诉 says, what 现病史 says, and whether they agree.

Why its own parser: the generator knows its timeline, the reader only has the words. Durations are read with their
unit (小时/天/周/月/年) and an optional 余 ("3月余" is at least three months and less than four), dates in the usual
EMR forms; a contradiction is counted only when the readings cannot overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_FW = str.maketrans("０１２３４５６７８９：，．（）", "0123456789:,.()")
_CN = {"半": 0.5, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_UNIT_DAYS = {"小时": 1 / 24, "h": 1 / 24, "天": 1, "日": 1, "周": 7, "星期": 7, "月": 30, "年": 365}
DURATION = re.compile(
    r"(\d+(?:\.\d+)?|半|[一二两三四五六七八九十]{1,3})(余)?(?:个)?(余)?(小时|h|天|日|周|星期|月|年)(余)?"
)
_DATE = re.compile(
    r"(?<![\d.])(?:(?P<y>(?:19|20)\d{2})\s*[年\-/.]\s*(?P<m>\d{1,2})\s*[月\-/.]\s*(?P<d>\d{1,2})(?![\d])[日号]?"
    r"|(?P<y2>(?:19|20)\d{2})(?P<m2>[01]\d)(?P<d2>[0-3]\d)(?!\d)"
    r"|(?P<m4>\d{1,2})月(?P<d4>\d{1,2})[日号])"
)


def normalise(text: str | None) -> str:
    return (text or "").translate(_FW)


def _number(s: str) -> float:
    if s[0].isdigit():
        return float(s)
    if s == "半":
        return 0.5
    if s.startswith("十"):
        return 10 + (_CN.get(s[1:], 0) if len(s) > 1 else 0)
    if "十" in s:
        a, _, b = s.partition("十")
        return _CN[a] * 10 + (_CN[b] if b else 0)
    return float(_CN.get(s, 0))


@dataclass(frozen=True)
class Duration:
    """A stated duration as an interval of days: 3天 is [3, 3], 3月余 is [90, 120)."""

    low: float
    high: float
    start: int
    end: int

    def overlaps(self, other: Duration, slack: float = 0.1) -> bool:
        return self.low <= other.high * (1 + slack) + 0.5 and other.low <= self.high * (1 + slack) + 0.5


def durations(text: str) -> list[Duration]:
    out = []
    for m in DURATION.finditer(text):
        n = _number(m.group(1))
        unit = _UNIT_DAYS[m.group(4)]
        more = bool(m.group(2) or m.group(3) or m.group(5))
        out.append(Duration(n * unit, (n + 1) * unit if more else n * unit, m.start(), m.end()))
    return out


def parse_dates(text: str, ref: date) -> list[tuple[date, int, int]]:
    """Calendar dates in `text` with their span; a date without a year takes the year that puts it nearest `ref`."""
    out = []
    for m in _DATE.finditer(text):
        try:
            if m.group("y"):
                d = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
            elif m.group("y2"):
                d = date(int(m.group("y2")), int(m.group("m2")), int(m.group("d2")))
            else:
                mo, dd = int(m.group("m4")), int(m.group("d4"))
                cands = [date(y, mo, dd) for y in (ref.year - 1, ref.year, ref.year + 1)]
                d = min(cands, key=lambda x: abs((x - ref).days))
        except ValueError:
            continue
        if re.match(r"\s*(.生[）)，,]|生[）)]|生，|出生)", text[m.end() : m.end() + 4]):
            continue  # a date of birth, not an event of this illness
        if m.group("y2") and (
            re.search(r"(号|ID|编号|病案|卡)[:：\s]*$", text[max(0, m.start() - 5) : m.start()])
            or re.search(r"[A-Za-z）)\-]$", text[max(0, m.start() - 1) : m.start()])
        ):
            continue  # a record or phone number that happens to read as YYYYMMDD
        out.append((d, m.start(), m.end()))
    return out


_RECUR = re.compile(r"(加重|再发|复发|再次发作|发作)$")


def complaint_durations(cc: str) -> tuple[list[Duration], list[Duration]]:
    """(course durations, recurrence durations) of a chief complaint: `咳嗽3天，加重1天` -> ([3天], [1天])."""
    course, recur = [], []
    for d in durations(cc):
        before = cc[max(0, d.start - 4) : d.start]
        (recur if _RECUR.search(before) else course).append(d)
    return course, recur


_AGO = re.compile(r"前")
_NEAR = re.compile(r"近$")


def illness_references(hpi: str) -> list[tuple[Duration, str]]:
    """Durations in 现病史 that place an event in time: `3天前` (kind 'ago') and `近3月` (kind 'recent')."""
    out = []
    for d in durations(hpi):
        after = hpi[d.end : d.end + 1]
        before = hpi[max(0, d.start - 1) : d.start]
        if after == "前":
            out.append((d, "ago"))
        elif before == "近":
            out.append((d, "recent"))
    return out
