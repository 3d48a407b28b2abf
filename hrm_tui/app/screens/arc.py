"""The ARC screen: a task's demonstration pairs, its test input (editable) and the decodes."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache, partial
from pathlib import Path

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding

from hrm_tui.app import palette
from hrm_tui.app.kinds import ArcPuzzle
from hrm_tui.app.screens.dialogs import ChoiceScreen
from hrm_tui.app.screens.puzzle import PuzzleScreen
from hrm_tui.app.widgets.editors import ArcEditor
from hrm_tui.app.widgets.task_strip import TaskStrip
from puzzles.errors import PuzzleError

EDIT_KEYS = """\
The strip on top shows the task's demonstration pairs (**t** hides or shows it); the editor holds
the test input. Arrows or **h j k l** move; **0-9** paint a colour and move on; **Delete** paints
0; **shift+arrows** add or remove rows and columns; click or drag paints the last colour.
**e** switches between test inputs; **n** picks an ARC-AGI-1 task by id; **o** opens a task JSON;
**u** or **ctrl+z** undoes. An edited test input has no known answer to check against.
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
        Binding("A", "adapt", "Adapt", key_display="A", id="adapt",
                tooltip="Learn this task's puzzle embedding from its demonstrations (like hrm adapt)"),
    ]
    open_hint = 'An ARC task JSON: {"train": [{"input", "output"}, ...], "test": [{"input"}, ...]}.'
    paste_hint = "A task JSON, or a grid as rows of digits 0-9 (replaces the test input)."

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
        """On short terminals the demonstration pairs make way for the decodes."""
        if self.has_class("-short"):
            self.query_one(TaskStrip).display = False
        super().action_solve()

    def follow_up(self, puzzle: ArcPuzzle):
        """After the watched trace, vote two attempts over the task's views (as `hrm solve arc`)."""
        return partial(self.kind.attempts, self.loaded.model, puzzle)

    def status_text(self, frame) -> Text:
        """The voted attempts (what the benchmark scores) first, then the watched trace."""
        answer = self.extra
        text = Text()
        if answer is not None:
            text.append(f"Attempts ({answer.voted} answers from {answer.views} views"
                        f"{'' if answer.learned else ', unseen task'}):")
            for number, attempt in enumerate(answer.attempts[:answer.voted], start=1):
                text.append(f" {number}: {attempt.shape[0]}x{attempt.shape[1]} ")
                if answer.expected is not None:
                    from puzzles.arc import check_answer

                    verdict = check_answer(answer.expected, attempt)
                    text.append("✓" if verdict.ok else "✗", style=palette.OK if verdict.ok else palette.FAIL)
            if not answer.voted:
                text.append(" no well-formed grid")
            text.append("\n")
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
