"""Evaluation sets named in a recipe, read into questions and answers per item.

One reader for the layouts seen in practice, by key names rather than by data set:
- Huatuo26M-test (Zhongjing's copy): a JSON array of {instruction: [q], input: "", output: [a]} (lists of one);
- CMtMedQA-test: {instruction, output, history: [[user, assistant], ...]} dialogues, and {instruct, output}
  safety items, in one array;
- JSONL of {question|query|prompt, answer|response|target} or alpaca {instruction, input, output}.
Every user turn counts as a question (what a training row must not repeat); answers and assistant turns count as
answers. Items with no text at all are skipped (counted); a file with none is an error.

`builtin:NAME` names a file shipped in `cmedins/clean/data/` (the default build's demo set). Hub dataset ids are
not fetched: the build reads nothing from the network, so a missing file is one line saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from cmedins.stage import StageError

QUESTION_KEYS = ("instruction", "instruct", "question", "query", "prompt", "input")
ANSWER_KEYS = ("output", "answer", "response", "target")
BUILTIN = "builtin:"


@dataclass(frozen=True)
class EvalItem:
    """One evaluation item: where it comes from and its texts."""

    set_name: str
    item_id: str  # the item's own id, or #<0-based position> when it has none
    questions: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)


def resolve_path(path: str) -> Path:
    """The file a recipe's eval-set path names (`builtin:NAME` -> the package's data folder)."""
    if path.startswith(BUILTIN):
        return Path(str(files("cmedins") / "clean" / "data" / f"{path[len(BUILTIN):]}.json"))
    return Path(path)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def item_from(obj: Any, set_name: str, position: int) -> EvalItem | None:
    """The questions and answers of one JSON object (None when it holds no text)."""
    if not isinstance(obj, dict):
        return None
    questions = [s for k in QUESTION_KEYS for s in _strings(obj.get(k))]
    answers = [s for k in ANSWER_KEYS for s in _strings(obj.get(k))]
    for turn in obj.get("history") or []:
        if isinstance(turn, list | tuple) and turn:
            questions += _strings(turn[0])
            answers += _strings(list(turn[1:]))
    if not questions and not answers:
        return None
    own = obj.get("id")
    item_id = own if isinstance(own, str) and own.strip() else f"#{position}"
    return EvalItem(set_name, item_id, questions, answers)


def _objects(path: Path, name: str) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        hub = "/" in str(path) and not Path(str(path).split("/")[0]).exists()
        hint = " (Hub dataset ids are not downloaded by the build: fetch the file and give its path)" if hub else ""
        raise StageError(f"eval set {name!r}: {path}: no such file{hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StageError(f"eval set {name!r}: {path}: cannot read ({type(exc).__name__})") from None
    if path.suffix.lower() == ".jsonl":
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    raise StageError(f"eval set {name!r}: {path.name}: line {n}: not valid JSON") from None
        return out
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StageError(f"eval set {name!r}: {path.name}: not valid JSON (line {exc.lineno})") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise StageError(f"eval set {name!r}: {path.name}: expected a JSON array of items (or JSONL)")
    return data


def read_eval_set(name: str, path: str) -> list[EvalItem]:
    """Every usable item of one evaluation file."""
    resolved = resolve_path(path)
    items = [it for pos, obj in enumerate(_objects(resolved, name)) if (it := item_from(obj, name, pos))]
    if not items:
        raise StageError(f"eval set {name!r}: {resolved.name}: no item with a question or an answer")
    return items
