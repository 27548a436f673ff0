"""Identifier values and the many surface forms real notes give them (ID numbers, phones, dates, record numbers).

Every function takes the caller's `random.Random`, so a chunk's output depends only on its seed. Forms are varied
on purpose (spaces, dashes, +86, full-width digits, lower-case x, 15-digit legacy IDs): the de-identifier is scored
on them and must not get an easy ride.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from cmedins.synth.rand import pick
from cmedins.synth.text import fullwidth_digits

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum(first17: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check character of an 18-digit resident ID."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number(rng: random.Random, area: str, birth: date, sex: str, want_x: bool = False) -> str:
    """A valid 18-character ID (odd sequence digit for men). `want_x` retries until the check character is X."""
    for _ in range(40):
        seq = rng.randrange(0, 100) * 10 + (rng.randrange(1, 10, 2) if sex == "男" else rng.randrange(0, 10, 2))
        body = f"{area}{birth:%Y%m%d}{seq:03d}"
        check = id_checksum(body)
        if not want_x or check == "X":
            return body + check
    return body + check


def id_surface(rng: random.Random, value: str) -> str:
    """How an ID number is typed into a note."""
    r = rng.random()
    if r < 0.62:
        return value
    if r < 0.72:
        return f"{value[:6]} {value[6:14]} {value[14:]}"
    if r < 0.8:
        return value[:-1] + value[-1].lower()
    if r < 0.9:
        return fullwidth_digits(value)
    return f"{value[:6]}-{value[6:14]}-{value[14:]}"


def legacy_id(value18: str) -> str:
    """The 15-digit first-generation ID for the same person (no century, no check digit)."""
    return value18[:6] + value18[8:17]


_MOBILE_PREFIX = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "176",
    "177",
    "180",
    "181",
    "182",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "195",
    "198",
    "199",
)
_AREA_CODES = (
    "010",
    "021",
    "020",
    "0755",
    "0571",
    "025",
    "028",
    "027",
    "0531",
    "0371",
    "029",
    "0731",
    "024",
    "0592",
    "0871",
    "0394",
    "0817",
)


def mobile(rng: random.Random) -> str:
    return pick(rng, _MOBILE_PREFIX) + f"{rng.randrange(0, 100_000_000):08d}"


def mobile_surface(rng: random.Random, value: str) -> str:
    a, b, c = value[:3], value[3:7], value[7:]
    forms = (
        value,
        value,
        value,
        f"{a} {b} {c}",
        f"{a}-{b}-{c}",
        f"+86 {value}",
        f"+86-{a}-{b}-{c}",
        f"+86{value}",
        f"(+86){value}",
        f"86-{value}",
        f"{a}{b} {c}",
        fullwidth_digits(value),
        f"+86 {a} {b} {c}",
    )
    return pick(rng, forms)


def landline(rng: random.Random) -> str:
    code = pick(rng, _AREA_CODES)
    n = 8 if len(code) == 3 or rng.random() < 0.7 else 7
    local = str(rng.randrange(2, 9)) + "".join(str(rng.randrange(10)) for _ in range(n - 1))
    form = rng.randrange(6)
    if form == 0:
        s = f"{code}-{local}"
    elif form == 1:
        s = f"({code}){local}"
    elif form == 2:
        s = f"{code} {local[:4]} {local[4:]}"
    elif form == 3:
        s = f"（{code}）{local}"
    elif form == 4:
        s = f"{code}{local}"
    else:
        s = f"{code}-{local}转{rng.randrange(100, 9000)}"
    return s


_CN_NUM = "〇一二三四五六七八九"


def _cn_year(y: int) -> str:
    return "".join(_CN_NUM[int(c)] for c in str(y))


_DATE_COMMON = (
    "{y}年{m}月{d}日",
    "{y}年{m:02d}月{d:02d}日",
    "{y}-{m:02d}-{d:02d}",
    "{y}/{m}/{d}",
    "{y}.{m}.{d}",
    "{y}{m:02d}{d:02d}",
    "{y}-{m}-{d}",
    "{yy:02d}-{m:02d}-{d:02d}",
    "{y}年{m}月{d}号",
    "{y}. {m}. {d}",
    "{y}/{m:02d}/{d:02d}",
)
_DATE_BIRTH = (*_DATE_COMMON, "{cn}年{m}月{d}日", "{y}年{m}月", "{y}.{m:02d}")
_DATE_VISIT = (
    *_DATE_COMMON,
    "{m}月{d}日",
    "{m}-{d}",
    "{y}-{m:02d}-{d:02d} {hh:02d}:{mi:02d}",
    "{y}年{m}月{d}日{h2}时{mi}分",
)
_DATE_WITH_YEAR = tuple(t for t in _DATE_VISIT if "{y" in t)


def date_surface(
    rng: random.Random, d: date, *, birth: bool = False, need_year: bool = False, day_only: bool = False
) -> str:
    """A calendar date as doctors type it. Dates of birth get a few forms of their own; `need_year` keeps to the
    forms that state the year (a date far from the visit cannot leave the reader to guess it), `day_only` to those
    without a time of day."""
    if birth:
        forms = _DATE_BIRTH
    else:
        forms = _DATE_WITH_YEAR if need_year else _DATE_VISIT
        if day_only:
            forms = tuple(t for t in forms if "{h" not in t)
    t = pick(rng, forms)
    extra = {}
    if "{h" in t:
        extra = {"hh": rng.randrange(24), "h2": rng.randrange(7, 23), "mi": rng.randrange(60)}
    elif "{cn}" in t:
        extra = {"cn": _cn_year(d.year)}
    s = t.format(y=d.year, yy=d.year % 100, m=d.month, d=d.day, **extra)
    return fullwidth_digits(s) if rng.random() < 0.05 else s


def mrn(rng: random.Random) -> str:
    """Medical-record / admission / outpatient numbers in several house styles."""
    r = rng.randrange(6)
    if r == 0:
        return f"{rng.randrange(0, 10**8):08d}"
    if r == 1:
        return f"{rng.randrange(10**5, 10**7)}"
    if r == 2:
        return f"BA{rng.randrange(10**7, 10**8)}"
    if r == 3:
        return f"00{rng.randrange(10**6, 10**7)}"
    if r == 4:
        return f"{rng.randrange(2015, 2025)}{rng.randrange(0, 10**6):06d}"
    return f"H{rng.randrange(10**8, 10**9)}"


def insurance_no(rng: random.Random, id_value: str) -> str:
    r = rng.randrange(4)
    if r == 0:
        return id_value  # many regions use the resident ID as the social-security card number
    if r == 1:
        return f"{pick(rng, 'ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randrange(10**10, 10**11)}"
    if r == 2:
        return f"{rng.randrange(10**11, 10**12)}"
    return f"{id_value[:6]}{rng.randrange(10**9, 10**10)}"


def bank_card(rng: random.Random) -> str:
    bins = ("622202", "622848", "621700", "623668", "622588", "621226", "625965")
    body = pick(rng, bins) + "".join(str(rng.randrange(10)) for _ in range(pick(rng, (10, 13))))
    if rng.random() < 0.5:
        return " ".join(body[i : i + 4] for i in range(0, len(body), 4))
    return body


def email(rng: random.Random, pinyin: str) -> str:
    domains = ("163.com", "126.com", "qq.com", "sina.com", "hotmail.com", "foxmail.com", "139.com")
    user = pinyin + pick(rng,
        ("", str(rng.randrange(1960, 2010)), str(rng.randrange(100, 999)), "_" + "abc"[rng.randrange(3)])
    )
    return f"{user}@{pick(rng, domains)}"


def social_account(rng: random.Random) -> tuple[str, str]:
    """(label, value): WeChat ids and QQ numbers as family members leave them for follow-up."""
    if rng.random() < 0.5:
        chars = "abcdefghjkmnpqrstuvwxyz0123456789"
        return pick(rng, ("微信号", "微信", "VX")), "wxid_" + "".join(
            pick(rng, chars) for _ in range(rng.randrange(8, 13))
        )
    return pick(rng, ("QQ", "QQ号")), str(rng.randrange(10**7, 4 * 10**9))


def license_plate(rng: random.Random) -> str:
    prov = "京沪粤浙苏川鄂鲁豫陕湘辽闽云皖冀赣"
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = "".join(pick(rng, letters + "0123456789") for _ in range(5))
    sep = pick(rng, ("", "·", " "))
    return f"{pick(rng, prov)}{pick(rng, letters[:12])}{sep}{tail}"


def passport(rng: random.Random) -> str:
    return pick(rng, "EG") + f"{rng.randrange(10**7, 10**8)}"


def ip_address(rng: random.Random) -> str:
    return f"{pick(rng, (10, 172, 192))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


_PINYIN = (
    "zhang",
    "wang",
    "li",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "lin",
    "luo",
    "gao",
    "xiao",
    "ming",
    "hua",
    "jun",
    "ying",
    "lei",
    "fang",
    "jie",
    "ting",
    "yu",
)


def pinyin_handle(rng: random.Random) -> str:
    return pick(rng, _PINYIN) + pick(rng, ("", ".", "_")) + pick(rng, _PINYIN)


_FIELD = re.compile(r"\{(\w+)(?::02d)?\}")
_FIELD_RE = {"y": r"\d{4}", "yy": r"\d{2}", "m": r"\d{1,2}", "d": r"\d{1,2}", "hh": r"\d{2}", "h2": r"\d{1,2}",
             "mi": r"\d{1,2}"}


def _template_re(t: str) -> re.Pattern:
    out, pos = [], 0
    for m in _FIELD.finditer(t):
        out.append(re.escape(t[pos : m.start()]))
        name = m.group(1)
        width = r"\d{2}" if m.group(0).endswith(":02d}") else _FIELD_RE[name]
        out.append(f"(?P<{name}>{width})")
        pos = m.end()
    out.append(re.escape(t[pos:]))
    return re.compile("".join(out))


_VISIT_RES = tuple((t, _template_re(t)) for t in _DATE_VISIT)
_HALFWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def shift_date_surface(surface: str, days: int, ref: date) -> str | None:
    """The same written date moved by `days`, in the same form (None if the surface is no visit-date form).

    A repeat visit copied from an earlier note moves all its dates together, so the copy's timeline still holds;
    a form without a year takes the year that puts the date nearest `ref`.
    """
    plain = surface.translate(_HALFWIDTH)
    wide = plain != surface
    for t, rx in _VISIT_RES:
        m = rx.fullmatch(plain)
        if not m:
            continue
        g = m.groupdict()
        try:
            if g.get("y"):
                d = date(int(g["y"]), int(g["m"]), int(g["d"]))
            elif g.get("yy"):
                d = date(2000 + int(g["yy"]), int(g["m"]), int(g["d"]))
            else:
                cands = [date(y, int(g["m"]), int(g["d"])) for y in (ref.year - 1, ref.year, ref.year + 1)]
                d = min(cands, key=lambda x: abs((x - ref).days))
        except ValueError:
            continue
        new = d + timedelta(days=days)
        extra = {k: int(v) for k, v in g.items() if k in ("hh", "h2", "mi") and v is not None}
        text = t.format(y=new.year, yy=new.year % 100, m=new.month, d=new.day, **extra)
        return fullwidth_digits(text) if wide else text
    return None
