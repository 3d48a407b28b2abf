"""Answering ARC test inputs the way the benchmark scores them, behind `hrm solve arc` and
`hrm eval arc`.

Every test input is shown to the model in each view of its task (the transforms and puzzle
embedding rows it learned, see `hrm_tui.arc.model`; the 8 symmetries on the blank row for a
task it never saw), every prediction is mapped back to the task's frame, and the views vote
for two attempts (ties broken by mean Q-halt probability). A test input is solved when either
attempt equals its output; a task scores the fraction of its test inputs solved; pass@2 is the
mean over tasks. Predictions are read after all segments, as the reference evaluates.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hrm_tui.arc.model import ArcModelInfo, encode, fits, full_canvas
from hrm_tui.errors import UserError
from puzzles.arc import ATTEMPTS, check_attempts, map_back, vote
from puzzles.arc.task import ArcTask

REFERENCE_SCORES = (("HRM paper (27M parameters, ARC-AGI-1)", 0.403),
                    ("ARC Prize verified HRM (ARC-AGI-1 semi-private)", 0.32))


@dataclass
class ArcAnswer:
    """Two attempts for one test input, and how they were reached."""

    task: str
    index: int
    input: np.ndarray
    attempts: list[np.ndarray]  # always ATTEMPTS grids (padded, see `padded_attempts`)
    voted: int  # distinct well-formed answers among the views (0 when the input did not fit)
    views: int
    learned: bool  # the model learned this task's views (else blank row, 8 symmetries)
    segments: int
    expected: np.ndarray | None = None

    @property
    def correct(self) -> bool | None:
        if self.expected is None:
            return None
        return check_attempts(self.expected, self.attempts).ok

    def record(self) -> dict[str, Any]:
        """The JSON line of `hrm solve arc --jsonl`."""
        out: dict[str, Any] = {"task": self.task, "index": self.index,
                               "attempts": [a.tolist() for a in self.attempts],
                               "voted": self.voted, "views": self.views, "learned_task": self.learned,
                               "segments": self.segments}
        if self.expected is not None:
            out["correct"] = bool(self.correct)
        return out


def padded_attempts(voted: list[np.ndarray], test_input: np.ndarray) -> list[np.ndarray]:
    """Exactly ATTEMPTS grids, as a submission needs: the voted ones, then the test input as a
    placeholder (an ARC answer never equals its input)."""
    return (voted + [test_input] * ATTEMPTS)[:ATTEMPTS]


def final_predictions(model, inputs: np.ndarray, identifiers: np.ndarray, max_segments: int | None,
                      batch_size: int = 64, on_progress: Callable[[int], None] | None = None):
    """Tokens and Q-halt probability of every row after `max_segments` segments."""
    from models.act import trace

    tokens, q_halt = [], []
    for start in range(0, len(inputs), batch_size):
        last = None
        for last in trace(model, inputs[start:start + batch_size], identifiers[start:start + batch_size],
                          max_segments=max_segments):
            pass
        tokens.append(last.h_tokens)
        q_halt.append(last.q_halt_prob)
        if on_progress:
            on_progress(len(last.h_tokens))
    if not tokens:
        return np.zeros((0, model.config.seq_len), np.int32), np.zeros(0, np.float32)
    return np.concatenate(tokens), np.concatenate(q_halt)


def answer_tasks(model, tasks: list[ArcTask], max_segments: int | None = None, batch_size: int = 64,
                 on_progress: Callable[[int], None] | None = None,
                 on_start: Callable[[int], None] | None = None) -> list[ArcAnswer]:
    """Voted attempts for every test input of `tasks`, in order; a test input larger than the
    model's canvas gets placeholder attempts (voted 0) instead of an error."""
    info = ArcModelInfo.from_config(model.config)
    segments = max_segments or model.config.halt_max_steps
    answers: list[ArcAnswer] = []
    rows: list[tuple[int, Any]] = []  # (answer index, view)
    inputs: list[np.ndarray] = []
    for task in tasks:
        views, learned = info.views_for(task.name)
        for index, pair in enumerate(task.test):
            answer = ArcAnswer(task.name, index, pair.input, [], 0, 0, learned, segments, pair.output)
            if fits(pair.input, info.canvas):
                answer.views = len(views)
                for view in views:
                    rows.append((len(answers), view))
                    inputs.append(encode(view.transform.apply(pair.input), info.canvas))
            answers.append(answer)
    if on_start:
        on_start(len(rows))
    inputs_array = np.stack(inputs) if inputs else np.zeros((0, info.canvas ** 2), np.int32)
    tokens, q_halt = final_predictions(model, inputs_array,
                                       np.array([view.identifier for _, view in rows], np.int32),
                                       max_segments, batch_size, on_progress)
    candidates: list[list] = [[] for _ in answers]
    for (slot, view), row_tokens, confidence in zip(rows, tokens, q_halt):
        candidates[slot].append((map_back(full_canvas(row_tokens, info.canvas), view.transform), float(confidence)))
    for answer, found in zip(answers, candidates):
        voted = vote(found)
        answer.voted = len(voted)
        answer.attempts = padded_attempts(voted, answer.input)
    return answers


# -- scoring ----------------------------------------------------------------------------------

def score(answers: list[ArcAnswer]) -> dict[str, Any]:
    """pass@2 as the benchmark computes it, with a cell-level figure and coverage counts."""
    by_task: dict[str, list[ArcAnswer]] = {}
    for answer in answers:
        by_task.setdefault(answer.task, []).append(answer)
    per_task = {name: float(np.mean([bool(a.correct) for a in group])) for name, group in by_task.items()}
    task_scores = list(per_task.values())
    cells = [_cell_accuracy(a) for a in answers if a.expected is not None]
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


def _cell_accuracy(answer: ArcAnswer) -> float:
    """Cells of the model's first answer equal to the expected output's (0 when its size is
    wrong or the model gave no well-formed answer: the placeholder is not the model's)."""
    first, expected = answer.attempts[0], answer.expected
    return float((first == expected).mean()) if answer.voted and first.shape == expected.shape else 0.0


# -- `hrm eval arc` -----------------------------------------------------------------------------

SPLITS = ("evaluation", "training")


def split_tasks(split: str, limit: int | None = None) -> list[ArcTask]:
    """ARC-AGI-1 tasks of a split, sorted by id, the first `limit` of them. ARC-AGI-2 is never
    used here: its training split contains ARC-AGI-1 evaluation tasks."""
    from puzzles.arc.task import load_collection

    if split not in SPLITS:
        raise UserError(f"unknown ARC split {split!r}; choose {' or '.join(SPLITS)} (ARC-AGI-1)")
    if limit is not None and limit < 1:
        raise UserError("--limit must be >= 1")
    training, evaluation = load_collection("arc1")
    tasks = sorted(evaluation if split == "evaluation" else training, key=lambda t: t.name)
    return tasks[:limit] if limit else tasks


def eval_arc_cli(weights: Path | None, split: str, max_segments: int | None, json_out: Path | None,
                 limit: int | None = None) -> dict[str, Any]:
    from rich.console import Console

    from hrm_tui.model_store import load_model

    tasks = split_tasks(split, limit)
    model = load_model("arc", weights)
    answers = _with_progress(lambda progress, start: answer_tasks(model, tasks, max_segments,
                                                                  on_progress=progress, on_start=start))
    summary = score(answers)
    console = Console()
    console.print(results_table(split, summary, model), highlight=False)
    segments = max_segments or model.config.halt_max_steps
    report = {
        "kind": "arc",
        "seed": 0,
        "command": eval_command(weights, split, max_segments, json_out, limit),
        "weights": str(weights or "shipped"),
        "split": f"ARC-AGI-1 {split}",
        "max_segments": segments,
        "summary": summary,
        "reference": {name: value for name, value in REFERENCE_SCORES},
        "results": [{"set": f"ARC-AGI-1 {split} (pass@2)", "puzzles": summary["tasks"],
                     "exact_accuracy": summary["pass_at_2"], "cell_accuracy": summary["cell_accuracy"],
                     "mean_segments": float(segments)}],
    }
    if json_out:
        try:
            Path(json_out).write_text(json.dumps(report, indent=2) + "\n")
        except OSError as exc:
            raise UserError(f"cannot write {json_out}: {exc.strerror or exc}") from None
    return report


def eval_command(weights, split, max_segments, json_out, limit) -> str:
    """The command that reproduces an evaluation, for the weights card."""
    words = ["hrm", "eval", "arc", "--split", split]
    for flag, value in (("--weights", weights), ("--max-segments", max_segments), ("--limit", limit),
                        ("--json", json_out)):
        if value is not None:
            words += [flag, str(value)]
    return shlex.join(words)


def results_table(split: str, summary: dict[str, Any], model):
    from rich.table import Table

    cfg = model.config
    canvas = ArcModelInfo.from_config(cfg).canvas
    table = Table(title=f"ARC-AGI-1 {split}: pass@2 (d {cfg.hidden_size}, {cfg.H_layers}+{cfg.L_layers} layers, "
                        f"{canvas}x{canvas} canvas)")
    table.add_column("model")
    table.add_column("tasks", justify="right")
    table.add_column("pass@2", justify="right")
    cell = summary["cell_accuracy"]
    table.caption = (f"{summary['tasks_on_canvas']} of {summary['tasks']} tasks fit the canvas, "
                     f"{summary['tasks_learned']} have learned views; first-answer cell accuracy "
                     f"{'-' if cell is None else f'{100 * cell:.1f}%'}")
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


# -- `hrm solve arc` ----------------------------------------------------------------------------

def find_task(puzzle: str | None, file: Path | None) -> ArcTask:
    """The task from --file, or an ARC-AGI-1 task id given as PUZZLE."""
    from puzzles.arc.task import read_task

    if (puzzle is None) == (file is None):
        raise UserError("give an ARC task JSON with --file, or an ARC-AGI-1 task id as PUZZLE")
    if file is not None:
        from hrm_tui.solving import check_input_file

        return read_task(check_input_file(file))
    from puzzles.arc.task import load_collection

    training, evaluation = load_collection("arc1")
    for task in training + evaluation:
        if task.name == puzzle:
            return task
    raise UserError(f"{puzzle!r} is not an ARC-AGI-1 task id (pass a task JSON with --file)")


def oversized_inputs(model, task: ArcTask) -> list[str]:
    """What cannot be placed on the model's canvas, one phrase per test input."""
    canvas = ArcModelInfo.from_config(model.config).canvas
    return [f"{task.name}: test input {index} is {pair.input.shape[0]}x{pair.input.shape[1]}; these weights use a "
            f"{canvas}x{canvas} canvas" for index, pair in enumerate(task.test, start=1)
            if not fits(pair.input, canvas)]


def check_fits(model, task: ArcTask) -> None:
    """One-line error when a test input cannot be placed on the model's canvas (adapting
    needs it; answering does not, see `solve_arc_cli`)."""
    oversized = oversized_inputs(model, task)
    if oversized:
        raise UserError(oversized[0])


def solve_arc_cli(puzzle: str | None, file: Path | None, jsonl: bool, weights: Path | None,
                  max_segments: int | None) -> list[ArcAnswer]:
    from hrm_tui.model_store import load_model

    task = find_task(puzzle, file)
    model = load_model("arc", weights)
    for oversized in oversized_inputs(model, task):  # a valid task is always answered (docs/cli.md)
        print(f"note: {oversized}, so its two attempts are placeholders (\"voted\": 0)", file=sys.stderr)
    answers = answer_tasks(model, [task], max_segments)
    print_answers(task, answers, jsonl)
    return answers


def print_answers(task: ArcTask, answers: list[ArcAnswer], jsonl: bool) -> None:
    if jsonl:
        for answer in answers:
            sys.stdout.write(json.dumps(answer.record()) + "\n")
        sys.stdout.flush()
        return
    from rich.console import Console

    from hrm_tui.arc.render import render_answers

    Console().print(render_answers(task, answers))
