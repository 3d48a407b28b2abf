"""Distance targets for an auxiliary training signal: how many steps each open cell is from S
and from G, modulo a small number of classes.

A shortest path with loops needs a distance wavefront (BFS), not dead-end filling (Knutson
et al. 2024). Both distances are local to compute (a cell is one more than its nearest
reached neighbour) and, taken modulo K, stay the same task on any grid size: the step
towards G is the neighbour one class lower, so a model that learns them on small mazes can
follow them on large ones.
"""

from __future__ import annotations

import numpy as np

from puzzles.maze.bfs import UNREACHED, distances
from puzzles.maze.grid import GOAL, PAD, START, WALL

IGNORE = -100  # the loss's ignore label: walls, pad, unreachable cells


def distance_targets(tokens: np.ndarray, canvas: int, classes: int) -> np.ndarray:
    """(N, canvas**2, 2) int32: steps from S and from G modulo `classes` for every open cell
    of each encoded maze in `tokens` (N, canvas**2); IGNORE on walls, pad and cells that
    cannot be reached."""
    tokens = np.asarray(tokens).reshape(len(tokens), canvas, canvas)
    out = np.full((len(tokens), canvas, canvas, 2), IGNORE, np.int32)
    for row, grid in enumerate(tokens):
        passable = (grid != WALL) & (grid != PAD)
        for slot, endpoint in enumerate((START, GOAL)):
            where = np.argwhere(grid == endpoint)
            if not len(where):
                continue
            steps = distances(passable, tuple(where[0]))
            out[row, ..., slot] = np.where(steps == UNREACHED, IGNORE, steps % classes)
    return out.reshape(len(tokens), canvas * canvas, 2)
