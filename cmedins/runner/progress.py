"""Progress display for the build: one rich bar per stage, or nothing when quiet."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class BuildProgress:
    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), console=self.console, disable=not enabled,
        )

    def __enter__(self) -> BuildProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, name: str, total: int | None, unit: str, completed: int = 0) -> TaskID:
        return self._progress.add_task(name, total=total, completed=completed, unit=unit)

    def advance(self, task: TaskID, n: int) -> None:
        self._progress.advance(task, n)

    def done(self, task: TaskID) -> None:
        t = self._progress.tasks[task]
        self._progress.update(task, total=t.completed)

    def cached(self, name: str) -> None:
        if self.enabled:
            self._progress.console.print(f"[dim]{name:<10} up to date (cached)[/dim]")

    def warn(self, message: str) -> None:
        """A line the operator must see even with --quiet (a damaged cache being recomputed): it names stages,
        files and batches, never a value."""
        self._progress.console.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)
