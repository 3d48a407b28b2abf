"""Test-time training and the vote on the ARC screen: the worker body, its progress message,
and the status-panel text for both.

The training is `hrm_tui.arc.test_time.train_for_task`, the code `hrm solve arc --budget`
runs; it reports each optimiser step as a `TrainingLogged` message, so the UI thread only
redraws. The budget is CPU seconds of the whole process (the UI's few included).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.message_pump import MessagePump

from hrm_tui.app import palette

BUDGETS = (0, 5, 15, 30, 60)  # CPU seconds offered by the budget dialog


@dataclass
class TrainingLogged(Message):
    """One optimiser step of the test-time training of solve `solve_id`."""

    solve_id: int
    record: dict[str, Any]


def run_training(target: MessagePump, solve_id: int, model, task, budget: float, stop: threading.Event):
    """Thread-worker body: `model` adapted to `task` (a `TaskTraining`), steps posted to `target`."""
    import mlx.core as mx

    from hrm_tui.arc.test_time import train_for_task

    result = train_for_task(model, task, budget, on_log=lambda record: target.post_message(TrainingLogged(solve_id, record)),
                            should_stop=stop.is_set)
    mx.eval(result.model.parameters())  # materialised here, used from the solver's thread next
    return result


@dataclass
class TrainingProgress:
    """What the status panel says about the test-time training of the solve on screen."""

    task: str
    budget: float
    record: dict[str, Any] | None = None  # the latest step
    result: Any = None  # hrm_tui.arc.test_time.TaskTraining, once done
    stopping: bool = False

    def text(self) -> Text:
        from hrm_tui.arc.adaptation import progress_text

        text = Text("Test-time training", style="bold")
        if self.result is not None:
            return text.append(f": {self.result.summary()}\n", style="")
        used = self.record.get("cpu_seconds", 0.0) if self.record else 0.0
        text.append(f" ({used:.1f} of {self.budget:g} CPU s)", style="")
        text.append(f": {progress_text(self.record)}" if self.record else ": starting…", style="")
        text.append(" · stopping…" if self.stopping else " · Esc stops and solves", style="dim")
        return text.append("\n")


def vote_text(answers, shown: int) -> Text:
    """One line per test input: each attempt's size and votes (views that gave it, of those
    run), whether it is right when the output is known; placeholders are said to be."""
    from puzzles.arc import check_answer

    text = Text()
    for answer in answers:
        where = " (shown)" if answer.index == shown and len(answers) > 1 else ""
        text.append(f"Vote, test {answer.index + 1}{where}:", style="bold")
        if not answer.views:
            text.append(" larger than the canvas; placeholders\n")
            continue
        for number, attempt in enumerate(answer.attempts, start=1):
            text.append(" ·" if number > 1 else "")
            if number > answer.voted:
                text.append(" placeholder", style="dim")
                continue
            text.append(f" {attempt.shape[0]}x{attempt.shape[1]} {answer.votes[number - 1]}/{answer.views}")
            if answer.expected is not None:
                ok = check_answer(answer.expected, attempt).ok
                text.append(" ✓" if ok else " ✗", style=palette.OK if ok else palette.FAIL)
        text.append(f" ({answer.views} views{'' if answer.learned else ', unseen'})\n", style="dim")
    return text
