"""Validity-preserving Sudoku symmetries, as in the reference dataset builder.

A transform relabels digits, optionally transposes, shuffles the three bands and the three
stacks, and shuffles rows within each band and columns within each stack. Each of these
maps valid grids to valid grids and unique puzzles to unique puzzles, and is undone exactly
by `invert`, so predictions on an augmented view can be mapped back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CELLS = np.arange(81).reshape(9, 9)


@dataclass(frozen=True, eq=False)
class SudokuTransform:
    """`apply(board)[k] = digits[board[gather[k]]]` over the last axis of any shape."""

    digits: np.ndarray  # (10,) digit relabelling, digits[0] == 0 keeps blanks blank
    gather: np.ndarray  # (81,) source cell of every target cell

    def apply(self, boards) -> np.ndarray:
        return self.digits[np.asarray(boards)[..., self.gather]]

    def move_back(self, values) -> np.ndarray:
        """Per-cell values (any dtype) of the transformed grid back at the original cells."""
        values = np.asarray(values)
        out = np.empty_like(values)
        out[..., self.gather] = values
        return out

    def invert(self, boards) -> np.ndarray:
        inverse_digits = np.argsort(self.digits).astype(self.digits.dtype)
        boards = np.asarray(boards)
        out = np.empty_like(boards)
        out[..., self.gather] = inverse_digits[boards]
        return out


def _shuffled_lines(rng: np.random.Generator) -> np.ndarray:
    """Row (or column) order: shuffle the three bands, then the lines within each."""
    return np.concatenate([band * 3 + rng.permutation(3) for band in rng.permutation(3)])


def random_transform(rng: np.random.Generator) -> SudokuTransform:
    digits = np.concatenate([[0], rng.permutation(np.arange(1, 10))]).astype(np.uint8)
    cells = _CELLS.T if rng.random() < 0.5 else _CELLS
    rows, cols = _shuffled_lines(rng), _shuffled_lines(rng)
    gather = cells[rows][:, cols].reshape(81)
    return SudokuTransform(digits, gather)


def augment(puzzle, solution, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The same random symmetry applied to a puzzle and its solution."""
    transform = random_transform(rng)
    return transform.apply(puzzle), transform.apply(solution)
