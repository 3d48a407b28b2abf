"""Adaptation progress on stderr, never stdout (which carries the answers): a rich bar per task
while it trains when stderr is a terminal, and one line per task when it ends."""

from __future__ import annotations

from typing import Any

from hrm_tui.arc.adaptation import progress_text


class AdaptProgress:
    """An `hrm_tui.arc.test_time.Observer` for the CLI. `clock` is the record field that
    measures the budget: "cpu_seconds" (test-time training) or "wall_time" (`hrm adapt`)."""

    def __init__(self, budget: float, clock: str = "cpu_seconds", lines: bool = True):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.budget, self.clock, self.lines = budget, clock, lines
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        unit = "CPU s" if clock == "cpu_seconds" else "s"
        self.progress = Progress(TextColumn("[bold]{task.fields[name]}"), BarColumn(),
                                 TextColumn(f"{{task.completed:.0f}}/{{task.total:.0f}} {unit}"),
                                 TextColumn("{task.description}"), console=self.console, transient=True,
                                 disable=not self.console.is_terminal)
        self.bar = None

    def __enter__(self) -> "AdaptProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def start(self, task) -> None:
        self.bar = self.progress.add_task("starting…", total=self.budget, name=f"adapt {task.name}")

    def log(self, record: dict[str, Any]) -> None:
        self.progress.update(self.bar, completed=min(record.get(self.clock, 0.0), self.budget),
                             description=progress_text(record))

    def finish(self, result) -> None:
        self.progress.remove_task(self.bar)
        if self.lines:
            self.console.print(f"test-time training {result.task}: {result.summary()}")
