"""Argument types shared by several commands."""

from enum import Enum


class Kind(str, Enum):
    """The puzzle kinds the CLI accepts."""

    sudoku = "sudoku"
    maze = "maze"
    arc = "arc"
