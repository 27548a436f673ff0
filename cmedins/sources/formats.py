"""Adapters: one published row shape -> conversational `messages` (multi-turn kept), with the row's own id and
category.

- alpaca: `{instruction, input, output, system?, history?: [[user, assistant], ...]}` (`instruct` is read as
  `instruction`; list-valued instruction/output pair turn by turn): alpaca_zh, Alpaca-CoT, BELLE eval (`fields`).
- cmtmedqa: alpaca with `id` and the department in `cate1`, plus its safety rows `{instruct, output}`: CMtMedQA.
- huatuo26m: alpaca whose instruction/output are one-element lists: the Huatuo-26M test split (Zhongjing copy).
- chatmed: `{query, response}`; the test file's `<s>问：…答：` wrapper is removed: ChatMed consult.
- sharegpt: `{conversations: [{from, value}], system?, tools?}` with human / gpt / function_call / observation
  speakers: glaive tool-call, ShareGPT dumps.
- firefly: `{conversation_id, category, conversation: [{human, assistant}]}`: Firefly, MOSS-style sets.
- messages: `{messages: [{role, content}], tools?}`: rows already in trl's form.
- self_instruct: `{id, instruction, instances: [{input, output}]}`, one example per instance: BELLE zh seed tasks.

Roles become system / user / assistant / tool. A ShareGPT `function_call` turn is the assistant's (its content
the call's JSON, as LLaMA-Factory trains it) and an `observation` is a `tool` message. A conversation must start
with the user (after an optional system message), end with the assistant, and alternate; a tool message must
answer a function call. A row that breaks this, lacks a field or has an empty text raises `AdaptError` with a
reason code and a one-line message that names fields and positions, never text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cmedins.sources.spec import SourceSpec


class AdaptError(ValueError):
    """A row the adapter cannot turn into messages: `reason` is the quarantine code, `field` the field at fault."""

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.field = reason, field


@dataclass(frozen=True)
class Example:
    """One conversation adapted from a row (a self-instruct row yields one per instance)."""

    messages: tuple[tuple[str, str], ...]  # (role, content)
    original_id: str | None = None
    category: str | None = None
    tools: str | None = None
    group_id: str | None = None  # what the examples of one row share (self-instruct: the task id)

    @property
    def user_turns(self) -> int:
        return sum(1 for role, _ in self.messages if role == "user")


ROLES = ("system", "user", "assistant", "tool")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "chatgpt": "assistant", "bing": "assistant", "bard": "assistant", "model": "assistant",
                   "system": "system", "function_call": "assistant", "observation": "tool", "tool": "tool",
                   "function": "tool"}
_CHATMED_WRAPPER = re.compile(r"^\s*(?:<s>)?\s*问[：:]\s*(.*?)\s*答[：:]\s*$", re.S)

# Characters that corrupt published text or hide an identifier from the residual scan (a zero-width space inside a
# phone number): removed. Line breaks are unified. Counted per kind in the stage's stats.
_CLEAN: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("line_break", re.compile("\r\n?|[\u2028\u2029]"), "\n"),
    ("control", re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"), ""),
    ("invisible", re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"), ""),
    ("surrogate", re.compile("[\ud800-\udfff]"), "\ufffd"),
)


def clean_text(text: str, counts: Counter | None = None) -> str:
    """Unify line breaks, drop control and invisible characters, replace lone surrogates; strip the ends."""
    for kind, pattern, repl in _CLEAN:
        text, n = pattern.subn(repl, text)
        if n and counts is not None:
            counts[kind] += 1
    return text.strip()


class _Row:
    """Field access for one raw row with the spec's renames, unescaping and cleaning applied."""

    def __init__(self, raw: Any, spec: SourceSpec, counts: Counter) -> None:
        if not isinstance(raw, dict):
            raise AdaptError("not_an_object", f"row is a JSON {type(raw).__name__}, not an object")
        self.raw = dict(raw)
        for ours, theirs in spec.fields.items():
            if theirs in raw:
                self.raw[ours] = raw[theirs]
        self.spec, self.counts = spec, counts

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def text(self, value: Any, where: str, required: bool = True) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise AdaptError("empty_text", f"{where} is empty or missing", where.split("[")[0])
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise AdaptError("bad_type", f"{where} is a {type(value).__name__}, not text", where.split("[")[0])
        text = str(value)
        if self.spec.unescape_newlines:
            text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\t", "\t")
        text = clean_text(text, self.counts)
        if required and not text:
            raise AdaptError("empty_text", f"{where} is empty after cleaning", where.split("[")[0])
        return text

    def field(self, name: str, required: bool = True) -> str:
        if required and name not in self.raw:
            raise AdaptError("missing_field", f"field {name!r} is missing", name)
        return self.text(self.raw.get(name), name, required)

    def items(self, name: str) -> list:
        """A list field; a JSON string holding a list (CSV cells) is parsed."""
        value = self.raw.get(name)
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except json.JSONDecodeError:
                raise AdaptError("bad_type", f"field {name!r} is text that is not a JSON list", name) from None
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise AdaptError("bad_type", f"field {name!r} is a {type(value).__name__}, not a list", name)
        return list(value)

    def scalar(self, name: str | None) -> str | None:
        """An id or category as text; None when absent or empty."""
        if not name:
            return None
        value = self.raw.get(name)
        if value is None or isinstance(value, dict | list) or str(value).strip() in ("", "nan"):
            return None
        return str(value).strip()

    def tools(self) -> str | None:
        value = self.raw.get("tools")
        if value in (None, "", [], "[]"):
            return None
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return clean_text(value, self.counts) or None

    def example(self, messages: list[tuple[str, str]], id_field: str | None, category_field: str | None,
                original_id: str | None = None, group_id: str | None = None) -> Example:
        system = self.raw.get("system")
        if isinstance(system, str) and system.strip() and (not messages or messages[0][0] != "system"):
            messages = [("system", self.text(system, "system")), *messages]
        check_messages(messages)
        return Example(tuple(messages), original_id or self.scalar(self.spec.id_field or id_field),
                       self.scalar(self.spec.category_field or category_field), self.tools(), group_id)


def check_messages(messages: list[tuple[str, str]], calls: list[bool] | None = None) -> None:
    """Raise AdaptError(`bad_turns`) unless the conversation is system? user (assistant tool* assistant?)... and
    ends with the assistant. `calls[i]` marks assistant messages that are function calls (ShareGPT)."""
    if not messages:
        raise AdaptError("bad_turns", "no messages")
    previous = None
    for i, (role, _) in enumerate(messages):
        if role not in ROLES:
            raise AdaptError("bad_turns", f"message {i + 1}: unknown role (not one of {', '.join(ROLES)})")
        allowed = {None: ("system", "user"), "system": ("user",), "user": ("assistant",),
                   "assistant": ("user", "tool"), "tool": ("assistant", "tool")}[previous]
        if role not in allowed:
            raise AdaptError("bad_turns", f"message {i + 1}: {role} after {previous or 'the start'}")
        if role == "tool" and previous == "assistant" and calls is not None and not calls[i - 1]:
            raise AdaptError("bad_turns", f"message {i + 1}: tool result without a function call before it")
        previous = role
    if previous != "assistant":
        raise AdaptError("bad_turns", f"the conversation ends with {previous}, not the assistant")


def _pairs(row: _Row, name: str) -> list[tuple[str, str]]:
    out = []
    for i, pair in enumerate(row.items(name)):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise AdaptError("bad_turns", f"{name}[{i}] is not a [user, assistant] pair", name)
        out += [("user", row.text(pair[0], f"{name}[{i}][0]")), ("assistant", row.text(pair[1], f"{name}[{i}][1]"))]
    return out


def adapt_alpaca(row: _Row, id_field: str = "id", category_field: str | None = None) -> list[Example]:
    """alpaca / CMtMedQA / Huatuo-26M: history pairs, then instruction (+ input) -> output."""
    key = "instruction" if "instruction" in row.raw or "instruct" not in row.raw else "instruct"
    instruction, output = row.raw.get(key), row.raw.get("output")
    if key not in row.raw:
        raise AdaptError("missing_field", "field 'instruction' is missing", "instruction")
    if "output" not in row.raw:
        raise AdaptError("missing_field", "field 'output' is missing", "output")
    messages = _pairs(row, "history")
    if isinstance(instruction, list) or isinstance(output, list):  # Huatuo-26M: turn by turn
        asks, answers = row.items(key), row.items("output")
        if not asks or len(asks) != len(answers):
            raise AdaptError("bad_turns", f"{key} has {len(asks)} turns, output {len(answers)}", key)
        for i, (q, a) in enumerate(zip(asks, answers, strict=True)):
            messages += [("user", row.text(q, f"{key}[{i}]")), ("assistant", row.text(a, f"output[{i}]"))]
    else:
        user = row.field(key)
        extra = row.field("input", required=False)
        messages += [("user", f"{user}\n{extra}" if extra else user), ("assistant", row.field("output"))]
    return [row.example(messages, id_field, category_field)]


def adapt_cmtmedqa(row: _Row) -> list[Example]:
    return adapt_alpaca(row, "id", "cate1")


def adapt_chatmed(row: _Row) -> list[Example]:
    query = row.field("query")
    m = _CHATMED_WRAPPER.match(query)
    if m:
        query = row.text(m.group(1), "query")
    return [row.example([("user", query), ("assistant", row.field("response"))], "id", None)]


def adapt_sharegpt(row: _Row) -> list[Example]:
    if "conversations" not in row.raw:
        raise AdaptError("missing_field", "field 'conversations' is missing", "conversations")
    messages, calls = [], []
    for i, turn in enumerate(row.items("conversations")):
        if not isinstance(turn, dict):
            raise AdaptError("bad_turns", f"conversations[{i}] is not an object", "conversations")
        speaker = str(turn.get("from", turn.get("role", "")))
        role = _SHAREGPT_ROLES.get(speaker.lower())
        if role is None:
            raise AdaptError("bad_turns", f"conversations[{i}]: unknown speaker", "conversations")
        messages.append((role, row.text(turn.get("value", turn.get("content")), f"conversations[{i}]")))
        calls.append(speaker.lower() == "function_call")
    system = row.raw.get("system")
    if isinstance(system, str) and system.strip():
        messages, calls = [("system", row.text(system, "system")), *messages], [False, *calls]
    check_messages(messages, calls)
    return [row.example(messages, "id", "category")]


def adapt_firefly(row: _Row) -> list[Example]:
    if "conversation" not in row.raw:
        raise AdaptError("missing_field", "field 'conversation' is missing", "conversation")
    messages = []
    for i, turn in enumerate(row.items("conversation")):
        if not isinstance(turn, dict):
            raise AdaptError("bad_turns", f"conversation[{i}] is not an object", "conversation")
        messages += [("user", row.text(turn.get("human"), f"conversation[{i}].human")),
                     ("assistant", row.text(turn.get("assistant"), f"conversation[{i}].assistant"))]
    return [row.example(messages, "conversation_id", "category")]


def adapt_messages(row: _Row) -> list[Example]:
    if "messages" not in row.raw:
        raise AdaptError("missing_field", "field 'messages' is missing", "messages")
    messages = []
    for i, m in enumerate(row.items("messages")):
        if not isinstance(m, dict):
            raise AdaptError("bad_turns", f"messages[{i}] is not an object", "messages")
        messages.append((str(m.get("role", "")), row.text(m.get("content"), f"messages[{i}]")))
    return [row.example(messages, "id", "category")]


def adapt_self_instruct(row: _Row) -> list[Example]:
    instruction = row.field("instruction")
    base = row.scalar(row.spec.id_field or "id")
    out = []
    for i, inst in enumerate(row.items("instances")):
        if not isinstance(inst, dict):
            raise AdaptError("bad_turns", f"instances[{i}] is not an object", "instances")
        extra = row.text(inst.get("input"), f"instances[{i}].input", required=False)
        user = f"{instruction}\n{extra}" if extra else instruction
        answer = row.text(inst.get("output"), f"instances[{i}].output")
        out.append(row.example([("user", user), ("assistant", answer)], "id", None,
                               original_id=f"{base}#{i + 1}" if base else None, group_id=base))
    if not out:
        raise AdaptError("empty_text", "no instances", "instances")
    return out


ADAPTERS: dict[str, Callable[[_Row], list[Example]]] = {
    "alpaca": adapt_alpaca, "cmtmedqa": adapt_cmtmedqa, "huatuo26m": adapt_alpaca, "chatmed": adapt_chatmed,
    "sharegpt": adapt_sharegpt, "firefly": adapt_firefly, "messages": adapt_messages,
    "self_instruct": adapt_self_instruct,
}


def detect_format(row: _Row) -> str:
    """The adapter for a row of unknown format, from its keys."""
    keys = set(row.raw)
    for key, fmt in (("messages", "messages"), ("conversations", "sharegpt"), ("conversation", "firefly"),
                     ("instances", "self_instruct")):
        if key in keys:
            return fmt
    if {"query", "response"} <= keys:
        return "chatmed"
    if "output" in keys and keys & {"instruction", "instruct"}:
        return "cmtmedqa" if "cate1" in keys else "alpaca"
    raise AdaptError("unknown_format", f"no adapter for a row with fields {', '.join(sorted(keys)[:8])}")


def adapt(raw: Any, spec: SourceSpec, counts: Counter) -> list[Example]:
    """The examples of one raw row (AdaptError when it cannot be read); `counts` collects text-cleaning kinds."""
    row = _Row(raw, spec, counts)
    fmt = detect_format(row) if spec.format == "auto" else spec.format
    return ADAPTERS[fmt](row)
