"""Evaluation items from the real test-set files: one item per assistant turn, with the real turns before it.

The file formats are read by the dataset's own source adapters (`cmedins.sources`): Huatuo26M-test's one-element
instruction/output lists, CMtMedQA-test's `history` pairs (and its 144 safety rows `{instruct, output}`), and any
`messages` file (JSONL / JSON / Parquet with a list of {role, content}). Why turn by turn with the real history: the
paper judges each dialogue "in individual parts", and giving both models the same (reference) history keeps one
model's early mistake from deciding every later turn.

A messages row that ends with a user turn is a prompt without a reference: only that last turn is evaluated.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmedins.sources.formats import AdaptError, adapt
from cmedins.sources.readers import read_rows
from cmedins.sources.spec import SourceSpec, SourceSpecError
from cmedins.stage import StageError
from train.config import UsageError
from train.eval.config import EvalConfig, TestSet

SAFETY_SET = "safety"
NO_REFERENCE = "\u0000no-reference"  # placeholder answer for a messages row that ends with the user


@dataclass(frozen=True)
class Item:
    """One prompt to answer: `history` (role, content) pairs before the `question`, and the reference answer."""

    id: str  # "<test set>/<row>#<turn>": stable across runs, the key answer files are matched on
    test_set: str
    group: str  # the dialogue it belongs to (bootstrap resamples dialogues, not turns)
    history: tuple[tuple[str, str], ...]
    question: str
    reference: str | None = None
    rubric: str | None = None  # safety items: what a passing answer must do
    category: str | None = None

    def messages(self) -> list[dict[str, str]]:
        """The chat the model answers: history, then the question."""
        return [{"role": r, "content": c} for r, c in self.history] + [{"role": "user", "content": self.question}]

    def judge_question(self) -> str:
        """The {question} of the judge prompt: the dialogue so far, then the question being answered."""
        if not self.history:
            return self.question
        names = {"user": "患者", "assistant": "医生", "system": "系统"}
        lines = [f"{names.get(r, r)}：{c}" for r, c in self.history]
        return "【对话历史】\n" + "\n".join(lines) + "\n【当前问题】\n" + self.question


def _is_safety_row(value: Any) -> bool:
    return isinstance(value, dict) and "instruct" in value and "history" not in value


def _ends_with_user(value: Any) -> bool:
    msgs = value.get("messages") if isinstance(value, dict) else None
    return isinstance(msgs, list) and bool(msgs) and isinstance(msgs[-1], dict) and msgs[-1].get("role") == "user"


def load_test_set(ts: TestSet, path: Path) -> list[Item]:
    """The items of one test set; a missing file or a row the adapter refuses is a UsageError naming file and row."""
    if not path.is_file():
        raise UsageError(f"test set {ts.name!r}: file not found: {path}")
    try:
        spec = SourceSpec.from_dict({"name": ts.name, "group": "dialogue", "format": ts.format, "path": str(path)})
    except SourceSpecError as exc:
        raise UsageError(str(exc)) from None
    items: list[Item] = []
    kept = 0
    try:
        for raw in read_rows(spec):
            if raw.problem is not None:
                raise UsageError(f"{path} {raw.problem}")
            safety = _is_safety_row(raw.value)
            if (ts.rows == "dialogues" and safety) or (ts.rows == "safety" and not safety):
                continue
            if ts.limit is not None and kept >= ts.limit:
                break
            kept += 1
            value = raw.value
            open_end = _ends_with_user(value)
            if open_end:  # a prompt without reference: let the adapter check the turns, then drop the placeholder
                value = dict(value, messages=[*value["messages"], {"role": "assistant", "content": NO_REFERENCE}])
            try:
                examples = adapt(value, spec, Counter())
            except AdaptError as exc:
                raise UsageError(f"{path} row {raw.line}: {exc}") from None
            for ex in examples:
                items.extend(_turn_items(ts, raw.line, ex.messages, ex.category, open_end))
    except StageError as exc:
        raise UsageError(str(exc).replace(f"mix: source {ts.name!r}: ", f"test set {ts.name!r}: ")) from None
    if not items:
        raise UsageError(f"test set {ts.name!r}: {path} gave no items (rows: {ts.rows}, limit: {ts.limit})")
    return items


def _turn_items(ts: TestSet, line: int, messages: tuple[tuple[str, str], ...], category: str | None,
                open_end: bool) -> list[Item]:
    points = [i for i, (role, _) in enumerate(messages) if role == "assistant" and i and messages[i - 1][0] == "user"]
    if ts.turns == "last" or open_end:
        points = points[-1:]
    out = []
    for turn, i in enumerate(points, 1):
        reference = None if open_end and i == len(messages) - 1 else messages[i][1]
        out.append(Item(
            id=f"{ts.name}/{line}#{turn}", test_set=ts.name, group=f"{ts.name}/{line}", history=messages[:i - 1],
            question=messages[i - 1][1], reference=reference, category=category,
        ))
    return out


def load_safety_items(path: str | Path) -> list[Item]:
    """The hand-written safety items (JSONL: id, category, prompt, rubric; optional history as messages)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"safety items: file not found: {path}")
    items, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path} line {n}: not valid JSON (column {exc.colno})") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path} line {n}: not a JSON object")
        for key in ("id", "category", "prompt", "rubric"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise UsageError(f"{path} line {n}: field {key!r} is missing or empty")
        if row["id"] in seen:
            raise UsageError(f"{path} line {n}: duplicate id {row['id']!r}")
        seen.add(row["id"])
        history = row.get("history") or []
        if not isinstance(history, list) or not all(isinstance(m, dict) and {"role", "content"} <= set(m)
                                                    for m in history):
            raise UsageError(f"{path} line {n}: field 'history' must be a list of {{role, content}}")
        items.append(Item(
            id=f"{SAFETY_SET}/{row['id']}", test_set=SAFETY_SET, group=f"{SAFETY_SET}/{row['id']}",
            history=tuple((m["role"], m["content"]) for m in history), question=row["prompt"].strip(),
            rubric=row["rubric"].strip(), category=row["category"].strip(),
        ))
    if not items:
        raise UsageError(f"safety items: {path} holds no items")
    return items


def load_all(cfg: EvalConfig, with_safety: bool = True) -> tuple[list[Item], list[Item]]:
    """(pairwise items of every test set, safety items) for a config."""
    pairwise = [item for ts in cfg.test_sets for item in load_test_set(ts, cfg.test_set_path(ts))]
    safety = load_safety_items(cfg.safety_items) if with_safety and cfg.safety_items else []
    return pairwise, safety
