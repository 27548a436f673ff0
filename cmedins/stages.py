"""Import the built-in stage modules so that their `@register_stage` decorators run."""

from __future__ import annotations

import cmedins.deid.stage  # noqa: F401  (stage deid)
import cmedins.tasks.stage  # noqa: F401  (stages tasks, tasks_public)
