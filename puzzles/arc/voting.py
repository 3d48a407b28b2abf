"""Turning predictions on augmented views into up to two ranked attempts (pass@2).

Every view's prediction is decoded and mapped back through its transform's inverse; views
that decode to a malformed grid abstain. Answers are ranked by votes, ties broken by the
mean confidence (for HRM, the Q-halt probability) of the views that gave them, as in the
reference evaluator.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from puzzles.arc.augment import ArcTransform
from puzzles.arc.tokens import decode_grid
from puzzles.errors import PuzzleError

ATTEMPTS = 2


def map_back(tokens: np.ndarray, transform: ArcTransform, offset: tuple[int, int] = (0, 0)) -> np.ndarray | None:
    """A view's predicted tokens as a grid in the original task's frame; None if malformed."""
    try:
        return transform.invert(decode_grid(tokens, offset))
    except PuzzleError:
        return None


def ranked_votes(candidates: Iterable[tuple[np.ndarray | None, float]],
                 attempts: int = ATTEMPTS) -> list[tuple[np.ndarray, int]]:
    """The `attempts` best grids from (grid or None, confidence) pairs, best first, each with
    the number of views that gave it."""
    tally: dict[tuple, list] = {}
    for order, (grid, confidence) in enumerate(candidates):
        if grid is None:
            continue
        key = (grid.shape, grid.tobytes())
        entry = tally.setdefault(key, [grid, 0, 0.0, order])
        entry[1] += 1
        entry[2] += confidence
    ranked = sorted(tally.values(), key=lambda e: (-e[1], -e[2] / e[1], e[3]))
    return [(entry[0], entry[1]) for entry in ranked[:attempts]]


def vote(candidates: Iterable[tuple[np.ndarray | None, float]], attempts: int = ATTEMPTS) -> list[np.ndarray]:
    """The `attempts` best grids from (grid or None, confidence) pairs, best first."""
    return [grid for grid, _ in ranked_votes(candidates, attempts)]
