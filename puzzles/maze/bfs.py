"""Breadth-first distances on a 4-connected grid: the one graph routine mazes need."""

from __future__ import annotations

from collections import deque

import numpy as np

UNREACHED = -1


def distances(passable: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Steps from `start` to every cell through passable cells; UNREACHED elsewhere."""
    height, width = passable.shape
    open_cells = passable.ravel().tolist()
    dist = [UNREACHED] * (height * width)
    first = start[0] * width + start[1]
    dist[first] = 0
    queue = deque([first])
    while queue:
        i = queue.popleft()
        d = dist[i] + 1
        r, c = divmod(i, width)
        for j, inside in ((i - width, r > 0), (i + width, r + 1 < height), (i - 1, c > 0), (i + 1, c + 1 < width)):
            if inside and open_cells[j] and dist[j] == UNREACHED:
                dist[j] = d
                queue.append(j)
    return np.array(dist, np.int32).reshape(height, width)


def neighbours(cell: tuple[int, int], shape: tuple[int, int]) -> list[tuple[int, int]]:
    """The in-bounds 4-neighbours of a cell, in a fixed order (up, down, left, right)."""
    r, c = cell
    candidates = ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
    return [(y, x) for y, x in candidates if 0 <= y < shape[0] and 0 <= x < shape[1]]
