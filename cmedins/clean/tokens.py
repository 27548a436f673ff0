"""Token counts of a dialogue, for the too_long filter.

`approx` needs no model and errs long: one token per CJK character (Qwen, Baichuan, ChatGLM and LLaMA-Chinese
tokenizers use 0.6–1.4), one per three other characters, four per message for the chat template. It counts CJK
characters from the UTF-8 length (a CJK character takes 3 bytes, ASCII 1), so it costs one encode per text.
Anything else is a Hugging Face tokenizer name or path, loaded once per worker (needs `transformers`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PER_MESSAGE = 4


def approx_tokens(contents: list[str]) -> int:
    total = 0
    for text in contents:
        wide = (len(text.encode("utf-8")) - len(text)) // 2  # characters of 3 UTF-8 bytes (CJK) count 1 each
        total += wide + -(-(len(text) - wide) // 3) + PER_MESSAGE
    return total


def approx_tokens_column(messages: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """`approx_tokens` of every row's messages, computed on the Arrow column (no Python strings)."""
    messages = messages.combine_chunks() if isinstance(messages, pa.ChunkedArray) else messages
    content = pc.list_flatten(messages).field("content")
    chars = pc.fill_null(pc.utf8_length(content), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    nbytes = pc.fill_null(pc.binary_length(content), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    wide = (nbytes - chars) // 2
    per_message = wide + -(-(chars - wide) // 3) + PER_MESSAGE
    counts = pc.fill_null(pc.list_value_length(messages), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    ends = np.cumsum(counts)  # list_flatten keeps the rows' messages in order, whatever the array's offset
    sums = np.concatenate([[0], np.cumsum(per_message)])
    return sums[ends] - sums[ends - counts]


def token_counter(tokenizer: str) -> Callable[[list[str]], int]:
    """The counting function for a config's `tokenizer` option."""
    if tokenizer == "approx":
        return approx_tokens
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise ValueError(f"clean: tokenizer {tokenizer!r} needs transformers (pip install -e '.[train]'); "
                         "or use tokenizer: approx") from None
    try:
        tok = AutoTokenizer.from_pretrained(tokenizer)
    except (OSError, ValueError) as exc:
        raise ValueError(f"clean: cannot load tokenizer {tokenizer!r} ({type(exc).__name__})") from None

    def count(contents: list[str]) -> int:
        return sum(len(tok.encode(text, add_special_tokens=False)) + PER_MESSAGE for text in contents)

    return count
