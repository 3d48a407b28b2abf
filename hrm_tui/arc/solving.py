"""Answering ARC test inputs the way the benchmark scores them (`hrm solve arc`, and the
answers behind `hrm eval arc` and the app).

Every test input is shown to the model in each view of its task (the transforms and puzzle
embedding rows it learned, see `hrm_tui.arc.model`; the 8 symmetries on the blank row for a
task it never saw), every prediction is mapped back to the task's frame, and the views vote
for two attempts (ties broken by mean Q-halt probability). Predictions are read after all
segments, as the reference evaluates.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hrm_tui.arc.model import ArcModelInfo, encode, fits, full_canvas, on_canvas, task_canvas
from hrm_tui.errors import UserError
from puzzles.arc import ATTEMPTS, check_attempts, map_back, ranked_votes
from puzzles.arc.task import ArcTask


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
    votes: list[int] = field(default_factory=list)  # views behind each voted attempt (not in the record)

    @property
    def correct(self) -> bool | None:
        if self.expected is None:
            return None
        return check_attempts(self.expected, self.attempts).ok

    @property
    def cell_accuracy(self) -> float:
        """Cells of the model's first answer equal to the expected output's (0 when its size
        is wrong or the model gave no well-formed answer: the placeholder is not the model's)."""
        first, expected = self.attempts[0], self.expected
        return float((first == expected).mean()) if self.voted and first.shape == expected.shape else 0.0

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
                      batch_size: int | None = None, on_progress: Callable[[int], None] | None = None):
    """Tokens and Q-halt probability of every row after `max_segments` segments, `batch_size`
    rows (default `models.act.rows_per_pass`) at a time."""
    from models.act import rows_per_pass, trace

    batch_size = batch_size or rows_per_pass(model.config)
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


def answer_tasks(model, tasks: list[ArcTask], max_segments: int | None = None, batch_size: int | None = None,
                 on_progress: Callable[[int], None] | None = None,
                 on_start: Callable[[int], None] | None = None) -> list[ArcAnswer]:
    """Voted attempts for every test input of `tasks`, in order. Each task runs on its canvas
    (`task_canvas`: a size-free model reads any grid up to 30x30); a test input a model tied to
    a smaller canvas cannot read gets placeholder attempts (voted 0) instead of an error."""
    info = ArcModelInfo.from_config(model.config)
    segments = max_segments or model.config.halt_max_steps
    answers: list[ArcAnswer] = []
    by_canvas: dict[int, tuple[list[tuple[int, Any]], list[np.ndarray]]] = {}  # canvas: ((answer, view), inputs)
    for task in tasks:
        views, learned = info.views_for(task.name)
        canvas = task_canvas(model.config, task)
        rows, inputs = by_canvas.setdefault(canvas, ([], []))
        for index, pair in enumerate(task.test):
            answer = ArcAnswer(task.name, index, pair.input, [], 0, 0, learned, segments, pair.output)
            if fits(pair.input, canvas):
                answer.views = len(views)
                for view in views:
                    rows.append((len(answers), view))
                    inputs.append(encode(view.transform.apply(pair.input), canvas))
            answers.append(answer)
    if on_start:
        on_start(sum(len(rows) for rows, _ in by_canvas.values()))
    candidates: list[list] = [[] for _ in answers]
    for canvas, (rows, inputs) in sorted(by_canvas.items()):
        if not rows:
            continue
        tokens, q_halt = final_predictions(on_canvas(model, canvas), np.stack(inputs),
                                           np.array([view.identifier for _, view in rows], np.int32),
                                           max_segments, batch_size, on_progress)
        for (slot, view), row_tokens, confidence in zip(rows, tokens, q_halt):
            candidates[slot].append((map_back(full_canvas(row_tokens, canvas), view.transform), float(confidence)))
    for answer, found in zip(answers, candidates):
        ranked = ranked_votes(found)
        answer.voted, answer.votes = len(ranked), [count for _, count in ranked]
        answer.attempts = padded_attempts([grid for grid, _ in ranked], answer.input)
    return answers


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
    """What cannot be placed on the model's canvas, one phrase per test input (nothing for a
    size-free model, which moves to the task's canvas)."""
    canvas = task_canvas(model.config, task)
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
                  max_segments: int | None, budget: float = 0.0) -> list[ArcAnswer]:
    """Answer one task, after test-time training within `budget` CPU seconds when positive."""
    from hrm_tui.arc.progress import AdaptProgress
    from hrm_tui.arc.test_time import answer_with_budget
    from hrm_tui.model_store import load_model

    task = find_task(puzzle, file)
    model = load_model("arc", weights)
    for oversized in oversized_inputs(model, task):  # a valid task is always answered (docs/cli.md)
        print(f"note: {oversized}, so its two attempts are placeholders (\"voted\": 0)", file=sys.stderr)
    with AdaptProgress(budget) as progress:
        answers, _ = answer_with_budget(model, [task], budget, max_segments, observer=progress)
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
