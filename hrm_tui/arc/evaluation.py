"""`hrm eval arc`: pass@2 as the benchmark scores it, on an ARC-AGI-1 split or a fixed sample
of its tasks, with or without test-time training (`hrm_tui.arc.test_time`).

A test input is solved when either attempt equals its output; a task scores the fraction of
its test inputs solved; pass@2 is the mean over tasks.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from hrm_tui.arc.model import ArcModelInfo
from hrm_tui.arc.solving import ArcAnswer, answer_tasks
from hrm_tui.errors import UserError
from puzzles.arc.task import ArcTask

REFERENCE_SCORES = (("HRM paper (27M parameters, ARC-AGI-1)", 0.403),
                    ("ARC Prize verified HRM (ARC-AGI-1 semi-private)", 0.32))


# -- scoring ----------------------------------------------------------------------------------

def score(answers: list[ArcAnswer]) -> dict[str, Any]:
    """pass@2 as the benchmark computes it, with a cell-level figure and coverage counts."""
    by_task: dict[str, list[ArcAnswer]] = {}
    for answer in answers:
        by_task.setdefault(answer.task, []).append(answer)
    per_task = {name: float(np.mean([bool(a.correct) for a in group])) for name, group in by_task.items()}
    task_scores = list(per_task.values())
    cells = [a.cell_accuracy for a in answers if a.expected is not None]
    return {
        "tasks": len(by_task),
        "test_inputs": len(answers),
        "pass_at_2": float(np.mean(task_scores)) if task_scores else 0.0,
        "tasks_solved": float(np.sum(task_scores)),
        "cell_accuracy": float(np.mean(cells)) if cells else None,
        "tasks_on_canvas": sum(all(a.views for a in group) for group in by_task.values()),
        "tasks_learned": sum(group[0].learned for group in by_task.values()),
        "solved": {name: value for name, value in per_task.items() if value > 0},
    }


# -- `hrm eval arc` -----------------------------------------------------------------------------

SPLITS = ("evaluation", "training")


def split_tasks(split: str, limit: int | None = None, sample: Path | None = None) -> list[ArcTask]:
    """ARC-AGI-1 tasks of a split, sorted by id (or the ids a sample file lists, in its order),
    the first `limit` of them. ARC-AGI-2 is never used here: its training split contains
    ARC-AGI-1 evaluation tasks."""
    from puzzles.arc.task import load_collection

    if split not in SPLITS:
        raise UserError(f"unknown ARC split {split!r}; choose {' or '.join(SPLITS)} (ARC-AGI-1)")
    if limit is not None and limit < 1:
        raise UserError("--limit must be >= 1")
    ids = read_sample(sample) if sample is not None else None
    training, evaluation = load_collection("arc1")
    tasks = sorted(evaluation if split == "evaluation" else training, key=lambda t: t.name)
    if ids is not None:
        by_name = {task.name: task for task in tasks}
        unknown = [name for name in ids if name not in by_name]
        if unknown:
            raise UserError(f"{sample}: {unknown[0]!r} is not an ARC-AGI-1 {split} task id")
        tasks = [by_name[name] for name in ids]
    return tasks[:limit] if limit else tasks


def read_sample(path: Path) -> list[str]:
    """Task ids, one per line; `#` starts a comment (say there how the sample was chosen)."""
    from hrm_tui.solving import check_input_file

    text = check_input_file(path).read_text(encoding="utf-8", errors="replace")
    ids = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    ids = [name for name in ids if name]
    if not ids:
        raise UserError(f"{path}: no task ids (one per line)")
    return ids


def eval_arc_cli(weights: Path | None, split: str, max_segments: int | None, json_out: Path | None,
                 limit: int | None = None, budget: float = 0.0, sample: Path | None = None) -> dict[str, Any]:
    """Score the tasks, after test-time training within `budget` CPU seconds each when positive."""
    import time

    from rich.console import Console

    from hrm_tui.arc.progress import AdaptProgress
    from hrm_tui.arc.test_time import answer_with_budget
    from hrm_tui.model_store import load_model

    tasks = split_tasks(split, limit, sample)
    model = load_model("arc", weights)
    cpu_start = time.process_time()
    if budget > 0:
        with AdaptProgress(budget) as progress:
            answers, trained = answer_with_budget(model, tasks, budget, max_segments, observer=progress)
    else:
        answers, trained = _with_progress(lambda progress, start: answer_tasks(
            model, tasks, max_segments, on_progress=progress, on_start=start)), []
    cpu_seconds = time.process_time() - cpu_start
    summary = score(answers)
    summary["test_time"] = training_summary(budget, trained, cpu_seconds, len(tasks))
    what = f"ARC-AGI-1 {split}" + (f", sample {Path(sample).name}" if sample is not None else "")
    Console().print(results_table(what, summary, model), highlight=False)
    segments = max_segments or model.config.halt_max_steps
    report = {
        "kind": "arc",
        "seed": 0,
        "command": eval_command(weights, split, max_segments, json_out, limit, budget, sample),
        "weights": str(weights or "shipped"),
        "split": f"ARC-AGI-1 {split}",
        "sample": str(sample) if sample is not None else None,
        "max_segments": segments,
        "summary": summary,
        "reference": {name: value for name, value in REFERENCE_SCORES},
        "results": [{"set": f"{what} (pass@2" + (f", test-time training {budget:g} CPU s)" if budget > 0 else ")"),
                     "puzzles": summary["tasks"], "exact_accuracy": summary["pass_at_2"],
                     "cell_accuracy": summary["cell_accuracy"], "mean_segments": float(segments)}],
    }
    if json_out:
        try:
            Path(json_out).write_text(json.dumps(report, indent=2) + "\n")
        except OSError as exc:
            raise UserError(f"cannot write {json_out}: {exc.strerror or exc}") from None
    return report


def training_summary(budget: float, trained, cpu_seconds: float, tasks: int) -> dict[str, Any]:
    """What test-time training did: CPU seconds per task in all (training and answering) and
    in training, steps, why it stopped, and per task."""
    adapted = [t.adapted for t in trained if t.adapted is not None]
    stopped: dict[str, int] = {}
    for a in adapted:
        stopped[a.stopped] = stopped.get(a.stopped, 0) + 1
    return {
        "budget_cpu_seconds": budget,
        "cpu_seconds_per_task": cpu_seconds / max(tasks, 1),
        "training_cpu_seconds_per_task": float(np.mean([a.cpu_seconds for a in adapted])) if adapted else 0.0,
        "tasks_trained": len(adapted),
        "mean_steps": float(np.mean([a.steps for a in adapted])) if adapted else 0.0,
        "stopped": stopped,
        "held_out_solved": sum(bool(a.held_out and a.held_out["correct"]) for a in adapted),
        "per_task": [{"task": t.task, "summary": t.summary(),
                      **({"steps": t.adapted.steps, "cpu_seconds": round(t.adapted.cpu_seconds, 2),
                          "stopped": t.adapted.stopped, "held_out": t.adapted.held_out} if t.adapted else {})}
                     for t in trained],
    }


def eval_command(weights, split, max_segments, json_out, limit, budget=0.0, sample=None) -> str:
    """The command that reproduces an evaluation, for the weights card."""
    words = ["hrm", "eval", "arc", "--split", split]
    for flag, value in (("--weights", weights), ("--tasks", sample), ("--max-segments", max_segments),
                        ("--limit", limit), ("--json", json_out)):
        if value is not None:
            words += [flag, str(value)]
    return shlex.join(words + ["--budget", f"{budget:g}"])  # always: the default may change, a card's command must not


def results_table(what: str, summary: dict[str, Any], model):
    from rich.table import Table

    from models.hrm import size_free

    cfg = model.config
    canvas = ArcModelInfo.from_config(cfg).canvas
    reads = ", size-free: read up to 30x30" if size_free(cfg) else ""
    table = Table(title=f"{what}: pass@2 (d {cfg.hidden_size}, {cfg.H_layers}+{cfg.L_layers} layers, "
                        f"{canvas}x{canvas} canvas{reads})")
    table.add_column("model")
    table.add_column("tasks", justify="right")
    table.add_column("pass@2", justify="right")
    cell = summary["cell_accuracy"]
    others = summary["tasks"] - summary["tasks_on_canvas"]
    table.caption = (f"{summary['tasks_on_canvas']} of {summary['tasks']} tasks answered by the model"
                     f"{' (the others exceed its canvas: placeholders)' if others else ''}, "
                     f"{summary['tasks_learned']} have learned views; first-answer cell accuracy "
                     f"{'-' if cell is None else f'{100 * cell:.1f}%'}")
    trained = summary["test_time"]
    if trained["budget_cpu_seconds"] > 0:
        table.caption += (f"; test-time training on {trained['tasks_trained']} tasks, budget "
                          f"{trained['budget_cpu_seconds']:g} CPU s: {trained['training_cpu_seconds_per_task']:.1f} CPU s "
                          f"training, {trained['cpu_seconds_per_task']:.1f} in all per task")
    table.add_row("these weights", str(summary["tasks"]), f"[bold]{100 * summary['pass_at_2']:.1f}%[/]")
    for name, value in REFERENCE_SCORES:
        table.add_row(f"[dim]{name}[/]", "[dim]400[/]" if "paper" in name else "[dim]-[/]", f"[dim]{100 * value:.1f}%[/]")
    return table


def _with_progress(work):
    """Run `work(advance, start)` under a rich progress bar on stderr (plain when piped)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return work(None, None)
    with Progress(TextColumn("[bold]views"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        bar = progress.add_task("", total=None)
        return work(lambda n: progress.advance(bar, n), lambda total: progress.update(bar, total=total))
