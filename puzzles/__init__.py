"""Puzzle kinds: parsing, validation, encoding, generators, solvers, augmentation, datasets.

numpy only: no MLX, no Textual.
"""

from puzzles.errors import PuzzleError

__all__ = ["PuzzleError"]
