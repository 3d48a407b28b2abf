"""`hrm adapt TASK.json`: learn a new ARC task's puzzle embedding from its demonstrations
(optionally fine-tuning the weights) for a bounded time, then answer its test inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt)


def adapt(
    task_file: Path = typer.Argument(..., metavar="TASK.json", help="ARC task JSON (train pairs, test inputs)."),
    weights: Optional[Path] = typer.Option(None, help="ARC weights directory \\[default: the shipped weights]."),
    seconds: float = typer.Option(60.0, help="Time budget for adaptation."),
    steps: int = typer.Option(5000, help="At most this many optimiser steps."),
    views: int = typer.Option(8, help="Augmented views (identity + random symmetry/colour maps), one embedding row each."),
    finetune: bool = typer.Option(False, "--finetune", help="Also train the model weights, not only the task's embedding."),
    lr: float = typer.Option(1e-4, help="Learning rate of the weights with --finetune."),
    emb_lr: float = typer.Option(3e-2, help="SignSGD learning rate of the task's embedding rows."),
    batch_size: int = typer.Option(16, help="Demonstrations per batch."),
    early_stop: bool = typer.Option(True, help="Stop once the demonstrations are reproduced exactly."),
    max_segments: Optional[int] = typer.Option(None, help="ACT segments when answering \\[default: the model's]."),
    seed: int = typer.Option(0),
    jsonl: bool = typer.Option(False, "--jsonl", help="Print one JSON object per test input (as `hrm solve arc --jsonl`)."),
    out: Optional[Path] = typer.Option(None, help="Write the attempts as ARC Prize submission JSON."),
    save: Optional[Path] = typer.Option(None, help="Save the adapted weights here (usable by solve, eval and the app)."),
) -> None:
    """Adapt an ARC model to a new task, then print (and save) two attempts per test input."""
    from hrm_tui.arc.adaptation import AdaptSettings, adapted_card, fitted_fraction
    from hrm_tui.arc.solving import answer_tasks, check_fits, find_task, print_answers
    from hrm_tui.errors import UserError
    from hrm_tui.model_store import load_model

    if views < 1:
        raise UserError("--views must be >= 1")
    if max_segments is not None and max_segments < 1:
        raise UserError("--max-segments must be >= 1")
    settings = AdaptSettings(seconds=seconds, max_steps=steps, augment=views - 1, finetune=finetune, lr=lr,
                             puzzle_emb_lr=emb_lr, batch_size=batch_size, seed=seed, stop_when_fitted=early_stop)
    settings.check()
    for option, path in (("--out", out), ("--save", save)):
        if path is not None and not Path(path).parent.is_dir():
            raise UserError(f"{option} {path}: directory {Path(path).parent} does not exist")
    task = find_task(None, task_file)
    base = load_model("arc", weights)
    check_fits(base, task)
    adapted = _adapt_with_progress(base, task, settings)
    from rich.console import Console

    console = Console(stderr=True)
    fitted = fitted_fraction(adapted.model, task, max_segments)
    console.print(f"adapted {task.name} in {adapted.steps} steps, {adapted.seconds:.0f} s (stopped by "
                  f"{adapted.stopped}); reproduces {100 * fitted:.0f}% of its {len(task.train)} demonstrations",
                  highlight=False, soft_wrap=True)
    answers = answer_tasks(adapted.model, [task], max_segments)
    print_answers(task, answers, jsonl)
    if out is not None:
        submission = {task.name: [{f"attempt_{k}": grid.tolist() for k, grid in enumerate(a.attempts, start=1)}
                                  for a in answers]}
        _write(out, json.dumps(submission) + "\n")
        console.print(f"wrote attempts to {out}")
    if save is not None:
        from models.checkpoint import save_weights

        card = adapted_card(task, str(weights or "weights/arc"), adapted, settings)
        try:
            save_weights(save, adapted.model, card=card,
                         metrics={"task": task.name, "steps": adapted.steps, "seconds": round(adapted.seconds, 1),
                                  "stopped": adapted.stopped, "demonstrations_reproduced": fitted})
        except OSError as exc:
            raise UserError(f"cannot save weights to {save}: {exc.strerror or exc}") from None
        console.print(f"saved adapted weights to {save}")


def _write(path: Path, text: str) -> None:
    from hrm_tui.errors import UserError

    try:
        Path(path).write_text(text)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def _adapt_with_progress(base, task, settings):
    """Run `hrm_tui.arc.adaptation.adapt` under a progress bar (time budget) on stderr."""
    from hrm_tui.arc.adaptation import adapt
    from hrm_tui.arc.progress import AdaptProgress

    with AdaptProgress(settings.seconds, clock="wall_time", lines=False) as progress:
        progress.start(task)
        adapted = adapt(base, task, settings, on_log=progress.log)
        progress.finish(None)
    return adapted
