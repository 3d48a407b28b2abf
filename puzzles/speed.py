"""Reproducible speed figures for docs/puzzles.md: generators, solvers and verifiers.

Each measurement repeats one operation for about `budget` seconds of this process's CPU
time and reports items per CPU-second: a shared machine (a training run on the other
core) slows the wall clock but barely moves these figures. Everything here is
single-threaded. `hrm data bench` prints them; the docs quote its output.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from puzzles import arc, maze, sudoku


@dataclass(frozen=True)
class Measurement:
    what: str
    items: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.items / self.seconds


def _timed(what: str, step: Callable[[], object], budget: float, per_call: int = 1) -> Measurement:
    """Call `step` (which handles `per_call` items) until `budget` seconds pass."""
    calls, start = 0, time.process_time()
    while True:
        step()
        calls += 1
        elapsed = time.process_time() - start
        if elapsed >= budget:
            return Measurement(what, calls * per_call, elapsed)


def _cycle(items: list) -> Callable[[], object]:
    """A function returning the items in turn, forever."""
    position = iter(range(10**12))
    return lambda: items[next(position) % len(items)]


def _gathering(into: list, make: Callable[[], object]) -> Callable[[], None]:
    """`make`, keeping what it makes so the next measurement can reuse it."""
    return lambda: into.append(make())


def _sudoku(rng: np.random.Generator, budget: float) -> Iterator[Measurement]:
    for level in sudoku.LEVELS:
        made: list[tuple[np.ndarray, np.ndarray]] = []
        make = _gathering(made, lambda: sudoku.generate_level(rng, level))
        yield _timed(f"sudoku generate {level} (unique)", make, budget)
        next_pair = _cycle(made)
        yield _timed(f"sudoku solve {level}", lambda: sudoku.solve(next_pair()[0]), budget)
        yield _timed(f"sudoku verify unique {level}", lambda: sudoku.count_solutions(next_pair()[0]), budget)
    yield _timed("sudoku check_solution", lambda: sudoku.check_solution(*next_pair()), budget)
    puzzles, solutions = (np.stack(a) for a in zip(*made))
    yield _timed("sudoku solved_mask (vectorised)", lambda: sudoku.solved_mask(puzzles, solutions), budget, len(puzzles))
    for low, high in ((17, 29), (30, 45)):
        yield _timed(f"sudoku make_batch givens {low}-{high}", lambda: sudoku.make_batch(rng, 32, low, high), budget, 32)


def _maze(rng: np.random.Generator, budget: float) -> Iterator[Measurement]:
    for name, spec in maze.SETTINGS.items():
        made: list[tuple[np.ndarray, np.ndarray]] = []
        label = f"maze generate {name} ({spec.height}x{spec.width}, path >= {spec.min_path})"
        yield _timed(label, _gathering(made, lambda: maze.generate_spec(rng, spec)), budget)
        next_pair = _cycle(made)
        yield _timed(f"maze check_solution {name}", lambda: maze.check_solution(*next_pair()), budget)
    yield _timed("maze make_batch 30x30", lambda: maze.make_batch(rng, 8, 30), budget, 8)


def _arc(rng: np.random.Generator, budget: float) -> Iterator[Measurement]:
    for name in arc.COLLECTIONS:
        tasks = sum(len(split) for split in arc.load_collection(name))
        yield _timed(f"arc load+validate {name} tasks", lambda: arc.load_collection(name), budget, tasks)
    training, _ = arc.load_collection("arc1")
    grids = [pair.output for task in training for pair in task.train]
    next_grid = _cycle(grids)

    def round_trip() -> None:
        transform = arc.random_transform(rng)
        view = transform.apply(next_grid())
        offset = arc.random_offset(rng, [view])
        arc.map_back(arc.encode_grid(view, offset), transform, offset)

    yield _timed("arc augment+encode+decode+invert grid", round_trip, budget)


def measure(kinds: list[str], budget: float = 1.0, seed: int = 0) -> Iterator[Measurement]:
    """Measurements for the given kinds ("sudoku", "maze", "arc"), one at a time."""
    sections = {"sudoku": _sudoku, "maze": _maze, "arc": _arc}
    rng = np.random.default_rng(seed)
    for kind in kinds:
        yield from sections[kind](rng, budget)
