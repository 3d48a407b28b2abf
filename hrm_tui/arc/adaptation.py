"""Per-task adaptation: how HRM meets a task it never saw.

The reference model knows a task only through its puzzle-embedding rows, learned from the
task's demonstration pairs while training. For a new task we do the same after the fact: add
one fresh (zero) row per augmented view, train those rows with the model's own sparse SignSGD
on the demonstrations (the same ACT training step, so Q-halt keeps learning too), and, when
asked, fine-tune the weights as well. The result is an ordinary ARC model that also knows this
task, so `hrm solve arc`, `hrm eval arc` and the app answer it with its learned views.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hrm_tui.arc.model import ArcModelInfo
from hrm_tui.arc.training import ArcSource, plan_tasks, task_data
from puzzles.arc.task import ArcTask, Pair
from puzzles.errors import PuzzleError


@dataclass(frozen=True)
class AdaptSettings:
    seconds: float = 60.0  # wall-clock budget
    max_steps: int = 5000
    augment: int = 7  # views besides the identity
    finetune: bool = False  # also train the weights (else only the new embedding rows)
    lr: float = 1e-4  # weights, when fine-tuning
    puzzle_emb_lr: float = 3e-2
    batch_size: int = 16
    seed: int = 0
    stop_when_fitted: bool = True  # stop early once the demonstrations are reproduced exactly
    log_every: int = 1

    def check(self) -> None:
        checks = [(self.seconds > 0, "--seconds must be positive"), (self.max_steps > 0, "--steps must be positive"),
                  (self.augment >= 0, "--views must be >= 1"), (self.lr >= 0, "--lr must be >= 0"),
                  (self.puzzle_emb_lr > 0, "--emb-lr must be positive"),
                  (self.batch_size > 0, "--batch-size must be positive")]
        for ok, message in checks:
            if not ok:
                raise PuzzleError(message)


@dataclass
class Adapted:
    model: Any  # models.hrm.HRM that knows the task
    steps: int
    seconds: float
    stopped: str  # why training ended: "fitted", "time", "steps" or "stopped"
    log: list[dict[str, Any]] = field(default_factory=list)


class _FitMonitor:
    """Forwards training records and says when to stop: asked to, or the last three logged
    windows reproduced every halted demonstration exactly."""

    def __init__(self, on_log, should_stop, early: bool):
        self.on_log, self.should_stop, self.early = on_log, should_stop, early
        self.log: list[dict[str, Any]] = []
        self.reason: str | None = None

    def record(self, entry: dict[str, Any]) -> None:
        self.log.append(entry)
        if self.on_log:
            self.on_log(entry)

    def stop(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self.reason = "stopped"
        elif self.early and len(self.log) >= 3 and all(r.get("exact_accuracy") == 1.0 for r in self.log[-3:]):
            self.reason = "fitted"
        return self.reason is not None


def adapt(base, task: ArcTask, settings: AdaptSettings = AdaptSettings(),
          on_log: Callable[[dict[str, Any]], None] | None = None,
          should_stop: Callable[[], bool] | None = None):
    """A copy of `base` that has learned `task` from its demonstrations (see module doc)."""
    from models.checkpoint import apply_arrays, model_arrays
    from models.training import TrainConfig, Trainer

    import mlx.core as mx

    settings.check()
    info = ArcModelInfo.from_config(base.config)
    first = base.config.num_puzzle_identifiers
    plan = plan_tasks([task_data(task)], info.canvas, settings.augment, settings.seed, first_identifier=first)
    if task.name in plan.skipped:
        raise PuzzleError(f"{task.name}: its grids do not fit this model's {info.canvas}x{info.canvas} canvas")
    info.task_views[task.name] = plan.info.task_views[task.name]
    config = replace(base.config, num_puzzle_identifiers=plan.num_puzzle_identifiers,
                     extra={**(base.config.extra or {}), **info.to_extra()})
    train_config = TrainConfig(
        batch_size=settings.batch_size, total_steps=settings.max_steps, lr=settings.lr if settings.finetune else 0.0,
        lr_warmup_steps=0, weight_decay=0.1 if settings.finetune else 0.0, puzzle_emb_lr=settings.puzzle_emb_lr,
        seed=settings.seed, log_every=settings.log_every, eval_every=10**9, checkpoint_every=10**9)
    monitor = _FitMonitor(on_log, should_stop, settings.stop_when_fitted)
    trainer = Trainer(config, train_config, ArcSource(plan.examples, info.canvas, settings.batch_size, settings.seed),
                      on_log=monitor.record)
    arrays = model_arrays(base)
    new_rows = mx.zeros((plan.num_puzzle_identifiers - first, arrays["puzzle_emb"].shape[1]))
    arrays["puzzle_emb"] = mx.concatenate([arrays["puzzle_emb"], new_rows])
    apply_arrays(trainer.model, arrays, "base weights")
    start = time.monotonic()
    trainer.run_steps(time_limit=settings.seconds, should_stop=monitor.stop)
    reason = monitor.reason or ("steps" if trainer.step >= settings.max_steps else "time")
    trainer.model.eval()
    return Adapted(trainer.model, trainer.step, time.monotonic() - start, reason, monitor.log)


def demonstrations_as_tests(task: ArcTask) -> ArcTask:
    """The task with its demonstrations as test pairs: answering them checks the adaptation."""
    return ArcTask(task.name, task.train, tuple(Pair(p.input, p.output) for p in task.train))


def adapted_card(task: ArcTask, base_dir: str, adapted: Adapted, settings: AdaptSettings) -> str:
    what = "its new puzzle-embedding rows and fine-tuned the weights" if settings.finetune else \
        "only its new puzzle-embedding rows (weights unchanged)"
    return (f"# ARC HRM weights adapted to task {task.name}\n\n"
            f"Base weights: `{base_dir}`. `hrm adapt` learned {what} from the task's "
            f"{len(task.train)} demonstration pairs in {settings.augment + 1} views: {adapted.steps} steps, "
            f"{adapted.seconds:.0f} s, stopped by {adapted.stopped}. Test outputs were not used.\n")


def fitted_fraction(model, task: ArcTask, max_segments: int | None = None) -> float:
    """Fraction of demonstrations the adapted model reproduces (pass@2 over its views)."""
    from hrm_tui.arc.solving import answer_tasks

    answers = answer_tasks(model, [demonstrations_as_tests(task)], max_segments)
    return float(np.mean([bool(a.correct) for a in answers]))
