"""The ARC screen: a task's demonstration pairs, its test input (editable) and the decodes."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from functools import cache, partial
from pathlib import Path

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual import on
from textual.binding import Binding

from hrm_tui.app.kinds import ArcPuzzle
from hrm_tui.app.screens.dialogs import ChoiceScreen
from hrm_tui.app.screens.puzzle import PuzzleScreen
from hrm_tui.app.test_time import BUDGETS, TrainingLogged, TrainingProgress, run_training, vote_text
from hrm_tui.app.widgets.editors import ArcEditor
from hrm_tui.app.widgets.task_strip import TaskStrip
from puzzles.errors import PuzzleError

EDIT_KEYS = """\
The strip on top shows the task's demonstration pairs (**t** hides or shows it); the editor holds
the test input. Arrows or **h j k l** move; **0-9** paint a colour and move on; **Delete** paints
0; **shift+arrows** add or remove rows and columns; click or drag paints the last colour.
**e** switches between test inputs; **n** picks an ARC-AGI-1 task by id; **o** opens a task JSON;
**u** or **ctrl+z** undoes. An edited test input has no known answer to check against.
**b** sets a test-time training budget: each solve first trains on the task's demonstrations for
that many CPU seconds (as `hrm solve arc --budget`), showing its progress; Esc ends it early.
**A** adapts the model to the task (learns its puzzle embedding from the demonstrations)."""


@cache
def arc_agi_tasks() -> dict[str, tuple[str, object]]:
    """ARC-AGI-1 tasks by id, as (split, task); loading takes about a second."""
    from puzzles.arc.task import load_collection

    training, evaluation = load_collection("arc1")
    tasks = {task.name: ("training", task) for task in training}
    tasks.update({task.name: ("evaluation", task) for task in evaluation})
    return tasks


def placeholder() -> ArcPuzzle:
    from puzzles.arc.task import ArcTask, Pair

    grid = np.zeros((3, 3), np.uint8)
    return ArcPuzzle(ArcTask("no task", (), (Pair(grid, None),)), 0, grid)


def first_task() -> ArcPuzzle:
    """What the screen shows at start: the first ARC-AGI-1 evaluation task by id."""
    evaluation = sorted(name for name, (split, _) in arc_agi_tasks().items() if split == "evaluation")
    return puzzle_for(arc_agi_tasks()[evaluation[0]][1])


def puzzle_for(task, test_index: int = 0) -> ArcPuzzle:
    return ArcPuzzle(task, test_index, task.test[test_index].input.copy())


def parse_text(text: str, current: ArcPuzzle) -> ArcPuzzle:
    """Pasted text: a task JSON, or rows of digits replacing the current test input."""
    from puzzles.arc.task import parse_grid, parse_task

    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise PuzzleError(f"malformed task JSON: {exc}") from None
        return puzzle_for(parse_task(data, "pasted task"))
    if stripped.startswith("["):
        try:
            rows = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise PuzzleError(f"malformed grid JSON: {exc}") from None
    else:
        rows = [[int(ch) for ch in line.strip() if ch.isdigit()] for line in stripped.splitlines() if line.strip()]
    return replace(current, grid=parse_grid(rows, "pasted grid"), edited=True)


class ArcScreen(PuzzleScreen):
    KIND = "arc"
    EDIT_KEYS = EDIT_KEYS
    BINDINGS = [
        Binding("t", "toggle_task", "Demo pairs", show=False, id="task",
                tooltip="Show or hide the task's demonstration pairs"),
        Binding("e", "next_test", "Next test input", show=False, id="next-test",
                tooltip="Switch to the task's next test input"),
        Binding("b", "budget", "Budget", id="budget",
                tooltip="Test-time training before each solve: CPU seconds per solve (like hrm solve arc --budget)"),
        Binding("A", "adapt", "Adapt", key_display="A", id="adapt",
                tooltip="Learn this task's puzzle embedding from its demonstrations (like hrm adapt)"),
    ]
    open_hint = 'An ARC task JSON: {"train": [{"input", "output"}, ...], "test": [{"input"}, ...]}.'
    paste_hint = "A task JSON, or a grid as rows of digits 0-9 (replaces the test input)."

    def __init__(self, weights_dir: Path | None = None) -> None:
        from hrm_tui.arc.test_time import DEFAULT_BUDGET

        super().__init__(weights_dir)
        self.budget = DEFAULT_BUDGET  # CPU seconds of test-time training before each solve
        self.training: TrainingProgress | None = None  # of the solve on screen
        self._stop_training = threading.Event()
        self._solve_with = None  # the adapted model, for the solve that training starts

    def compose_task(self) -> ComposeResult:
        yield TaskStrip(id="task")

    def make_editor(self) -> ArcEditor:
        return ArcEditor(placeholder())

    def on_mount(self) -> None:
        super().on_mount()
        self.editor.border_title = "Test input"
        self.query_one(TaskStrip).border_title = "Loading ARC-AGI-1…"

        self.in_thread(first_task, "first-task", self._first_task_arrived)

    def _first_task_arrived(self, puzzle: ArcPuzzle) -> None:
        if self.editor.puzzle.task.name == "no task":  # the user has not opened one meanwhile
            self.load_puzzle(puzzle)

    def load_puzzle(self, puzzle: ArcPuzzle, message: str | None = None) -> None:
        if puzzle.task is not self.editor.puzzle.task:
            self.query_one(TaskStrip).show_task(puzzle.task)
        super().load_puzzle(puzzle, message)
        tests = len(puzzle.task.test)
        suffix = f" · test {puzzle.test_index + 1}/{tests}" if tests > 1 else ""
        self.editor.border_title = f"Test input{suffix}"

    def action_solve(self) -> None:
        """With a budget, train on the task's demonstrations first (in a worker, progress in the
        status panel), then solve with the trained model. On short terminals the demonstration
        pairs make way for the decodes."""
        if self.has_class("-short"):
            self.query_one(TaskStrip).display = False
        if self.training is not None and self.training.result is None:
            self.notify("Test-time training is running; Esc ends it and solves.", timeout=3)
            return
        task = self.editor.puzzle.task
        if self.budget <= 0 or self.loaded is None or not task.train:
            self.training = None
            super().action_solve()
            return
        self.solve_id += 1
        self.training, self.extra, self.trajectory = TrainingProgress(task.name, self.budget), None, None
        self._stop_training.clear()
        self.in_thread(partial(run_training, self, self.solve_id, self.loaded.model, task, self.budget,
                               self._stop_training), "train", partial(self._trained, self.solve_id, task),
                       self._training_failed)
        self._refresh_all()

    @on(TrainingLogged)
    def _training_logged(self, message: TrainingLogged) -> None:
        if self.training is not None and message.solve_id == self.solve_id:
            self.training.record = message.record
            self._refresh_all()

    def _trained(self, solve_id: int, task, result) -> None:
        if self.training is None or solve_id != self.solve_id:
            return
        self.training.result = result
        if self.editor.puzzle.task is not task:  # another task was opened meanwhile
            self._refresh_all()
            return
        self._solve_with = result.model
        try:
            super().action_solve()
        finally:
            self._solve_with = None

    def _training_failed(self, error: BaseException) -> None:
        self.training = None
        self._report_failure("test-time training", error)
        self._refresh_all()

    def on_unmount(self) -> None:
        self._stop_training.set()  # a training thread ends at its next step instead of its budget

    def model_to_solve(self):
        return self._solve_with if self._solve_with is not None else self.loaded.model

    def action_stop(self) -> None:
        """Esc during test-time training ends it (keeping the best state) and solves."""
        if self.training is not None and self.training.result is None:
            self._stop_training.set()
            self.training.stopping = True
            self._refresh_all()
            return
        super().action_stop()

    def action_budget(self) -> None:
        options = [(str(b), f"{b:>2} CPU s  " + ("no test-time training" if b == 0 else
                                                "train on the demonstrations, then solve")) for b in BUDGETS]
        self.app.push_screen(ChoiceScreen("Test-time training before each solve", options,
                                          hint="Like hrm solve arc --budget. Test outputs are never used."),
                             self._budget_chosen)

    def _budget_chosen(self, choice: str | None) -> None:
        if choice is not None:
            self.budget = float(choice)
            self.notify(f"Each solve first trains for {choice} CPU s." if self.budget else
                        "Solves answer without test-time training.", timeout=3)

    def follow_up(self, puzzle: ArcPuzzle):
        """After the watched trace, vote two attempts for every test input over the task's views
        (as `hrm solve arc`), with the model the trace ran."""
        return partial(self.kind.attempts, self.model_to_solve(), puzzle)

    def status_text(self, frame) -> Text:
        """Test-time training, the vote per test input (what the benchmark scores), then the
        watched trace."""
        text = Text()
        if self.training is not None:
            text.append_text(self.training.text())
        if self.extra is not None:
            text.append_text(vote_text(self.extra, self.solved_puzzle.test_index))
        elif self.running and self.trajectory is not None:
            text.append("Voting two attempts over the task's views…\n", style="italic")
        return text + super().status_text(frame)

    def action_adapt(self) -> None:
        """Teach the loaded model this task (a new puzzle-embedding row per view), then solve."""
        from hrm_tui.app.screens.adapt import CHOICES

        if self.loaded is None:
            self.notify(self.load_error or "The model is still loading.", title="No model", severity="error")
            return
        if not self.editor.puzzle.task.train:
            self.notify("This task has no demonstration pairs to learn from.", severity="error")
            return
        self.app.push_screen(ChoiceScreen(f"Adapt to {self.editor.puzzle.task.name}: how long?", CHOICES,
                                          hint="Test outputs are never used."), self._adapt_for)

    def _adapt_for(self, choice: str | None) -> None:
        from hrm_tui.app.screens.adapt import AdaptScreen, settings_for

        if choice is not None:
            task = self.editor.puzzle.task
            self.app.push_screen(AdaptScreen(self.loaded.model, task, settings_for(choice)),
                                 partial(self._adapted, task.name))

    def _adapted(self, task_name: str, adapted) -> None:
        if adapted is None:
            return
        from hrm_tui.app.weights import LoadedModel

        base = self.loaded
        self.loaded = LoadedModel(adapted.model, base.source, shipped=False, card=base.card, metrics=base.metrics,
                                  title=f"{base.label} + {task_name}")
        self._set_model_label(self.loaded.summary())
        self.notify(f"Learned {task_name} in {adapted.steps} steps ({adapted.seconds:.0f} s, {adapted.stopped}).",
                    title="Adapted", timeout=6)
        self.action_solve()

    def action_toggle_task(self) -> None:
        strip = self.query_one(TaskStrip)
        strip.display = not strip.display

    def action_next_test(self) -> None:
        puzzle = self.editor.puzzle
        tests = len(puzzle.task.test)
        if tests < 2:
            self.notify("This task has one test input.", timeout=2)
            return
        self.load_puzzle(puzzle_for(puzzle.task, (puzzle.test_index + 1) % tests),
                         f"Test input {(puzzle.test_index + 1) % tests + 1} of {tests}")

    def action_clear(self) -> None:
        puzzle = self.editor.puzzle
        self.load_puzzle(replace(puzzle, grid=np.zeros_like(puzzle.grid), edited=True),
                         "Cleared the test input (u undoes)")

    def action_new(self) -> None:
        self.notify("Loading ARC-AGI-1 tasks…", timeout=2)
        self.in_thread(arc_agi_tasks, "tasks", self._choose_task)

    def _choose_task(self, tasks: dict[str, tuple[str, object]]) -> None:
        options = [(name, f"{name}  {split:<10} {len(task.train)} demos, {len(task.test)} test")
                   for name, (split, task) in sorted(tasks.items(), key=lambda kv: (kv[1][0], kv[0]))]
        self.app.push_screen(ChoiceScreen("Pick an ARC-AGI-1 task", options, filterable=True,
                                          hint="Type part of an id; Enter takes the first match."),
                             self._picked)

    def _picked(self, name: str | None) -> None:
        if name is not None:
            split, task = arc_agi_tasks()[name]
            self.load_puzzle(puzzle_for(task), f"ARC-AGI-1 {split} task {name}")

    def open_path(self, path: Path) -> None:
        from puzzles.arc.task import read_task

        task = read_task(path)
        self.load_puzzle(puzzle_for(task), f"Opened {path.name}: {len(task.train)} demos, {len(task.test)} test")

    def load_text(self, text: str) -> None:
        self.load_puzzle(parse_text(text, self.editor.puzzle), "Pasted")
