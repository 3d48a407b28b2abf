"""Test-time training: before answering a task, learn it from its own demonstrations within a
CPU-time budget (`hrm solve arc --budget`, `hrm eval arc --budget`, the app's ARC screen).

One code path for all three: `train_for_task` adapts the loaded model to one task (its
puzzle-embedding rows, with the recipe below; see `hrm_tui.arc.adaptation`), holding out its
last demonstration to choose the state to keep and to stop early; the answers then come from
the adapted model's views exactly as without training (`hrm_tui.arc.solving.answer_tasks`).
A task nothing can be learned from (no demonstration fits the canvas) is answered untrained.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hrm_tui.arc.adaptation import Adapted, AdaptSettings, adapt
from hrm_tui.arc.model import fits, task_canvas
from hrm_tui.arc.solving import ArcAnswer, answer_tasks
from puzzles.arc.task import ArcTask
from puzzles.errors import PuzzleError

# CPU seconds per task when --budget is not given: 0 (no training), because with the shipped
# weights 15 and 30 CPU s per task solved no more of the measured sample than none (all 0 of
# 20; docs/arc.md, "Test-time training").
DEFAULT_BUDGET = 0.0


def training_settings(budget: float) -> AdaptSettings:
    """The recipe: the task's embedding rows and the weights (AdamATan2, lr 1e-4: no recipe
    tried solved a task of the measured sample, this one had the highest first-attempt cell
    accuracy, see docs/arc.md), batches of 8 so that a short budget still takes tens of steps,
    the held-out demonstration answered every 5 steps."""
    return AdaptSettings(seconds=math.inf, cpu_seconds=budget, augment=3, batch_size=8, hold_out=True,
                         check_every=5, finetune=True, lr=1e-4)


@dataclass
class TaskTraining:
    """What test-time training did for one task."""

    task: str
    model: Any  # the adapted model, or the loaded one when nothing was trained
    adapted: Adapted | None = None
    skipped: str | None = None  # why nothing was trained

    def summary(self) -> str:
        return self.skipped if self.adapted is None else self.adapted.summary()


def train_for_task(model, task: ArcTask, budget: float, on_log: Callable[[dict[str, Any]], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> TaskTraining:
    """`model` adapted to `task` within `budget` CPU seconds (the model itself when 0)."""
    if budget <= 0:
        return TaskTraining(task.name, model, skipped="no test-time training (budget 0)")
    if not any(fits(pair.input, task_canvas(model.config, task)) for pair in task.test):
        return TaskTraining(task.name, model, skipped="not trained: no test input fits the canvas")
    try:
        adapted = adapt(model, task, training_settings(budget), on_log=on_log, should_stop=should_stop)
    except PuzzleError as exc:
        return TaskTraining(task.name, model, skipped=f"not trained: {exc}")
    return TaskTraining(task.name, adapted.model, adapted)


class Observer(Protocol):
    """Follows test-time training task by task (the CLI's progress on stderr)."""

    def start(self, task: ArcTask) -> None: ...

    def log(self, record: dict[str, Any]) -> None: ...

    def finish(self, result: TaskTraining) -> None: ...


def answer_with_budget(model, tasks: list[ArcTask], budget: float, max_segments: int | None = None,
                       observer: Observer | None = None) -> tuple[list[ArcAnswer], list[TaskTraining]]:
    """Voted attempts for every test input of `tasks`, in order, each task answered by the
    model adapted to it (see module doc); without a budget, all tasks in one batch as before."""
    if budget <= 0:
        return answer_tasks(model, tasks, max_segments), []
    answers: list[ArcAnswer] = []
    results: list[TaskTraining] = []
    for task in tasks:
        if observer:
            observer.start(task)
        result = train_for_task(model, task, budget, on_log=observer.log if observer else None)
        if observer:
            observer.finish(result)
        answers += answer_tasks(result.model, [task], max_segments)
        results.append(result)
    return answers, results
