"""Batches from a built dataset split, in the form the training loop consumes.

`DatasetLoader` follows `models.training.BatchSource` (next_batch / state / restore)
without importing it: batches are dicts of numpy arrays, at least `inputs` and `labels`
int32 (B, S) with -100 where the loss ignores a position, and `puzzle_identifiers` int32
(B,); any extra per-example arrays of the split (ARC's `example_index`) come along.
Tokens are stored as uint8 with label 0 (pad) meaning "ignored" and widened per batch,
which keeps files and memory four times smaller.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from puzzles.datasets.store import Dataset, read_dataset
from puzzles.kinds import IGNORE_LABEL
from puzzles.errors import PuzzleError


class DatasetLoader:
    """Endless shuffled batches for training (`next_batch`) or one ordered pass (`epoch`).

    The order of epoch e is a permutation drawn from (seed, e), so the position is just
    (epoch, index) and a resumed run continues with exactly the batches it would have seen.
    """

    def __init__(self, dataset: Dataset | str, split: str, batch_size: int, seed: int = 0):
        dataset = dataset if isinstance(dataset, Dataset) else read_dataset(dataset)
        if split not in dataset.splits:
            raise PuzzleError(f"{dataset.path} has no {split!r} split (it has {', '.join(dataset.splits)})")
        if batch_size < 1:
            raise PuzzleError(f"batch size must be positive, got {batch_size}")
        self.arrays = dataset.splits[split]
        self.size = len(self.arrays["inputs"])
        if self.size < batch_size:
            raise PuzzleError(f"the {split} split holds {self.size} examples, fewer than one batch of {batch_size}")
        self.batch_size, self.seed = batch_size, seed
        self.epoch_number, self.position = 0, 0
        self._order = self._shuffled(0)

    def _shuffled(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.size)

    def _take(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        batch = {name: array[rows] for name, array in self.arrays.items()}
        batch["inputs"] = batch["inputs"].astype(np.int32)
        labels = batch["labels"].astype(np.int32)
        labels[labels == 0] = IGNORE_LABEL
        batch["labels"] = labels
        return batch

    def next_batch(self) -> dict[str, np.ndarray]:
        """The next full batch; a new shuffled epoch starts when fewer than a batch remain."""
        if self.position + self.batch_size > self.size:
            self.epoch_number, self.position = self.epoch_number + 1, 0
            self._order = self._shuffled(self.epoch_number)
        rows = self._order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return self._take(rows)

    def epoch(self) -> Iterator[dict[str, np.ndarray]]:
        """Every example once, in stored order; the last batch may be smaller (evaluation)."""
        for start in range(0, self.size, self.batch_size):
            yield self._take(np.arange(start, min(start + self.batch_size, self.size)))

    def state(self) -> dict[str, Any]:
        return {"seed": self.seed, "epoch": self.epoch_number, "position": self.position}

    def restore(self, state: dict[str, Any]) -> None:
        self.seed, self.epoch_number, self.position = int(state["seed"]), int(state["epoch"]), int(state["position"])
        self._order = self._shuffled(self.epoch_number)
