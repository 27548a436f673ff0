"""One timeline per visit: when the illness began, when it last changed, how far along a pregnancy is.

主诉, 现病史, the earlier visit, outside examinations and the LMP are all read off this one object, so the complaint's
`咳嗽5天，加重2天` and the history's `5天前…2天前症状加重` cannot disagree, and no date falls before the illness
began or after the visit ended.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from cmedins.synth.rand import below, pick

_DAYS = {"小时": 1 / 24, "天": 1, "周": 7, "月": 30, "年": 365}
_NEAR = re.compile(r"近(\d+|半)(个)?(天|周|月|年)")


@dataclass(frozen=True)
class Span:
    """A stated duration: `n` units, `more` for 余 (3月余)."""

    n: int
    unit: str
    more: bool = False
    month_word: bool = False  # 3个月 rather than 3月

    @property
    def days(self) -> float:
        return self.n * _DAYS[self.unit]

    @property
    def text(self) -> str:
        unit = "个月" if self.unit == "月" and self.month_word else self.unit
        return f"{self.n}{unit}{'余' if self.more else ''}"


@dataclass
class Timeline:
    admission: date
    course: Span  # the complaint's duration: the illness began `course` before admission
    change: tuple[str, Span] | None = None  # 加重 / 再发 / 复发, `span` before admission; shorter than the course
    chronic: bool = False  # the history opens with the long course (years), this episode is `change`
    weeks: int | None = None  # gestational age
    lmp: date | None = None

    @property
    def days(self) -> int:
        return int(self.course.days)

    def allows(self, text: str) -> bool:
        """Whether a phrase's own time span (近3月…) fits inside the course."""
        return _near_days(text) <= self.course.days

    def before(self, days: int) -> date:
        return self.admission - timedelta(days=days)


@cache
def _near_days(text: str) -> float:
    """The longest 近N<unit> span a phrase states, in days (0 when it states none)."""
    days = [(0.5 if m.group(1) == "半" else int(m.group(1))) * _DAYS[m.group(3)] for m in _NEAR.finditer(text)]
    return max(days, default=0.0)


def _span(rng: random.Random, unit: str) -> Span:
    n = {"小时": below(rng, 2, 13), "天": below(rng, 1, 15), "周": below(rng, 1, 8),
         "月": below(rng, 1, 12), "年": below(rng, 1, 20)}[unit]
    more = unit not in ("天", "小时") and rng.random() < 0.15
    return Span(n, unit, more, unit == "月" and rng.random() < 0.6)


def _shorter(rng: random.Random, course: Span) -> Span | None:
    """A span clearly shorter than `course` (a change of the complaint), or None when the course is too short."""
    limit = course.days
    if limit < 2:
        return None
    units = [u for u in ("天", "周", "月") if _DAYS[u] * 2 <= limit] or ["天"]
    unit = units[min(len(units) - 1, int(rng.random() ** 2 * len(units)))] if len(units) > 1 else units[0]
    top = int((limit - 1) // _DAYS[unit])
    top = min(top, {"天": 7, "周": 3, "月": 6}[unit])
    if top < 1:
        return None
    return Span(below(rng, 1, top + 1), unit)


def make_timeline(
    rng: random.Random, admission: date, units: tuple[str, ...], *, chronic_ok: bool, age: int, age_days: int,
    weeks: int | None = None,
) -> Timeline:
    """Draw the visit's timeline: the course in the profile's units, a change 30 % of the time, a chronic opening."""
    if weeks is not None:
        course = Span(below(rng, 2, 13), "小时") if rng.random() < 0.4 else Span(below(rng, 1, 6), "天")
        lmp = admission - timedelta(days=7 * weeks + below(rng, 0, 7))
        return Timeline(admission, course, weeks=weeks, lmp=lmp)
    if chronic_ok and age >= 30 and rng.random() < 0.45:
        years = below(rng, 2, min(30, age - 20) + 1)
        recent = Span(below(rng, 1, 15), "天") if rng.random() < 0.7 else Span(below(rng, 1, 4), "周")
        change = (pick(rng, ("加重", "再发", "加重")), recent)
        return Timeline(admission, Span(years, "年", rng.random() < 0.2), change, True)
    unit = pick(rng, units)
    course = _span(rng, unit)
    while course.days > max(1, age_days - 1) and course.n > 1:  # a 10-day-old has not been ill for 12 days
        course = Span(max(1, min(course.n - 1, int(max(1, age_days - 1) // _DAYS[course.unit]))), course.unit)
    if course.days > max(1, age_days - 1):
        course = Span(max(1, min(age_days - 1, 3)), "天")
    change = None
    if rng.random() < 0.3:
        short = _shorter(rng, course)
        if short is not None:  # 再发 / 复发 only after a course long enough to have had a remission
            change = (pick(rng, ("加重", "再发", "复发", "加重")) if course.days >= 30 else "加重", short)
    return Timeline(admission, course, change)
