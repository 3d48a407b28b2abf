"""Maze augmentation: the 8 dihedral symmetries, which keep walls, S, G and path lengths."""

from __future__ import annotations

import numpy as np

from puzzles import dihedral


def view(grid: np.ndarray, k: int) -> np.ndarray:
    """Symmetry k (0-7, see `puzzles.dihedral`) of a maze or its solution."""
    return dihedral.transform(grid, k)


def invert_view(grid: np.ndarray, k: int) -> np.ndarray:
    """Map a grid seen under symmetry k (e.g. a prediction) back to the original maze."""
    return dihedral.invert(grid, k)


def augment(maze: np.ndarray, solution: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The same random symmetry applied to a maze and its solution."""
    k = int(rng.integers(dihedral.COUNT))
    return view(maze, k), view(solution, k)
