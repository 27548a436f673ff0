"""A fast token-count approximation, as Polars expressions (whole columns) and as a Python function (tests).

Why not a tokenizer: the build must run offline and in seconds, and the count only decides budgets and token
shares, where a stable, documented estimate is enough. Chinese BPE vocabularies (Qwen, Baichuan) spend roughly one
token per Han character or less, English about 1.3 per word, so by default: 1 per CJK character (Han, CJK and
full-width punctuation), 1.3 per run of ASCII letters or digits, 0.5 per other non-space symbol, plus 4 per message
for the chat template's role markers. Weights are recipe options (mix.tokens). Erring high is the safe side: a
4096 budget computed this way fits a real 4096-token context.
"""

from __future__ import annotations

import math
import re

import polars as pl

_CJK_RANGES = ("\u3000-\u303f", "\u3400-\u4dbf", "\u4e00-\u9fff", "\uf900-\ufaff", "\uff00-\uffef",
               "\U00020000-\U0002ffff")
CJK = "[" + "".join(_CJK_RANGES) + "]"
WORD = "[A-Za-z0-9]+"
SYMBOL = "[^\\sA-Za-z0-9" + "".join(_CJK_RANGES) + "]"
_CJK_RE, _WORD_RE, _SYMBOL_RE = re.compile(CJK), re.compile(WORD), re.compile(SYMBOL)


def count_tokens(text: str, weights: dict[str, float]) -> int:
    """Approximate tokens of one message's content (per_message included); same result as `message_tokens`."""
    raw = (weights["cjk_char"] * len(_CJK_RE.findall(text)) + weights["latin_word"] * len(_WORD_RE.findall(text))
           + weights["symbol"] * len(_SYMBOL_RE.findall(text)))
    return math.ceil(round(raw, 6)) + int(weights["per_message"])


def text_tokens(expr: pl.Expr, weights: dict[str, float]) -> pl.Expr:
    """The same count for a column of texts (message contents)."""
    raw = (expr.str.count_matches(CJK).cast(pl.Float64) * weights["cjk_char"]
           + expr.str.count_matches(WORD).cast(pl.Float64) * weights["latin_word"]
           + expr.str.count_matches(SYMBOL).cast(pl.Float64) * weights["symbol"])
    return (raw.round(6).ceil() + int(weights["per_message"])).cast(pl.Int64)


def message_tokens(weights: dict[str, float], column: str = "messages") -> pl.Expr:
    """Per row, the list of each message's approximate tokens."""
    return pl.col(column).list.eval(text_tokens(pl.element().struct.field("content"), weights))
