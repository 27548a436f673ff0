"""Structured identifiers: ID numbers, phones, record / insurance / bank-card numbers, e-mail, IP, URL, plates,
passports and social-media accounts.

Numbers are ambiguous on their own (a lab value, a dose, an ID), so each pattern has a shape check (length,
checksum, a plausible birth date) and labelled numbers use the label in front of them. A long bare digit run that
no rule claims is still redacted as a record number: in a clinical note it is almost never medical content.
All patterns run on the full-width-folded text (`text_norm.fold`).
"""

from __future__ import annotations

import re
from functools import cache

from cmedins.deid.checksums import gb11643_valid, luhn_valid, plausible_birth
from cmedins.deid.lexicon import lexicon, person_words, starts
from cmedins.deid.spans import Span

_SEP = r"[ \-]?"
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6}[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d{3}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z])((?:(?:\(\+?86\)|\+86|0086|86)[ \-]?)?1[3-9]\d[ \-]?\d{4}[ \-]?\d{4})(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z])((?:(?:\+|00)86[ \-]?)?(?:\(0?\d{2,3}\)|0\d{2,3})[ \-]?\d{3,4}[ \-]?\d{4}(?:(?:-|转)\d{1,5})?)"
    r"(?![0-9])"
)
_SERVICE = re.compile(r"(?<![0-9])([48]00[ \-]?\d{3}[ \-]?\d{4})(?![0-9])")
_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{4}(?:[ \-]?\d{4}){2,3}(?:[ \-]?\d{1,3})?)(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[A-Za-z0-9\-._~:/?#@!$&*+=%]+"
    r"|(?<![A-Za-z0-9@.\-])[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.(?:com|cn|net|org|gov|edu|info|io|top|xyz|cc)"
    r"(?:\.cn)?(?:/[A-Za-z0-9\-._~/?#=&%]*)?(?![A-Za-z0-9])"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IP = re.compile(r"(?<![0-9.])(" + _OCTET + r"(?:\." + _OCTET + r"){3})(?![0-9.])")
_PLATE = re.compile(
    r"(?<![A-Za-z0-9])([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-Za-z][ ·•.\-]?"
    r"[A-Za-z0-9]{4}[A-Za-z0-9挂学警港澳领]{1,2})(?![A-Za-z0-9])"
)
_PASSPORT_BARE = re.compile(r"(?<![A-Za-z0-9])([EG]\d{8}|E[A-Z]\d{7})(?![A-Za-z0-9])")
_LONG_DIGITS = re.compile(r"(?<![0-9.])(\d(?:[ \-]?\d){6,})(?![0-9]|\.\d|\s?(?:mg|g|ml|μg|ug|u|iu|次|片|粒))",
                          re.IGNORECASE)
_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,4}[\-]?\d{7,}[A-Za-z0-9]*)(?![A-Za-z0-9.])")
# Accessions of public registries in the code's shape: a variant (dbSNP rs1799983), a trial (NCT04280705), a ClinVar
# record (RCV000012345), a PubMed Central article (PMC7092803), a drug's approval (国药准字H10900089), a standard
# (GB/T 7714-2015); and numbers that are no one's: a year range (2023-2024学年), a schedule of days (0-3-7-14-28),
# a drug's lot (批号2212057). They name no person: not replaced.
_PUBLIC_CODE = re.compile(r"(?<![A-Za-z0-9])(?:rs\d+|NCT\d{8}|[RSV]CV\d{9}|PMC\d{6,8})(?![A-Za-z0-9])"
                          r"|(?<=国药准字)\s*[A-Z]\d{8}|(?:GB|YY|WS|ISO)(?:/T)?\s*\d+(?:[.\-]\d+)*"
                          r"|(?<!\d)(?:19|20)\d{2}-(?:19|20)\d{2}(?!\d)|(?<![\d\-])\d{1,2}(?:-\d{1,2}){3,}(?![\d\-])"
                          r"|(?<=批号)[:：]?\s*[A-Za-z0-9\-]+|(?<=批次)[:：]?\s*[A-Za-z0-9\-]+")
# IPv6: eight hex groups, or fewer with one "::" (2001:db8::8a2e:370:7334); needs at least two colons and a letter
# or 4-digit group so that times (10:30:15) never match; a label's own 6 (IPv6：2001:db8::1, the colon folded) is
# not part of it
_IPV6 = re.compile(r"(?<![0-9A-Za-z])(?:(?<![0-9A-Fa-f]:)|(?<=[Vv]6:))((?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
                   r"|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}"
                   r"|::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})(?![0-9A-Fa-f:])")
# a handle in brackets after the platform's name: 微信（zhoulin3952）, QQ(345678901), 微博（@小鱼儿）
_HANDLE = re.compile(r"(?:微信|WeChat|wechat|VX|vx|wx|QQ|qq|扣扣|微博|抖音|小红书|钉钉)(?:号|号码|账号|ID)?\s*"
                     r"[（(]\s*@?(?P<value>[A-Za-z0-9_\-.\u4e00-\u9fff]{4,30})\s*[）)]")
# an @-mention (@沈一鸣工作室, //@杭州交警：, 用户@momo_lyn：): the handle up to the next space or punctuation. The @
# opens the text or follows a space, punctuation, 用户 or 回复: not an e-mail's @ (a letter or digit before it), not
# a field separator between words (CMeIE writes 胆囊炎@早期行…)
_MENTION = re.compile(r"(?:(?<![^\s/:：，,。；;!！?？（(【\[“\"])|(?<=用户)|(?<=回复)|(?<=转发))"
                      r"@(?P<value>[A-Za-z0-9_\-.\u4e00-\u9fff丶·]{2,30}?)"
                      r"(?=[\s：:，,。；;！!？?（）()@/【】\[\]“”\"]|$)")
# a forum's or platform's name for a user, after its label: 楼主：风吹麦浪1988, 昵称：半杯凉白开, 游戏ID：Moyu丶,
# 抖音：透析君阿强
_NICK_LABEL = re.compile(r"(?:用户名|昵称|网名|楼主|版主|游戏ID|账号昵称|微博名|发帖人|回帖人|发布人|"
                         r"(?:抖音|快手|小红书|视频号|微博|B站)(?:号|账号|ID|名)?)\s*[:：]\s*"
                         r"(?P<value>[A-Za-z0-9_\-.\u4e00-\u9fff丶·]{2,30}?)(?=[\s，,。；;！!？?（）()【】]|$)")

# a forum reply's author: a line opening with the user's name and 回复 (青青子衿 回复：…, Kobe824 回复 篮下无敌手：),
# or 回复 #12 name：
_USER = r"[A-Za-z0-9_\-.\u4e00-\u9fff丶·]{2,30}?"
_REPLY = re.compile(rf"^[ \t]*(?P<value>{_USER})[ \t]+回复\s*(?:[:：]|(?P<v3>{_USER})\s*[:：])"
                    rf"|回复\s*#\d{{1,5}}\s*(?P<v2>{_USER})\s*[:：]", re.MULTILINE)

# where else forums, group chats and system logs name a user: a floor's author (3楼 小鱼儿爱吃药：), a reply's
# addressee opening a line (回复 甜蜜的负担1987：), the author before 发表于, a group member with the QQ number
# in brackets and the message's time (追光者(105886321) 10:05; 放射检查(123456) is a test and its number), a
# netizen in brackets (（网友风中的蒲公英）), a system account (用户wx_8839201,
# 账号为“zhanghj”)
_FORUM_USER = re.compile(
    rf"^[ \t]*\d{{1,5}}\s*楼[ \t\u3000]*(?P<floor>{_USER})[ \t\u3000]*[:：]"
    rf"|^[ \t]*回复[ \t\u3000]+(?P<to>{_USER})[ \t\u3000]*[:：]"
    rf"|^[ \t]*(?P<poster>{_USER})[ \t\u3000]+发表于"
    rf"|^[ \t]*(?P<member>{_USER})[(（]\d{{5,11}}[)）][ \t\u3000]*(?:\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}\s+)?"
    r"\d{1,2}:\d{2}"
    rf"|[（(]网友[:：]?(?P<netizen>{_USER})[）)]"
    r"|(?:用户|账号为|帐号为|账号|帐号|登录名|用户名)[:：]?[ \t]*[\"“]?"
    r"(?P<account>[A-Za-z][A-Za-z0-9_\-.]{3,29})(?![A-Za-z0-9_])",
    re.MULTILINE)
_FORUM_GROUPS = ("floor", "to", "poster", "member", "netizen", "account")
_FLOOR_REF = re.compile(r"\d{1,5}楼|楼主|层主")  # 回复3楼：: a reference to a floor, not a user

# cheap gates (a literal scan) before patterns that would otherwise be tried at every position
_URL_GATE = re.compile(r"://|www\.|\.(?:com|cn|net|org|gov|edu|info|io|top|xyz|cc)")
_ANY_DIGIT = re.compile(r"\d")
_IP_GATE = re.compile(r"\d\.\d{1,3}\.\d")
# half-masked numbers (138****1234, 4401**********1234): the digits left are still part of an identifier
_MASKED = re.compile(r"(?<![0-9A-Za-z*])(\d{1,6}\*{2,12}\d{1,6}[Xx]?)(?![0-9A-Za-z*])")
_POSTCODE = re.compile(r"(?:邮编|邮政编码)\s*[:：]?\s*(\d{6})(?!\d)")
_LABELLED_TYPES = ("ID_NUMBER", "MEDICAL_RECORD_NO", "INSURANCE_NO", "BANK_CARD", "PASSPORT", "SOCIAL_ACCOUNT", "PHONE",
                   "OTHER_ID")
# a device's hardware address (HIPAA: device identifiers), six hex pairs
_MAC = re.compile(r"(?<![0-9A-Fa-f:\-])((?:[0-9A-Fa-f]{2}([:\-]))(?:[0-9A-Fa-f]{2}\2){4}[0-9A-Fa-f]{2})"
                  r"(?![0-9A-Fa-f:\-])")
# a military or police officer's card number: 南字第123456号
_SERVICE_CARD = re.compile(r"(?:军官证|士兵证|警官证|文职干部证)(?:号码|号)?\s*[:：]?\s*"
                           r"([\u4e00-\u9fff]{1,2}字第\d{4,}号)")


@cache
def _label_regex() -> re.Pattern[str]:
    """One alternation over every number label, longest first, with a named group per entity type."""
    ctx = lexicon().context
    parts = []
    for entity in _LABELLED_TYPES:
        words = "|".join(re.escape(w) for w in ctx.get(entity, ()))
        parts.append(f"(?P<{entity}>{words})")
    # label, optional "号/号码", a separator, then the value
    return re.compile(
        starts(w for e in _LABELLED_TYPES for w in ctx.get(e, ())) + "(?:" + "|".join(parts) +
        r")(?:号码|号)?\s*(?:[:：#＃=]|为|是|[(（][^)）]{0,6}[)）])?\s*"
        r"(?P<value>[A-Za-z0-9][A-Za-z0-9_\-.@*]{0,40})"  # * : a half-masked value (4401****1234) still leaks
    )


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit() or c in "Xx")


# a number spoken or typed in Chinese digits (一三八一二三四五六七八, 幺 for 1 on the phone): seven or more of them
# in a row (spaces or dashes between allowed) are an identifier's digits, never a quantity (that says 十, 百, 千)
_CN_DIGIT_RUN = re.compile("[〇零一二三四五六七八九幺](?:[ \\-]?[〇零一二三四五六七八九幺]){6,}")
_CN_TO_ASCII = str.maketrans("〇零一二三四五六七八九幺", "001234567891")
# an e-mail address with non-ASCII letters (张伟@医院.中国), where a label's colon or a space starts it
_EMAIL_INTL = re.compile(r"(?<=[:：\s])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def detect_numbers(folded: str) -> list[Span]:
    """All structured-identifier spans of one (folded) text, also of numbers written in Chinese digits."""
    out = _detect_numbers(folded)
    if _CN_DIGIT_RUN.search(folded):  # the same text with those runs in ASCII digits, character for character
        spoken = _CN_DIGIT_RUN.sub(lambda m: m.group().translate(_CN_TO_ASCII), folded)
        runs = [m.span() for m in _CN_DIGIT_RUN.finditer(folded)]
        out += [s for s in _detect_numbers(spoken) if any(a < s.end and s.start < b for a, b in runs)]
    return out


def _detect_numbers(folded: str) -> list[Span]:
    out: list[Span] = []
    add = out.append
    has_digit = _ANY_DIGIT.search(folded) is not None
    if "@" in folded:
        for m in _EMAIL.finditer(folded):
            add(Span(m.start(), m.end(), "EMAIL", 0.95, "email"))
        for m in _EMAIL_INTL.finditer(folded):
            add(Span(m.start(), m.end(), "EMAIL", 0.9, "email"))
    if _URL_GATE.search(folded):
        for m in _URL.finditer(folded):
            add(Span(m.start(), m.end(), "URL", 0.9, "url"))
    if has_digit:
        _numeric(folded, add)
    for m in _PLATE.finditer(folded):
        add(Span(m.start(1), m.end(1), "LICENSE_PLATE", 0.9, "plate"))
    _labelled(folded, add)
    if "*" in folded:
        for m in _MASKED.finditer(folded):
            v = m.group(1)
            etype = "PHONE" if len(v) == 11 and v[0] == "1" else ("ID_NUMBER" if len(v) in (15, 18) else
                                                                  "MEDICAL_RECORD_NO")
            add(Span(m.start(1), m.end(1), etype, 0.85, "masked_number"))
    if "证" in folded:
        for m in _SERVICE_CARD.finditer(folded):
            add(Span(m.start(1), m.end(1), "OTHER_ID", 0.9, "service_card"))
    if folded.count(":") >= 5 or folded.count("-") >= 5:
        for m in _MAC.finditer(folded):
            add(Span(m.start(1), m.end(1), "OTHER_ID", 0.85, "mac_address"))
    if folded.count(":") >= 2:
        for m in _IPV6.finditer(folded):
            v = m.group(1)
            groups = [g for g in v.split(":") if g]
            if len(groups) >= 3 and (any(c.isalpha() for c in v) or any(len(g) == 4 for g in groups)):
                add(Span(m.start(1), m.end(1), "IP_ADDRESS", 0.85, "ipv6"))
    if "(" in folded or "（" in folded:
        for m in _HANDLE.finditer(folded):
            add(Span(m.start("value"), m.end("value"), "SOCIAL_ACCOUNT", 0.9, "handle_in_brackets"))
    if "@" in folded:
        for m in _MENTION.finditer(folded):
            add(Span(m.start("value"), m.end("value"), "SOCIAL_ACCOUNT", 0.85, "mention"))
    for m in _NICK_LABEL.finditer(folded):
        add(Span(m.start("value"), m.end("value"), "SOCIAL_ACCOUNT", 0.9, "nickname_label"))
    if "回复" in folded:
        for m in _REPLY.finditer(folded):
            for g in ("value", "v2", "v3"):  # (Kobe824 回复 篮下无敌手：: both are users)
                if m.group(g) and m.group(g) not in person_words():  # 医生 回复：: a role, not a user name
                    add(Span(m.start(g), m.end(g), "SOCIAL_ACCOUNT", 0.85, "forum_reply"))
    if any(w in folded for w in ("楼", "回复", "发表于", "网友", "用户", "账号", "帐号", "登录名")) or \
            (("(" in folded or "（" in folded) and ":" in folded):  # (a chat member: name(QQ) 10:05)
        for m in _FORUM_USER.finditer(folded):
            g = next(g for g in _FORUM_GROUPS if m.group(g))
            if not _FLOOR_REF.fullmatch(m.group(g)) and m.group(g) not in person_words():
                add(Span(m.start(g), m.end(g), "SOCIAL_ACCOUNT", 0.85, "forum_user"))
    if "邮" in folded:
        for m in _POSTCODE.finditer(folded):
            add(Span(m.start(1), m.end(1), "ADDRESS", 0.9, "postcode"))
    return out


_LONGISH = re.compile(r"\d[\d \-]{5,}\d")


def _numeric(folded: str, add) -> None:
    if _IP_GATE.search(folded):
        for m in _IP.finditer(folded):
            prev = folded[m.start(1) - 1:m.start(1)]
            if all(len(p) == 1 for p in m.group(1).split(".")) or (prev.isascii() and prev.isalpha()):
                continue  # 2.4.6.8 (liver segments), s1.2.3.4
            add(Span(m.start(1), m.end(1), "IP_ADDRESS", 0.85, "ipv4"))
    if _LONGISH.search(folded) is None:
        return  # every pattern below needs 7+ digits in a row (spaces and dashes allowed)
    for m in _ID18.finditer(folded):
        d = _digits(m.group(1))
        if gb11643_valid(d):
            add(Span(m.start(1), m.end(1), "ID_NUMBER", 0.97, "id18_checksum"))
        elif plausible_birth(d[6:14]):
            add(Span(m.start(1), m.end(1), "ID_NUMBER", 0.9, "id18_shape"))
        elif luhn_valid(d):
            add(Span(m.start(1), m.end(1), "BANK_CARD", 0.85, "card_luhn"))
        else:
            add(Span(m.start(1), m.end(1), "ID_NUMBER", 0.8, "id18_shape"))
    for m in _ID15.finditer(folded):
        d = m.group(1)
        if plausible_birth("19" + d[6:12]):
            add(Span(m.start(1), m.end(1), "ID_NUMBER", 0.85, "id15"))
    for m in _MOBILE.finditer(folded):
        add(Span(m.start(1), m.end(1), "PHONE", 0.93, "mobile"))
    for m in _LANDLINE.finditer(folded):
        add(Span(m.start(1), m.end(1), "PHONE", 0.88, "landline"))
    for m in _SERVICE.finditer(folded):
        add(Span(m.start(1), m.end(1), "PHONE", 0.8, "service_line"))
    for m in _CARD.finditer(folded):
        d = _digits(m.group(1))
        if 16 <= len(d) <= 19 and luhn_valid(d):
            add(Span(m.start(1), m.end(1), "BANK_CARD", 0.92, "card_luhn"))
    for m in _PASSPORT_BARE.finditer(folded):
        add(Span(m.start(1), m.end(1), "PASSPORT", 0.8, "passport_shape"))
    public = [(m.start() + len(m.group()) - len(m.group().lstrip(":： ")), m.end())
              for m in _PUBLIC_CODE.finditer(folded)]
    for m in _LONG_DIGITS.finditer(folded):
        if not any(s <= m.start(1) and m.end(1) <= e for s, e in public):
            add(Span(m.start(1), m.end(1), "MEDICAL_RECORD_NO", 0.55, "long_number"))
    for m in _CODE.finditer(folded):
        if m.span(1) not in public:
            add(Span(m.start(1), m.end(1), "MEDICAL_RECORD_NO", 0.55, "alnum_code"))


_CHECK_DIGIT = re.compile(r"[(（][0-9A][)）]")


def _labelled(folded: str, add) -> None:
    """Numbers named by a label in front of them (住院号：, 医保卡号, 微信：)."""
    for m in _label_regex().finditer(folded):
        entity = next(e for e in _LABELLED_TYPES if m.group(e) is not None)
        value = m.group("value").rstrip(".-_")
        start = m.start("value")
        end = start + len(value)
        ndig = sum(c.isdigit() for c in value)
        if entity == "SOCIAL_ACCOUNT":
            if len(value) < 5 and ndig < 5:
                continue
        elif entity == "MEDICAL_RECORD_NO":
            label = m.group(entity)
            if ndig < (1 if "床" in label else 3):
                continue
        elif entity == "PHONE":
            if ndig < 7:
                continue
        elif ndig < 4:
            continue
        if entity == "SOCIAL_ACCOUNT" and "@" in value:
            continue  # an e-mail after 微信/QQ: the e-mail rule owns it
        check = _CHECK_DIGIT.match(folded, end) if entity == "ID_NUMBER" else None
        end = check.end() if check else end  # K612873(4): a Hong Kong identity card's check digit
        add(Span(start, end, entity, 0.96, "labelled_" + entity.lower()))
