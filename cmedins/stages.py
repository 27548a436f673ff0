"""Import the built-in stage modules so that their `@register_stage` decorators run."""

from __future__ import annotations
