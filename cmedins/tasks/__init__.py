"""The six CMedINS instruction task builders (paper §3.1.1): de-identified records -> instruction-query-answer rows.

Public API: `TasksConfig`, `build_records`, `build_public`, `register_task`, `Item`, the formats' `parse_*`
functions, and the `tasks` / `tasks_public` stages in `cmedins.tasks.stage`.
"""

from __future__ import annotations

from cmedins.tasks.build import build_records
from cmedins.tasks.config import TasksConfig
from cmedins.tasks.public import build_public
from cmedins.tasks.registry import DEFAULT_TASKS, Item, register_task, task_names

__all__ = ["DEFAULT_TASKS", "Item", "TasksConfig", "build_public", "build_records", "register_task", "task_names"]
