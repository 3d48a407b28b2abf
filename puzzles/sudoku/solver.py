"""Solving, counting and rating Sudoku boards with the classical search in `search`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from puzzles.sudoku import search
from puzzles.sudoku.board import as_board


def solve(board) -> np.ndarray | None:
    """The first solution found, or None when the givens admit none."""
    found = search.solutions(as_board(board).tolist(), 1)
    return np.array(found[0], np.uint8) if found else None


def count_solutions(board, limit: int = 2) -> int:
    """Solutions counted up to `limit`; `limit=2` answers "is it unique?" cheaply."""
    return len(search.solutions(as_board(board).tolist(), limit))


@dataclass(frozen=True)
class Difficulty:
    """How hard a puzzle is for a person-like solver.

    `technique` is the weakest that suffices: 'naked singles', 'hidden singles' or
    'search'; `guesses` is how many branches the search tried before its first solution
    (0 unless technique is 'search'). Together they order puzzles far better than the
    number of givens alone.
    """

    givens: int
    technique: str
    guesses: int

    def __str__(self) -> str:
        effort = f", {self.guesses} guesses" if self.guesses else ""
        return f"{self.givens} givens, {self.technique}{effort}"


def rate(board) -> Difficulty:
    """Rate a solvable board; raises PuzzleError if malformed."""
    cells = as_board(board).tolist()
    givens = sum(1 for d in cells if d)
    if search.solved_by_logic(cells, hidden=False):
        return Difficulty(givens, "naked singles", 0)
    if search.solved_by_logic(cells, hidden=True):
        return Difficulty(givens, "hidden singles", 0)
    stats = search.SearchStats()
    search.solutions(cells, 1, stats)
    return Difficulty(givens, "search", stats.guesses)
