"""The task-builder registry: a task is a named function from one de-identified record to candidate pairs.

Keeping builders behind a registry lets a recipe enable, weight or add tasks (via `TasksConfig.plugins`, modules
that call `register_task`) without touching the stage that drives them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmedins.registry import Registry
from cmedins.tasks.formats import DEFAULT_FORMAT, Event, Medication


@dataclass(frozen=True)
class Item:
    """One candidate instruction pair before an instruction template is chosen.

    `key` tells apart several items of one record (the sentences of task 1); `events` and `icd10` carry the
    structured answer so the checks can test grounding and code format without re-parsing the answer text.

    `answers` holds the answer in other formats of `formats.FORMATS` (format name -> text; `answer` is the
    `default` one): the template chosen for the row names the format it asks for, and only templates of a format
    the item has are eligible. `expect` is the structured value every format must parse back to. `target` lists
    the substrings of the answer that are the task's prediction (exempt from grounding); `leak_terms` the names
    that must not be readable in the query (`answer_in_query`); `drugs` the prescriptions the safety rules check.
    `order` places the item among its record's items when a task ranks its candidates (`TaskSpec.ranked`), and
    `counters` are stat increments the builder wants reported (e.g. clauses removed by leakage control).
    `trim` marks a free-text default answer (a doctor's discharge summary) whose sentences stating a fact the query
    lacks are dropped before the checks; when too little is left, `fallback` becomes the default answer.
    """

    query: str
    answer: str
    key: str = ""
    events: tuple[Event, ...] = ()
    icd10: tuple[str, ...] = ()
    answers: dict[str, str] | Callable[[], dict[str, str]] = field(default_factory=dict)
    expect: Any = None
    target: tuple[str, ...] = ()
    leak_terms: tuple[str, ...] = ()
    drugs: tuple[Medication, ...] = ()
    order: int = 0
    counters: tuple[tuple[str, int], ...] = ()
    trim: bool = False
    fallback: str = ""

    def formats(self) -> dict[str, str]:
        """Every format this item can be written in: format name -> answer text (`answers` may be a function, so
        that candidates a ranked task never uses are not rendered)."""
        extra = self.answers() if callable(self.answers) else self.answers
        return {DEFAULT_FORMAT: self.answer, **extra}


# A builder returns its items (a list, or for a ranked task any iterable, read only as far as needed), or a skip
# reason (a counter name, not an error) when the record has no material for the task, e.g. "no_events".
BuildResult = list[Item] | Iterable[Item] | str
Builder = Callable[[dict[str, Any], Any], BuildResult]


@dataclass(frozen=True)
class TaskSpec:
    """A registered task: its id (the task_row `task` value), Chinese name and builder."""

    name: str
    zh: str
    build: Builder
    extraction: bool = False  # answers must be grounded in the query
    ranked: bool = False  # items come best first: keep the first `event_sentences` that pass checks and caps


_TASKS: Registry[TaskSpec] = Registry("task")
_BUILTIN_LOADED = False

DEFAULT_TASKS: tuple[str, ...] = (
    "event_extraction",
    "triage",
    "diagnosis",
    "diagnosis_normalization",
    "medication",
    "summary",
)


def register_task(name: str, zh: str, *, extraction: bool = False, ranked: bool = False,
                  templates: Path | None = None) -> Callable[[Builder], Builder]:
    """Decorator: register `fn(record, config) -> list[Item] | skip_reason` as task `name`.

    `templates` is the task's template file when it is not `cmedins/tasks/templates/<name>.yaml` (plugins).
    A name already registered by another function (a plugin's `triage`) is an error naming both.
    """

    def wrap(fn: Builder) -> Builder:
        _load_builtin()  # built-ins first, so a plugin that takes a built-in name fails here, naming both
        _TASKS.add(name, TaskSpec(name=name, zh=zh, build=fn, extraction=extraction, ranked=ranked), fn)
        if templates is not None:
            from cmedins.tasks.templates import EXTRA_TEMPLATE_FILES, load_templates

            EXTRA_TEMPLATE_FILES[name] = Path(templates)
            load_templates.cache_clear()
        return fn

    return wrap


def _load_builtin() -> None:
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    _BUILTIN_LOADED = True
    from cmedins.tasks import (  # noqa: F401  (registers the six built-in tasks)
        diagnosis,
        diagnosis_normalization,
        event_extraction,
        medication,
        summary,
        triage,
    )


def get_task(name: str) -> TaskSpec:
    _load_builtin()
    return _TASKS.get(name)


def task_names() -> list[str]:
    _load_builtin()
    return _TASKS.names()
