"""An independent residual-PII scanner for the validation gate.

It shares no code and no patterns with the detectors: if both were wrong the same way, the gate would pass a leak.
Its patterns are deliberately stricter (it prefers false alarms): any run of 7+ digits however spaced, anything
shaped like a phone or an e-mail, a surname-less name after a name label, a full date with a day (unless the build
shifts dates), an age of 90+. Placeholders and pseudonym codes ([姓名], [电话-3fa29c], 90岁以上) are ignored.
Findings carry positions and a kind, never the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from cmedins.deid.lexicon import lexicon

_PLACEHOLDER = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,6}(?:-[0-9a-f]{6})?\]|90岁以上")

_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 7+ digits however spaced, unless it is a measured value (109566.0mIU/mL, 1234567 copies/ml)
    ("digits", re.compile(r"(?<![\d.])\d(?:[\s\-_·]?\d){6,}(?!\.\d)(?!\s?(?:[A-Za-zμ/%]|拷贝|个))")),
    ("mobile", re.compile(r"1\s*[3-9](?:\s*\d){9}")),
    ("id_like", re.compile(r"\d{6}\s*\d{8}\s*\d{3}\s*[\dXx]|\d{17}[Xx]")),
    ("email", re.compile(r"\S+@\S+\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(?i)https?://|www\.")),
    ("ip", re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")),
    ("plate", re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]\W?[A-Z0-9]{5,6}")),
    ("name_label", re.compile(r"(?:姓名|签名|签字|联系人|医师|医生|护士)\s*[:：]\s*"
                             r"(?!\[|患者|病人|患儿|家属|本人|[\u4e00-\u9fff]{1,4}科)"
                             r"[\u4e00-\u9fff]{2,4}")),
    # a relative or escort named right after the kinship word (由其父张三陪同, 其子李四代诉)
    ("kin_name", re.compile(r"(?:其父|其母|其子|其女|其夫|其妻|爱人|丈夫|妻子|儿子|女儿|配偶|家属|陪同人)\s*[:：]?\s*"
                            r"(?!\[|[因于由及和与均也亦等])[\u4e00-\u9fff]{2,3}(?=陪同|陪伴|代诉)")),
    ("surname_title", re.compile(r"[\u4e00-\u9fff](?:先生|女士|小姐|某某)")),
    ("id_label", re.compile(r"(?:身份证|病案号|住院号|门诊号|医保|卡号|电话|手机|微信|QQ|qq|护照)"
                            r"[^\[\n]{0,4}?[:：]?\s*[A-Za-z0-9]{4,}")),
    ("age_90", re.compile(r"(?<!\d)(?:9\d|1[0-2]\d)\s*岁")),
    ("address", re.compile(r"[\u4e00-\u9fff]{1,8}(?:省|市)[\u4e00-\u9fff]{1,8}(?:区|县|市)"
                           r"|[\u4e00-\u9fff0-9]{1,10}(?:路|街|村|小区)[0-9一二三四五六七八九十]+(?:号|栋|幢|组)")),
)
_FULL_DATE = re.compile(r"(?:18|19|20)\d{2}\s*(?:年|[-/.])\s*\d{1,2}\s*(?:月|[-/.])\s*\d{1,2}|\d{1,2}月\d{1,2}[日号]")


_NAME_KINDS = ("name_label", "kin_name", "surname_title")
_MASKED_TAIL = re.compile(r"([\u4e00-\u9fff])某某?$")


@dataclass(frozen=True, slots=True)
class Finding:
    """A suspected identifier left in text `index` at [start, end); `kind` names the check."""

    index: int
    start: int
    end: int
    kind: str


def _masked(text: str) -> str:
    """NFKC-fold (full-width digits) and blank out placeholders, keeping length where NFKC does."""
    folded = "".join(unicodedata.normalize("NFKC", c) if len(unicodedata.normalize("NFKC", c)) == 1 else c
                     for c in text)
    return _PLACEHOLDER.sub(lambda m: "\u25a1" * len(m.group(0)), folded)  # □: neither space, digit nor Han


def scan_residual(texts: Iterable[str], *, dates_shifted: bool = False,
                  masked_names_kept: bool = True) -> list[Finding]:
    """Scan texts that should be de-identified; every finding is a suspected leak.

    dates_shifted: the build shifted dates (full dates are expected then); otherwise a date with a day is a leak.
    masked_names_kept: the de-identifier kept masked names with a common surname (李某某; DeidConfig
    keep_masked_names, the default), so those are no finding; one with any other surname still is.
    """
    common = lexicon().common_surnames if masked_names_kept else frozenset()
    findings: list[Finding] = []
    for i, text in enumerate(texts):
        if not text:
            continue
        t = _masked(text)
        for kind, pat in _CHECKS:
            for m in pat.finditer(t):
                masked = _MASKED_TAIL.search(m.group(0)) if kind in _NAME_KINDS else None
                if masked is not None and masked.group(1) in common:
                    continue  # 其子李某陪同, 李某某: a masked name the de-identifier keeps
                findings.append(Finding(i, m.start(), m.end(), kind))
        if not dates_shifted:
            for m in _FULL_DATE.finditer(t):
                findings.append(Finding(i, m.start(), m.end(), "full_date"))
    return findings
