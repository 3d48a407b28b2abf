"""Solving, counting and rating Sudoku boards with the classical search in `search`.

Every function takes `max_guesses`, the search budget (default `MAX_GUESSES`, about a
second of search; None = unbounded), and raises `SearchBudgetExceeded`, a `PuzzleError`,
when it runs out. Real puzzles stay far inside it: the hardest published ones need a few
hundred guesses (docs/puzzles.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.sudoku import search
from puzzles.sudoku.board import as_board
from puzzles.sudoku.search import MAX_GUESSES

TECHNIQUES = ("naked singles", "hidden singles", "locked candidates", "search")


def solve(board, max_guesses: int | None = MAX_GUESSES) -> np.ndarray | None:
    """The first solution found, or None when the givens admit none."""
    found = search.solutions(as_board(board).tolist(), 1, max_guesses=max_guesses)
    return np.array(found[0], np.uint8) if found else None


def count_solutions(board, limit: int = 2, max_guesses: int | None = MAX_GUESSES) -> int:
    """Solutions counted up to `limit`; `limit=2` answers "is it unique?" cheaply. Each
    solution costs at least one guess, so a large `limit` needs a larger budget."""
    return len(search.solutions(as_board(board).tolist(), limit, max_guesses=max_guesses))


@dataclass(frozen=True)
class Difficulty:
    """How hard a puzzle is.

    `technique` is the weakest of TECHNIQUES that solves it: 'naked singles', 'hidden
    singles', 'locked candidates' (pointing and claiming), or 'search'. `guesses` is how
    many branches the search (which propagates up to locked candidates) tries to solve
    the puzzle and prove it unique: the size of its whole search tree, so it does not
    depend on the luck of guessing right first (0 unless technique is 'search').
    Together they order puzzles far better than the number of givens alone.
    """

    givens: int
    technique: str
    guesses: int

    def __str__(self) -> str:
        effort = f", {self.guesses} guesses" if self.guesses else ""
        return f"{self.givens} givens, {self.technique}{effort}"


def rate(board, max_guesses: int | None = MAX_GUESSES) -> Difficulty:
    """Rate a solvable board; PuzzleError if it is malformed or has no solution."""
    cells = as_board(board).tolist()
    givens = sum(1 for d in cells if d)
    stats = search.SearchStats()
    if not search.solutions(cells, 2, stats, max_guesses):
        raise PuzzleError("the givens admit no solution")
    for level, technique in enumerate(TECHNIQUES[:-1]):
        if search.solved_by_logic(cells, level):
            return Difficulty(givens, technique, 0)
    return Difficulty(givens, "search", stats.guesses)
