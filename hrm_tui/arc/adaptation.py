"""Per-task adaptation: how HRM meets a task it never saw, and test-time training.

The reference model knows a task only through its puzzle-embedding rows, learned from the
task's demonstration pairs while training. For a new task we do the same after the fact: add
one fresh (zero) row per augmented view, train those rows with the model's own sparse SignSGD
on the demonstrations (the same ACT training step, so Q-halt keeps learning too), and, when
asked, fine-tune the weights as well. A task the model already learned (same name) keeps its
views and continues from its own rows. The result is an ordinary ARC model that also knows
this task, so `hrm solve arc`, `hrm eval arc` and the app answer it with its learned views.

Test-time training (`hrm solve arc --budget`) is the same with a CPU-time budget and one
demonstration held out: it is answered as a test input would be every few steps, the state
that answers it best is kept, and a solved held-out pair ends training early.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hrm_tui.arc.model import ArcModelInfo, fits, on_canvas, task_canvas
from hrm_tui.arc.training import ArcSource, TaskData, plan_tasks, view_examples
from puzzles.arc.task import ArcTask, Pair
from puzzles.errors import PuzzleError


@dataclass(frozen=True)
class AdaptSettings:
    seconds: float = 60.0  # wall-clock budget
    cpu_seconds: float | None = None  # CPU-time budget of this process (test-time training)
    max_steps: int = 5000
    augment: int = 7  # views besides the identity, for a task the model never learned
    finetune: bool = False  # also train the weights (else only the task's embedding rows)
    lr: float = 1e-4  # weights, when fine-tuning
    puzzle_emb_lr: float = 3e-2
    batch_size: int = 16
    seed: int = 0
    stop_when_fitted: bool = True  # stop early once the demonstrations are reproduced exactly
    hold_out: bool = False  # keep the last demonstration for choosing the state (tasks with >= 2)
    check_every: int = 5  # optimiser steps between answers of the held-out demonstration
    log_every: int = 1

    def check(self) -> None:
        checks = [(self.seconds > 0, "--seconds must be positive"), (self.max_steps > 0, "--steps must be positive"),
                  (self.cpu_seconds is None or self.cpu_seconds > 0, "--budget must be positive to adapt"),
                  (self.augment >= 0, "--views must be >= 1"), (self.lr >= 0, "--lr must be >= 0"),
                  (self.puzzle_emb_lr > 0, "--emb-lr must be positive"),
                  (self.batch_size > 0, "--batch-size must be positive"), (self.check_every > 0, "check_every > 0")]
        for ok, message in checks:
            if not ok:
                raise PuzzleError(message)


@dataclass
class Adapted:
    model: Any  # models.hrm.HRM that knows the task
    steps: int
    seconds: float
    stopped: str  # why training ended: "fitted", "held-out solved", "time", "budget", "steps" or "stopped"
    log: list[dict[str, Any]] = field(default_factory=list)
    cpu_seconds: float = 0.0
    held_out: dict[str, Any] | None = None  # the kept state's answer of the held-out pair: step, correct, cells
    views: int = 0  # the task's views (one embedding row each)
    new_rows: bool = True  # False: the model had learned the task, its own rows went on training


    def summary(self) -> str:
        """One line: how long it trained, why it stopped, how the held-out pair was answered."""
        text = f"{self.steps} steps, {self.cpu_seconds:.1f} CPU s, stopped by {self.stopped}"
        if self.held_out is not None:
            kept = self.held_out
            verdict = "solved" if kept["correct"] else f"not solved, {100 * kept['cells']:.0f}% of cells"
            text += f"; kept step {kept['step']}: held-out demonstration {verdict}"
        return text


def progress_text(record: dict[str, Any]) -> str:
    """One training record for a progress display: step, loss, the last held-out answer."""
    text = f"step {record['step']} · loss {record['loss']:.3f}"
    if "exact_accuracy" in record:
        text += f" · demos exact {record['exact_accuracy']:.0%}"
    if "held_out_cells" in record:
        text += (" · held-out demo solved" if record["held_out_correct"]
                 else f" · held-out demo {record['held_out_cells']:.0%} cells")
    return text


class _Monitor:
    """Forwards training records (with the CPU seconds used, and the held-out answer when one
    was checked), keeps the state that answers the held-out pair best, and says when to stop:
    asked to, out of CPU budget, the held-out pair solved, or the last three logged windows
    reproduced every halted demonstration exactly."""

    def __init__(self, settings: AdaptSettings, held_out: ArcTask | None, on_log, should_stop, cpu_start: float):
        self.settings, self.held_out, self.on_log, self.should_stop = settings, held_out, on_log, should_stop
        self.cpu_start = cpu_start
        self.trainer = None
        self.log: list[dict[str, Any]] = []
        self.reason: str | None = None
        self.best: dict[str, Any] | None = None  # step, correct, cells of the kept state
        self.last_check: dict[str, Any] | None = None
        self.best_arrays: dict | None = None

    def cpu_seconds(self) -> float:
        return time.process_time() - self.cpu_start

    def check_held_out(self, step: int) -> dict[str, Any]:
        """Answer the held-out pair as a test input; keep this state if it does at least as
        well as the best so far (later states win ties: they fit the demonstrations better)."""
        from hrm_tui.arc.solving import answer_tasks
        from models.checkpoint import model_arrays

        (answer,) = answer_tasks(self.trainer.model, [self.held_out])
        result = {"step": step, "correct": bool(answer.correct), "cells": answer.cell_accuracy}
        self.last_check = result
        if self.best is None or (result["correct"], result["cells"]) >= (self.best["correct"], self.best["cells"]):
            self.best, self.best_arrays = result, model_arrays(self.trainer.model)
        return result

    def record(self, entry: dict[str, Any]) -> None:
        if self.held_out is not None and entry["step"] % self.settings.check_every == 0:
            self.check_held_out(entry["step"])
        if self.last_check is not None:  # the latest answer of the held-out pair, in every record
            entry.update(held_out_correct=self.last_check["correct"], held_out_cells=self.last_check["cells"],
                         held_out_step=self.last_check["step"])
        entry["cpu_seconds"] = round(self.cpu_seconds(), 2)
        self.log.append(entry)
        if self.on_log:
            self.on_log(entry)

    def stop(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self.reason = "stopped"
        elif self.settings.cpu_seconds is not None and self.cpu_seconds() >= self.settings.cpu_seconds:
            self.reason = "budget"
        elif self.log and self.log[-1].get("held_out_correct"):
            self.reason = "held-out solved"
        elif (self.settings.stop_when_fitted and len(self.log) >= 3
              and all(r.get("exact_accuracy") == 1.0 for r in self.log[-3:])):
            self.reason = "fitted"
        return self.reason is not None

    def keep_best(self) -> None:
        """Check the last state too, then load the best one into the trainer's model."""
        from models.checkpoint import apply_arrays

        if self.held_out is None:
            return
        step = self.trainer.step
        if self.last_check is None or self.last_check["step"] != step:
            self.check_held_out(step)
        if self.best["step"] != step:
            apply_arrays(self.trainer.model, self.best_arrays, "the best held-out state")


def split_held_out(name: str, pairs: tuple[Pair, ...], hold_out: bool) -> tuple[tuple[Pair, ...], ArcTask | None]:
    """(pairs to train on, a task whose only test pair is the last demonstration), or all pairs
    and None when not holding out or there is a single demonstration to learn from."""
    if not hold_out or len(pairs) < 2:
        return pairs, None
    return pairs[:-1], ArcTask(name, pairs[:-1], (pairs[-1],))


def adapt(base, task: ArcTask, settings: AdaptSettings = AdaptSettings(),
          on_log: Callable[[dict[str, Any]], None] | None = None,
          should_stop: Callable[[], bool] | None = None):
    """A copy of `base` that has learned `task` from its demonstrations (see module doc)."""
    from models.checkpoint import apply_arrays, model_arrays
    from models.training import TrainConfig, Trainer

    import mlx.core as mx

    settings.check()
    start, cpu_start = time.monotonic(), time.process_time()
    base = on_canvas(base, task_canvas(base.config, task))  # a size-free model learns on the task's canvas
    info = ArcModelInfo.from_config(base.config)
    first = base.config.num_puzzle_identifiers
    pairs = tuple(p for p in task.train if fits(p.input, info.canvas) and fits(p.output, info.canvas))
    if not pairs:
        raise PuzzleError(f"{task.name}: no demonstration fits this model's {info.canvas}x{info.canvas} canvas")
    pairs, held_out = split_held_out(task.name, pairs, settings.hold_out)
    monitor = _Monitor(settings, held_out, on_log, should_stop, cpu_start)
    views, learned = info.views_for(task.name)
    if learned:  # continue from the task's own rows and views
        examples, num_identifiers = view_examples(pairs, views), first
    else:
        plan = plan_tasks([TaskData(task.name, pairs)], info.canvas, settings.augment, settings.seed,
                          first_identifier=first)
        examples, num_identifiers = plan.examples, plan.num_puzzle_identifiers
        info.task_views[task.name] = plan.info.task_views[task.name]
    config = replace(base.config, num_puzzle_identifiers=num_identifiers,
                     extra={**(base.config.extra or {}), **info.to_extra()})
    train_config = TrainConfig(
        batch_size=settings.batch_size, total_steps=settings.max_steps, lr=settings.lr if settings.finetune else 0.0,
        lr_warmup_steps=0, weight_decay=0.1 if settings.finetune else 0.0, puzzle_emb_lr=settings.puzzle_emb_lr,
        seed=settings.seed, log_every=settings.log_every, eval_every=10**9, checkpoint_every=10**9)
    trainer = Trainer(config, train_config, ArcSource(examples, info.canvas, settings.batch_size, settings.seed),
                      on_log=monitor.record)
    monitor.trainer = trainer
    arrays = model_arrays(base)
    if num_identifiers > first:
        new_rows = mx.zeros((num_identifiers - first, arrays["puzzle_emb"].shape[1]))
        arrays["puzzle_emb"] = mx.concatenate([arrays["puzzle_emb"], new_rows])
    apply_arrays(trainer.model, arrays, "base weights")
    if held_out is not None:
        monitor.check_held_out(0)
    trainer.run_steps(time_limit=settings.seconds, should_stop=monitor.stop)
    reason = monitor.reason or ("steps" if trainer.step >= settings.max_steps else "time")
    monitor.keep_best()
    trainer.model.eval()
    return Adapted(trainer.model, trainer.step, time.monotonic() - start, reason, monitor.log,
                   cpu_seconds=monitor.cpu_seconds(), held_out=monitor.best,
                   views=len(info.task_views[task.name]), new_rows=not learned)


def demonstrations_as_tests(task: ArcTask) -> ArcTask:
    """The task with its demonstrations as test pairs: answering them checks the adaptation."""
    return ArcTask(task.name, task.train, tuple(Pair(p.input, p.output) for p in task.train))


def adapted_card(task: ArcTask, base_dir: str, adapted: Adapted, settings: AdaptSettings) -> str:
    rows = "new puzzle-embedding rows" if adapted.new_rows else "puzzle-embedding rows (learned before)"
    what = f"its {rows} and fine-tuned the weights" if settings.finetune else f"only its {rows} (weights unchanged)"
    return (f"# ARC HRM weights adapted to task {task.name}\n\n"
            f"Base weights: `{base_dir}`. `hrm adapt` learned {what} from the task's "
            f"{len(task.train)} demonstration pairs in {adapted.views} views: {adapted.steps} steps, "
            f"{adapted.seconds:.0f} s, stopped by {adapted.stopped}. Test outputs were not used.\n")


def fitted_fraction(model, task: ArcTask, max_segments: int | None = None) -> float:
    """Fraction of demonstrations the adapted model reproduces (pass@2 over its views)."""
    from hrm_tui.arc.solving import answer_tasks

    answers = answer_tasks(model, [demonstrations_as_tests(task)], max_segments)
    return float(np.mean([bool(a.correct) for a in answers]))
