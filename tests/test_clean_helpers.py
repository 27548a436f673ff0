"""Helpers shared by tests/test_clean_*.py (no tests here): task_row tables built from plain texts, and an editor
that makes near-duplicate copies (written here, independently of both the planter and the deduplicator)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pyarrow as pa

from cmedins.contracts import load_contract
from cmedins.stage import StageContext

_FILL = "的了是有无及并后前明显未可者与等患右左下上中见约于"


def task_rows(rows: list[dict]) -> pa.Table:
    """A task_row.v1 table: each dict gives at least query and answer; the other fields get plain defaults."""
    schema = load_contract("task_row").schema
    out = []
    for n, r in enumerate(rows):
        instruction = r.get("instruction", "请根据下面的病历回答问题。")
        row = {
            "id": r.get("id") or hashlib.md5(f"{n}".encode()).hexdigest(),
            "task": r.get("task", "diagnosis"),
            "task_zh": "诊断推断",
            "instruction": instruction,
            "query": r["query"],
            "answer": r["answer"],
            "messages": [{"role": "user", "content": f"{instruction}\n{r['query']}"},
                         {"role": "assistant", "content": r["answer"]}],
            "language": r.get("language", "zh"),
            "template_id": "diagnosis.zh.0",
            "source": "records",
            "source_record_hash": "0" * 32,
            "department": None,
            "deid_version": None,
        }
        for f in schema:  # fields another stage's contract may add: answer_format, patient_key...
            row.setdefault(f.name, "default" if f.name == "answer_format" else row["source_record_hash"])
        out.append(row)
    return pa.Table.from_pylist(out, schema=schema)


def ctx(tmp: Path, row_offset: int = 0, state: object = None) -> StageContext:
    return StageContext(seed=20240521, workdir=tmp, secret=b"test", row_offset=row_offset, state=state)


def edit(text: str, rate: float, seed: int) -> str:
    """`text` with about `rate` of its characters substituted, inserted or deleted at random places (scattered
    single-character edits: the hardest case for shingles)."""
    rng = random.Random(seed)
    chars = list(text)
    for _ in range(max(1, round(rate * len(text)))):
        pos = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.5:
            chars[pos] = rng.choice(_FILL)
        elif op < 0.75:
            chars.insert(pos, rng.choice(_FILL))
        elif len(chars) > 1:
            del chars[pos]
    return "".join(chars)
