"""Argument types shared by several commands."""

from enum import Enum


class Kind(str, Enum):
    """The puzzle kinds the CLI accepts."""

    sudoku = "sudoku"
    maze = "maze"
    arc = "arc"


def budget_option():
    """`--budget`, shared by `hrm solve` and `hrm eval` (ARC only)."""
    import typer

    return typer.Option(None, help="ARC: CPU seconds per task of test-time training on its demonstrations before "
                                   "answering (one demonstration held out to choose when to stop); 0 answers "
                                   "untrained \\[default: 0: with the shipped weights 15 and 30 s "
                                   "solved no more tasks of the measured sample, docs/arc.md].")


# `--views` and its companions, shared by `hrm solve` and `hrm eval` (Sudoku and maze).
VIEW_HELP = {
    "views": "Symmetric views of each puzzle to try until an answer follows the rules "
             "\\[default: sudoku 64, maze 8]; 1 is one plain run.",
    "views_per_round": "Sudoku and maze: views answered together in one batch per round \\[default: sudoku 1, maze 8].",
    "views_max_cells": "Try views beyond the first only on puzzles of at most this many cells; 0 = every size "
                       "\\[default: maze 400, sudoku 0].",
    "extra_view_segments": "Sudoku and maze: segments of the rounds after the first \\[default: all].",
}


def view_option(name: str):
    """One of the view options (VIEW_HELP), unset unless given, so the kind's default applies."""
    import typer

    return typer.Option(None, help=VIEW_HELP[name])


def check_budget(kind: str, budget: float | None) -> float:
    """The budget to use: the option, checked, or the default (ARC only)."""
    from hrm_tui.arc.test_time import DEFAULT_BUDGET
    from hrm_tui.errors import UserError

    if budget is None:
        return DEFAULT_BUDGET
    if kind != "arc":
        raise UserError("--budget is for arc: test-time training learns an ARC task from its demonstrations")
    if not budget >= 0 or budget == float("inf"):
        raise UserError(f"--budget must be a number of CPU seconds >= 0, got {budget:g}")
    return budget
