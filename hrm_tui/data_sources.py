"""Training and evaluation data for each puzzle kind, as the model code's `BatchSource`.

Sources generate fresh puzzles from a seeded numpy Generator; their position is that
Generator's state, so a resumed run sees exactly the data an uninterrupted one would.
Training and evaluation draw from independent streams of the same seed, and evaluation
seeds are never used for training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TRAIN_STREAM = 0x7A1
EVAL_STREAM = 0xE7A1


def stream_rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


@dataclass
class GivensSchedule:
    """Range of Sudoku givens per step: starts at [start_low, start_high] and moves linearly
    to [low, high] over `steps` (0 = no curriculum)."""

    low: int
    high: int
    start_low: int = 60
    start_high: int = 75
    steps: int = 0

    @classmethod
    def starting_at(cls, low: int, high: int, steps: int, start: int) -> "GivensSchedule":
        """A curriculum from [start, start + 15] givens (at most 81)."""
        return cls(low, high, start_low=start, start_high=min(81, start + 15), steps=steps)

    def left(self, step: int) -> float:
        """Share of the curriculum still ahead: 1 at its start, 0 once it is over (or off)."""
        return 0.0 if self.steps <= 0 or step >= self.steps else 1 - step / self.steps

    def at(self, step: int) -> tuple[int, int]:
        if self.steps <= 0 or step >= self.steps:
            return self.low, self.high
        f = step / self.steps
        return (round(self.start_low + f * (self.low - self.start_low)),
                round(self.start_high + f * (self.high - self.start_high)))

    def givens_for(self, own: int, step: int) -> int:
        """Givens a file puzzle with `own` givens shows at `step`: the curriculum's start at first,
        its own by the end, so real sparse puzzles are learned from easier versions of themselves."""
        return max(own, round(own + self.left(step) * (self.start_low - own)))


class SudokuSource:
    """Fresh random Sudoku puzzles every batch (labels are the full solution)."""

    def __init__(self, batch_size: int, schedule: GivensSchedule, seed: int, stream: int = TRAIN_STREAM):
        self.batch_size = batch_size
        self.schedule = schedule
        self.rng = stream_rng(seed, stream)
        self.batches = 0

    def next_batch(self) -> dict[str, np.ndarray]:
        from puzzles import sudoku

        low, high = self.schedule.at(self.batches)
        inputs, labels = sudoku.make_batch(self.rng, self.batch_size, low, high)
        self.batches += 1
        return {"inputs": inputs, "labels": labels, "puzzle_identifiers": np.zeros(self.batch_size, dtype=np.int32)}

    def state(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state, "batches": self.batches}

    def restore(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.batches = int(state["batches"])


def sudoku_level_set(level: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` unique-solution puzzles of a difficulty level from the evaluation stream."""
    from puzzles import sudoku

    rng = stream_rng(seed, EVAL_STREAM)
    pairs = [sudoku.generate_level(rng, level) for _ in range(count)]
    return np.stack([p for p, _ in pairs]), np.stack([s for _, s in pairs])


class MazeSource:
    """Fresh random mazes of one size (or of sizes min_size..size) on the model's canvas (pad
    cells ignored by the loss)."""

    def __init__(self, batch_size: int, size: int, seed: int, stream: int = TRAIN_STREAM, canvas: int = 30,
                 min_size: int | None = None, style: str = "carved", *, loops: float, distance_classes: int = 0):
        self.batch_size = batch_size
        self.distance_classes = distance_classes  # > 0: batches carry the distance head's targets
        self.size = size
        self.min_size = min_size
        self.style = style
        self.loops = loops
        self.canvas = canvas
        self.rng = stream_rng(seed, stream)

    def next_batch(self) -> dict[str, np.ndarray]:
        from puzzles import maze

        inputs, labels = maze.make_batch(self.rng, self.batch_size, self.size, self.canvas, self.min_size, self.style,
                                         self.loops)
        batch = {"inputs": inputs, "labels": labels, "puzzle_identifiers": np.zeros(self.batch_size, dtype=np.int32)}
        if self.distance_classes:
            from puzzles.maze.wavefront import distance_targets

            batch["distances"] = distance_targets(inputs, self.canvas, self.distance_classes)
        return batch

    def state(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state}

    def restore(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]


def maze_eval_set(size: int, count: int, seed: int, hard: bool = False,
                  style: str = "carved") -> tuple[np.ndarray, np.ndarray]:
    """`count` mazes of a size and style from the evaluation stream; `hard` keeps 30x30-style
    long shortest paths (110 steps at 30x30, scaled by area otherwise)."""
    from puzzles.maze.generate import STYLES, default_min_path, generate

    # Carved sets keep the stream they always had, so earlier figures stay reproducible.
    rng = stream_rng(seed, EVAL_STREAM + size + 1000 * STYLES.index(style))
    min_path = default_min_path(size) if hard else 0
    pairs = [generate(rng, size, size, min_path=min_path, style=style) for _ in range(count)]
    return np.stack([m for m, _ in pairs]), np.stack([s for _, s in pairs])


@dataclass
class WeightedFile:
    """A Sudoku training file's training rows and its share of the stream."""

    file: Any  # puzzles.sudoku.files.PuzzleFile
    rows: np.ndarray
    weight: float


class SudokuMixSource(SudokuSource):
    """Sudoku batches mixed from training files and the generator: each puzzle comes from a
    file (a random row under a random symmetry, so a file of 40,000 puzzles is many more) or,
    with the generator's weight, is generated fresh."""

    def __init__(self, batch_size: int, schedule: GivensSchedule, seed: int, files: list[WeightedFile],
                 generated_weight: float):
        super().__init__(batch_size, schedule, seed)
        self.files = files
        weights = np.array([generated_weight] + [f.weight for f in files], dtype=np.float64)
        self.shares = weights / weights.sum()

    def next_batch(self) -> dict[str, np.ndarray]:
        from puzzles import sudoku

        origin = self.rng.choice(len(self.shares), size=self.batch_size, p=self.shares)
        inputs = np.empty((self.batch_size, sudoku.SEQ_LEN), np.int32)
        labels = np.empty_like(inputs)
        generated = np.flatnonzero(origin == 0)
        if generated.size:
            low, high = self.schedule.at(self.batches)
            inputs[generated], labels[generated] = sudoku.make_batch(self.rng, generated.size, low, high)
        for row in np.flatnonzero(origin > 0):
            source = self.files[origin[row] - 1]
            pick = source.rows[self.rng.integers(len(source.rows))]
            puzzle, solution = sudoku.augment(source.file.puzzles[pick], source.file.solutions[pick], self.rng)
            if self.schedule.left(self.batches) > 0:  # off: no extra draws, so earlier runs replay exactly
                puzzle = self.reveal(puzzle, solution)
            inputs[row], labels[row] = sudoku.encode(puzzle), sudoku.encode(solution)
        self.batches += 1
        return {"inputs": inputs, "labels": labels, "puzzle_identifiers": np.zeros(self.batch_size, dtype=np.int32)}

    def reveal(self, puzzle: np.ndarray, solution: np.ndarray) -> np.ndarray:
        """The puzzle with random cells of its solution filled in, up to the curriculum's givens."""
        blanks = np.flatnonzero(puzzle.reshape(-1) == 0)
        own = puzzle.size - blanks.size
        shown = self.rng.choice(blanks, size=self.schedule.givens_for(own, self.batches) - own, replace=False)
        easier = puzzle.reshape(-1).copy()
        easier[shown] = solution.reshape(-1)[shown]
        return easier.reshape(puzzle.shape)


def heldout_batch(files: list[WeightedFile], holdout_rows: list[np.ndarray], size: int) -> dict[str, np.ndarray]:
    """The held-out evaluation batch: an equal share of `size` from each file's held-out slice."""
    from puzzles import sudoku

    share = max(1, size // len(files))
    puzzles = np.concatenate([f.file.puzzles[rows[:share]] for f, rows in zip(files, holdout_rows)])
    solutions = np.concatenate([f.file.solutions[rows[:share]] for f, rows in zip(files, holdout_rows)])
    return {"inputs": sudoku.encode(puzzles), "labels": sudoku.encode(solutions),
            "puzzle_identifiers": np.zeros(len(puzzles), dtype=np.int32)}
