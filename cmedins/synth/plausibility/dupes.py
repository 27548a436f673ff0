"""Near-duplicate copies whose edits break words: the planted pairs of `ground_truth/duplicates.parquet`, re-read.

A copy-forward edit a doctor makes leaves words whole: a synonym for a word, a clause added or dropped, a number
updated, a character mistyped as another of the same pinyin. Garbling is what no editor types: a character pushed
into the middle of a word (咳的嗽), part of a word deleted (症加重), a word's character swapped for an unrelated one
(的者), or a negation cue changed (未见 -> 未有). Words are jieba's; the changed clause is segmented on both sides and
compared token by token, so this shares no code with the generator or the deduplicator.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

# Same-pinyin character groups (tones ignored): a 1:1 swap inside one group is an IME slip, not garbling.
_HOMOPHONES = (
    "症证正政整征", "状壮撞", "疼腾", "痛通同童", "部步不布", "检减简剪见件建健间", "查茶察", "示是事视市式试室",
    "明名鸣", "显现线限先", "伴半办", "咳可克刻", "嗽受瘦", "热惹", "发法", "头投", "晕云运", "胸凶", "闷们门",
    "气起其期器汽", "促醋", "腹复福服", "泻谢写", "呕偶", "吐土", "血雪", "压鸭押", "无吴五午物务误", "前钱", "后候厚",
    "天添田", "年粘念", "月越约阅", "周州舟", "次刺此", "反返饭", "治至制致", "疗聊辽", "予与雨语于鱼", "给几己",
    "效校笑", "好号", "转专砖", "院愿远", "诊真针", "断段短", "常长场", "规归鬼", "律绿率", "服福扶", "用勇永",
    "药要耀", "片篇偏", "每美没", "日入", "量亮两", "精经京惊", "神深身伸", "饮引印", "食时实十石", "睡税水", "眠绵棉",
    "便变遍辨", "体替提题", "重众种中", "减检简", "轻清青请", "稍烧", "较叫教觉", "继既计记", "续序叙", "观关官",
    "察查茶", "再在载", "次刺", "仍扔", "可课科", "略掠", "约月", "偶藕", "复腹", "加家佳", "患换幻", "者这",
    "出初除", "现线先", "入如", "病并饼", "情请清", "平评凭", "稳问", "既继记", "往网望", "史使始", "健建见",
    "康抗", "否", "认任人", "敏民", "及即级急集", "并病", "适是事", "感敢赶", "觉较", "时实食石", "等登灯", "况矿",
    "度渡度", "分份纷", "左作坐做", "右有又友", "侧测策", "上尚", "下夏吓", "性姓行形", "阵镇震", "续序", "间检",
)
_SAME: dict[str, set[str]] = {}
for _group in _HOMOPHONES:
    for _ch in _group:
        _SAME.setdefault(_ch, set()).update(_group)
_CANON = str.maketrans({ch: min(g) for ch, g in _SAME.items()})
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NEGATION = re.compile(r"[无未否不没非]")
_CLAUSE_END = "，,。；;\n"
_jieba = None


def _cut(text: str) -> list[str]:
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba.lcut(text, HMM=False)


def homophones(a: str, b: str) -> bool:
    return a != b and a in _SAME and b in _SAME[a]


def _clause(text: str, i: int, j: int) -> tuple[int, int]:
    s = i
    while s > 0 and text[s - 1] not in _CLAUSE_END:
        s -= 1
    e = j
    while e < len(text) and text[e] not in _CLAUSE_END:
        e += 1
    return s, e


def _garbled_tokens(ta: list[str], tb: list[str]) -> str | None:
    """The reason a token-level edit of one clause garbles it, or None when every edit keeps words whole."""
    sm = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    for tag, x1, x2, y1, y2 in sm.get_opcodes():
        if tag == "equal":
            continue
        a, b = ta[x1:x2], tb[y1:y2]
        sa, sb = "".join(a), "".join(b)
        clause_edit = any(p in sa or p in sb for p in _CLAUSE_END)  # a clause added or dropped next to a word
        if a and b and not clause_edit and _NEGATION.findall(sa) != _NEGATION.findall(sb):
            return f"negation {sa}->{sb}"
        if len(sa) == len(sb) and sum(x != y for x, y in zip(sa, sb, strict=True)) == 1:
            x, y = next((x, y) for x, y in zip(sa, sb, strict=True) if x != y)
            if homophones(x, y) or (x.isdigit() and y.isdigit()):
                continue
        words = [w for w in a if len(w) >= 2 and _CJK.search(w)]
        for w in b:
            if len(w) == 1 and _CJK.match(w) and any(w in x for x in words):
                return f"broken word {sa}->{sb}"
    return None


def _whole_clauses(text: str, i: int, j: int) -> bool:
    """Whether text[i:j] starts and ends on clause boundaries (a sentence or clause added, dropped or moved)."""
    starts = i == 0 or text[i - 1] in _CLAUSE_END or (i < len(text) and text[i] in _CLAUSE_END)
    ends = j >= len(text) or text[j] in _CLAUSE_END or (j > 0 and text[j - 1] in _CLAUSE_END)
    return starts and ends


_SENTENCE = re.compile(r"[^。，,；;\s]*[。，,；;\s]?")


def garbled_edits(a: str, b: str) -> Iterator[str]:
    """Reasons why the edits turning text `a` into copy `b` garble words (nothing when they keep words whole).

    Clauses are matched first, so a clause or sentence moved, added or dropped whole is no edit inside one; each
    changed clause of the copy is compared with the most similar changed clause of the original.
    """
    if a == b:
        return
    sa = [x.rstrip(_CLAUSE_END + " ") for x in _SENTENCE.findall(a)]
    sb = [x.rstrip(_CLAUSE_END + " ") for x in _SENTENCE.findall(b)]
    rest_a = [x for x in sa if x]
    changed = []
    for x in sb:
        if not x:
            continue
        if x in rest_a:
            rest_a.remove(x)
        else:
            changed.append(x)
    pairs = sorted(
        ((difflib.SequenceMatcher(None, y, x, autojunk=False).ratio(), i, k) for i, x in enumerate(changed)
         for k, y in enumerate(rest_a)),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    for ratio, i, k in pairs:  # the most similar clauses first: an edited clause finds its original
        if ratio < 0.5:
            break
        if i in used_b or k in used_a:
            continue
        used_a.add(k)
        used_b.add(i)
        yield from _garbled_sentence(rest_a[k], changed[i])


def _garbled_sentence(a: str, b: str) -> Iterator[str]:
    if a == b:
        return
    # IME slips are accepted: align the texts with same-pinyin characters made equal, put the original characters
    # back into the copy, and judge the other edits as if the slips were not there.
    chars = list(b)
    aligner = difflib.SequenceMatcher(None, a.translate(_CANON), b.translate(_CANON), autojunk=False)
    for i, j, n in aligner.get_matching_blocks():
        if n < 2:
            continue
        for k in range(n):
            if a[i + k] != b[j + k] and homophones(a[i + k], b[j + k]):
                chars[j + k] = a[i + k]
    b = "".join(chars)
    if a == b:
        return
    codes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    seen: set[tuple[int, int]] = set()
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" or a[i1:i2] == b[j1:j2]:
            continue
        whole_a, whole_b = _whole_clauses(a, i1, i2), _whole_clauses(b, j1, j2)
        if tag == "delete" and whole_a or tag == "insert" and whole_b or tag == "replace" and whole_a and whole_b:
            continue  # a clause or sentence added, dropped, moved or rewritten as a whole
        ca = _clause(a, i1, i2)
        cb = _clause(b, j1, j2)
        if ca in seen:
            continue
        seen.add(ca)
        clause_a, clause_b = a[ca[0] : ca[1]], b[cb[0] : cb[1]]
        reason = _garbled_tokens(_cut(clause_a), _cut(clause_b))
        if reason:
            yield reason
