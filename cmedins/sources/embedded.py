"""The embedded sources of the offline default build: generated files in the published formats of public datasets.

A recipe source `{generate: chatmed, rows: 2000}` writes `<stage workdir>/embedded/<source name>.<ext>` in the
format the real dataset uses, then reads it back through the same reader and adapter a downloaded file would go
through, so the default build tests the real path, not a shortcut. The generators live in `embedded_medical`
(ChatMed single-turn and CMtMedQA multi-turn consultations) and `embedded_general` (CoT arithmetic, Python code,
encyclopedic questions); every text is written by this package.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cmedins.parquet_io import ensure_dir, write_text


@dataclass(frozen=True)
class Generator:
    """A generator: the adapter format its file is in, the file layout, and `module:function` producing rows."""

    format: str
    layout: str  # json (an indented array, like CMtMedQA and alpaca) | jsonl (one object a line, like ChatMed)
    function: str
    description: str


GENERATORS: dict[str, Generator] = {
    "chatmed": Generator("chatmed", "jsonl", "cmedins.sources.embedded_medical:chatmed_rows",
                         "single-turn consultations, ChatMed {query, response}"),
    "cmtmedqa": Generator("cmtmedqa", "json", "cmedins.sources.embedded_medical:cmtmedqa_rows",
                          "multi-turn consultations, CMtMedQA {id, cate1, instruction, output, history}"),
    "cot": Generator("alpaca", "json", "cmedins.sources.embedded_general:cot_rows",
                     "arithmetic word problems with worked reasoning, alpaca {instruction, input, output}"),
    "code": Generator("sharegpt", "json", "cmedins.sources.embedded_general:code_rows",
                      "Python programming requests, ShareGPT {conversations: [{from, value}]}"),
    "wiki": Generator("firefly", "jsonl", "cmedins.sources.embedded_general:wiki_rows",
                      "encyclopedic questions, Firefly {conversation_id, category, conversation}"),
}


def unique_draws(draw: Callable[[], object], rows: int, tries_per_row: int = 20) -> list:
    """`rows` distinct results of `draw()` (fewer if the generator runs out of combinations): a generated corpus
    must not teach by exact repetition, and the mixture would otherwise count one text several times."""
    seen: set[str] = set()
    out: list = []
    for _ in range(rows * tries_per_row):
        if len(out) >= rows:
            break
        item = draw()
        key = repr(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def generate_rows(name: str, rows: int, seed: int) -> list[dict]:
    """The rows of generator `name` (a key of GENERATORS)."""
    gen = GENERATORS[name]
    module, function = gen.function.split(":")
    return getattr(importlib.import_module(module), function)(rows, seed)


def write_embedded(name: str, rows: int, seed: int, folder: Path, stem: str) -> Path:
    """Write generator `name`'s rows to `folder/stem.(json|jsonl)` atomically, in its dataset's layout; the same
    (name, rows, seed) always gives the same bytes."""
    gen = GENERATORS[name]
    data = generate_rows(name, rows, seed)
    if gen.layout == "json":
        text = json.dumps(data, ensure_ascii=False, indent=4) + "\n"
    else:
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in data)
    path = ensure_dir(folder) / f"{stem}.{gen.layout}"
    write_text(text, path)
    return path
