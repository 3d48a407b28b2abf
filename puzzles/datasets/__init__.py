"""Versioned dataset directories: building (`build`), storage (`store`), batches (`loader`)."""

from puzzles.datasets.build import build_arc, build_maze, build_sudoku
from puzzles.datasets.loader import DatasetLoader
from puzzles.datasets.store import FORMAT_VERSION, Dataset, read_dataset

__all__ = ["FORMAT_VERSION", "Dataset", "DatasetLoader", "build_arc", "build_maze", "build_sudoku", "read_dataset"]
