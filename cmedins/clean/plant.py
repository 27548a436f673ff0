"""Demo self-check of decontamination: overwrite a few rows with evaluation items, which `clean` must then remove.

Only the first batch (row offset 0) is planted, at positions drawn from the build seed, so the planted rows are the
same whatever the worker count. Planted rows alternate between two kinds of leak:
- the query becomes an evaluation question behind a short prefix (请问：...): found by question similarity and,
  for questions of `ngram_chars` or more, by the long n-gram test;
- the answer becomes an evaluation answer, verbatim: found by the long n-gram test.
The rows keep their ids, so the report and a test can name exactly which rows were planted.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pyarrow as pa

from cmedins.clean.evalsets import EvalItem

PREFIX = "请问："


def planted_positions(n_rows: int, count: int, seed: int) -> list[int]:
    """Row positions (0-based, within the first batch) that `plant` overwrites."""
    return sorted(random.Random(f"plant-eval:{seed}").sample(range(n_rows), min(count, n_rows)))


def _with_messages(row: dict, query: str, answer: str) -> list[dict]:
    messages = []
    for m in row["messages"]:
        content = m["content"]
        if m["role"] == "user":
            content = content.replace(row["query"], query, 1) if row["query"] in content else f"{content}\n{query}"
        elif m["role"] == "assistant":
            content = answer
        messages.append({"role": m["role"], "content": content})
    return messages


def plant(table: pa.Table, items: Sequence[EvalItem], count: int, seed: int) -> tuple[pa.Table, dict[int, str]]:
    """The table with `count` rows overwritten, and {position: eval set name} of the planted rows."""
    usable = [it for it in items if it.questions and it.answers]
    positions = planted_positions(table.num_rows, count, seed)
    if not positions or not usable:
        return table, {}
    rng = random.Random(f"plant-eval-items:{seed}")
    picks = [usable[i % len(usable)] for i in rng.sample(range(max(len(usable), len(positions))), len(positions))]
    rows = table.to_pylist()
    planted: dict[int, str] = {}
    for k, (pos, item) in enumerate(zip(positions, picks, strict=True)):
        row = rows[pos]
        query, answer = (PREFIX + item.questions[0], row["answer"]) if k % 2 == 0 else (row["query"], item.answers[0])
        row["messages"] = _with_messages(row, query, answer)
        row["query"], row["answer"] = query, answer
        planted[pos] = item.set_name
    return pa.Table.from_pylist(rows, schema=table.schema), planted
