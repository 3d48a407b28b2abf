"""Symmetric views of a puzzle, so a model can answer it several ways (inference-time scaling).

A view is a symmetry of the puzzle kind: it maps puzzles to puzzles and solutions to
solutions, and is undone exactly, so an answer to the view maps back to an answer to the
puzzle. Sudoku views relabel digits, transpose and shuffle bands, stacks and lines (the
training augmentations); maze views are the 8 rotations and reflections. View 0 is the
puzzle itself.

Answers are compared by the rules alone, never with a solver: a Sudoku answer that keeps
the givens and breaks no rule is the solution of a unique puzzle; a maze answer that marks
one S-G route is ranked by its steps, and the fewest win (shortest-path optimality itself
is only checked when scoring against the truth).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from puzzles import dihedral
from puzzles.errors import PuzzleError
from puzzles.maze.paths import check_route
from puzzles.sudoku.augment import random_transform
from puzzles.sudoku.board import check_solution

VIEW_SEED = 20_251_206  # fixes the Sudoku views, so an answer is reproducible
MAX_VIEWS = {"sudoku": 64, "maze": dihedral.COUNT}
# Whether a rule-abiding answer is final: a unique Sudoku has one, but a maze route may
# not be the shortest, so every maze view is tried.
FINAL_WHEN_VALID = {"sudoku": True, "maze": False}


@dataclass(frozen=True)
class View:
    """`apply` gives the puzzle (or an answer) as the model sees it in this view; `invert`
    maps an answer given in the view back to the puzzle's frame."""

    index: int
    apply: Callable[[np.ndarray], np.ndarray]
    invert: Callable[[np.ndarray], np.ndarray]
    # Moves per-cell values (confidences, tokens of a kind without relabelling) back to the
    # puzzle's cells without relabelling them; last axis = the cells, row-major.
    move_back: Callable[[np.ndarray], np.ndarray]


def views(kind: str, count: int) -> list[View]:
    """The first `count` views of `kind` (the same ones on every call)."""
    if kind not in MAX_VIEWS:
        raise PuzzleError(f"{kind} puzzles have no symmetric views")
    if not 1 <= count <= MAX_VIEWS[kind]:
        raise PuzzleError(f"{kind} views must be between 1 and {MAX_VIEWS[kind]}, got {count}")
    if kind == "maze":
        return [View(k, lambda grid, k=k: dihedral.transform(grid, k), lambda grid, k=k: dihedral.invert(grid, k),
                     lambda grid, k=k: dihedral.invert(grid, k)) for k in range(count)]
    out = [View(0, np.asarray, np.asarray, np.asarray)]
    for k in range(1, count):
        transform = random_transform(np.random.default_rng([VIEW_SEED, k]))
        out.append(View(k, transform.apply, transform.invert, transform.move_back))
    return out


def rank(kind: str, puzzle: np.ndarray, answer: np.ndarray) -> int | None:
    """None when `answer` breaks the rules of `puzzle`; otherwise its cost, lower is better
    (0 for a Sudoku solution, the steps of a maze route)."""
    if kind == "sudoku":
        return 0 if check_solution(puzzle, answer).ok else None
    verdict, steps = check_route(puzzle, answer)
    return steps if verdict.ok else None
