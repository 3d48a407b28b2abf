"""ARC augmentations with exact inverses: dihedral symmetry, colour permutation, translation.

Colour 0 (black, usually background) stays fixed, as in the reference. Translation moves a
whole example (input and output together) on the canvas, so it is an encoding offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from puzzles import dihedral
from puzzles.arc.task import MAX_SIZE


@dataclass(frozen=True, eq=False)
class ArcTransform:
    """Symmetry `k` (see `puzzles.dihedral`) then colour c -> colours[c]."""

    k: int
    colours: np.ndarray  # (10,) permutation with colours[0] == 0

    def apply(self, grid: np.ndarray) -> np.ndarray:
        return self.colours[dihedral.transform(grid, self.k)]

    def invert(self, grid: np.ndarray) -> np.ndarray:
        inverse = np.argsort(self.colours).astype(np.uint8)
        return dihedral.invert(inverse[np.asarray(grid)], self.k)

    def to_text(self) -> str:
        """Compact form for manifests: '3:0571239846' is symmetry 3, then colours[0..9]."""
        return f"{self.k}:{''.join(str(c) for c in self.colours.tolist())}"

    @classmethod
    def from_text(cls, text: str) -> ArcTransform:
        k, colours = text.split(":")
        return cls(int(k), np.array([int(c) for c in colours], np.uint8))


IDENTITY = ArcTransform(0, np.arange(10, dtype=np.uint8))


def random_transform(rng: np.random.Generator) -> ArcTransform:
    colours = np.concatenate([[0], rng.permutation(np.arange(1, 10))]).astype(np.uint8)
    return ArcTransform(int(rng.integers(dihedral.COUNT)), colours)


def random_offset(rng: np.random.Generator, grids: list[np.ndarray]) -> tuple[int, int]:
    """A top-left corner at which every grid of one example still fits the canvas."""
    height = max(g.shape[0] for g in grids)
    width = max(g.shape[1] for g in grids)
    return int(rng.integers(MAX_SIZE - height + 1)), int(rng.integers(MAX_SIZE - width + 1))
