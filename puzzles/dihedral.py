"""The 8 symmetries of a square grid (rotations and reflections), shared by mazes and ARC.

Numbered as in the HRM reference dataset builders so augmented data and voting agree with
it: 0 identity, 1-3 rotations by 90/180/270 degrees, 4 left-right flip, 5 up-down flip,
6 transpose, 7 anti-transpose.
"""

from __future__ import annotations

import numpy as np

COUNT = 8
INVERSE = (0, 3, 2, 1, 4, 5, 6, 7)
_TRANSFORMS = (
    lambda a: a,
    lambda a: np.rot90(a, 1),
    lambda a: np.rot90(a, 2),
    lambda a: np.rot90(a, 3),
    np.fliplr,
    np.flipud,
    lambda a: a.T,
    lambda a: np.fliplr(np.rot90(a, 1)),
)


def transform(grid: np.ndarray, k: int) -> np.ndarray:
    """Symmetry `k` of a 2-D grid, as a new contiguous array."""
    return np.ascontiguousarray(_TRANSFORMS[k](np.asarray(grid)))


def invert(grid: np.ndarray, k: int) -> np.ndarray:
    """Undo `transform(grid, k)` exactly."""
    return transform(grid, INVERSE[k])
