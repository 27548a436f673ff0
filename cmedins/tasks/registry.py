"""The task-builder registry: a task is a named function from one de-identified record to candidate pairs.

Keeping builders behind a registry lets a recipe enable, weight or add tasks (via `TasksConfig.plugins`, modules
that call `register_task`) without touching the stage that drives them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmedins.registry import Registry
from cmedins.tasks.formats import Event


@dataclass(frozen=True)
class Item:
    """One candidate instruction pair before an instruction template is chosen.

    `key` tells apart several items of one record (the sentences of task 1); `events` and `icd10` carry the
    structured answer so the checks can test grounding and code format without re-parsing the answer text.
    """

    query: str
    answer: str
    key: str = ""
    events: tuple[Event, ...] = ()
    icd10: tuple[str, ...] = ()


# A builder returns its items, or a skip reason (a counter name, not an error) when the record has no material
# for the task, e.g. "no_events" or "no_medications".
BuildResult = list[Item] | str
Builder = Callable[[dict[str, Any], Any], BuildResult]


@dataclass(frozen=True)
class TaskSpec:
    """A registered task: its id (the task_row `task` value), Chinese name and builder."""

    name: str
    zh: str
    build: Builder
    extraction: bool = False  # answers must be grounded in the query


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


def register_task(name: str, zh: str, *, extraction: bool = False,
                  templates: Path | None = None) -> Callable[[Builder], Builder]:
    """Decorator: register `fn(record, config) -> list[Item] | skip_reason` as task `name`.

    `templates` is the task's template file when it is not `cmedins/tasks/templates/<name>.yaml` (plugins).
    A name already registered by another function (a plugin's `triage`) is an error naming both.
    """

    def wrap(fn: Builder) -> Builder:
        _load_builtin()  # built-ins first, so a plugin that takes a built-in name fails here, naming both
        _TASKS.add(name, TaskSpec(name=name, zh=zh, build=fn, extraction=extraction), fn)
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
