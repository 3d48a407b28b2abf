"""Random Sudoku grids and puzzles, reproducible from a numpy Generator.

Grids come from randomised backtracking (`fill`, frozen so that seeds keep their puzzles);
puzzles from removing givens of a grid in random order, keeping a removal only while the
solution stays unique; the extreme level keeps only minimal puzzles that need a lot of
search. The numpy Generator seeds one `random.Random` per call because the search draws
thousands of tiny random numbers, which numpy answers far more slowly than the standard
library.
"""

from __future__ import annotations

import random

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.sudoku import fill, search
from puzzles.sudoku.board import SEQ_LEN, encode

# Givens per level, inclusive. easy, medium and hard blank a random grid down to a number
# of givens drawn from their range. "extreme" is chosen by search effort instead: a
# minimal puzzle (no given can go) whose search (`rate(...).guesses`, solving and proving
# uniqueness with singles and locked candidates) tries at least EXTREME_GUESSES branches,
# about 1.5% of minimal puzzles. Effort barely depends on the number of givens, and local
# search towards fewer givens stalls at 21 without making puzzles harder; the measured
# figures are in docs/puzzles.md.
LEVELS = {"easy": (36, 45), "medium": (30, 35), "hard": (24, 29), "extreme": (21, 27)}
EXTREME_GUESSES = 15
MIN_UNIQUE_GIVENS = 17
_DIAGONAL_BOXES = [[r * 9 + c for r in range(b, b + 3) for c in range(b, b + 3)] for b in (0, 3, 6)]


def _python_rng(rng: np.random.Generator) -> random.Random:
    return random.Random(int(rng.integers(2**63)))


def _random_grid(py: random.Random) -> list[int]:
    """The three diagonal boxes are independent, so fill them directly, then search."""
    cells = [0] * SEQ_LEN
    for box in _DIAGONAL_BOXES:
        for i, digit in zip(box, py.sample(range(1, 10), 9)):
            cells[i] = digit
    return fill.random_completion(cells, py)


def _remove_givens(
    solution: list[int], puzzle: list[int], target: int, py: random.Random, unique: bool
) -> list[int]:
    """Blank given cells of `puzzle` in random order down to `target` givens, or as few as
    uniqueness allows."""
    puzzle = list(puzzle)
    givens = [i for i in range(SEQ_LEN) if puzzle[i]]
    count = len(givens)
    for i in py.sample(givens, len(givens)):
        if count <= target:
            break
        if unique and search.has_other_solution(solution, puzzle, i):
            continue
        puzzle[i] = 0
        count -= 1
    return puzzle


def _swap_down(solution: list[int], puzzle: list[int], target: int, py: random.Random, swaps: int) -> list[int]:
    """Random walk over minimal puzzles: trade a given for another cell of the solution
    when that keeps the solution unique, then remove whatever became redundant. Greedy
    removal alone stalls near 24 givens; a few hundred swaps reach 21-22, a few thousand
    21, and the puzzles get no harder (docs/puzzles.md)."""
    for _ in range(swaps):
        givens = [i for i in range(SEQ_LEN) if puzzle[i]]
        if len(givens) <= target:
            break
        blanks = [i for i in range(SEQ_LEN) if not puzzle[i]]
        trial = list(puzzle)
        trial[py.choice(givens)] = 0
        added = py.choice(blanks)
        trial[added] = solution[added]
        if len(search.solutions(trial, 2, max_guesses=None)) == 1:
            puzzle = _remove_givens(solution, trial, target, py, unique=True)
    return puzzle


def random_solution(rng: np.random.Generator) -> np.ndarray:
    """A random complete valid grid."""
    return np.array(_random_grid(_python_rng(rng)), np.uint8)


def generate(
    rng: np.random.Generator, givens: int, unique: bool = True, swaps: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A (puzzle, solution) pair with `givens` clues. With `unique` the puzzle has exactly
    one solution and keeps more clues when no removal preserves that; `swaps` buys extra
    effort towards `givens` (see `_swap_down`)."""
    low = MIN_UNIQUE_GIVENS if unique else 0
    if not low <= givens <= SEQ_LEN:
        raise PuzzleError(f"givens must be between {low} and {SEQ_LEN}, got {givens}")
    py = _python_rng(rng)
    solution = _random_grid(py)
    puzzle = _remove_givens(solution, solution, givens, py, unique)
    if unique:
        puzzle = _swap_down(solution, puzzle, givens, py, swaps)
    return np.array(puzzle, np.uint8), np.array(solution, np.uint8)


def level_givens(level: str) -> tuple[int, int]:
    """The inclusive range of givens of a level, or PuzzleError for an unknown level."""
    if level not in LEVELS:
        raise PuzzleError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
    return LEVELS[level]


def _search_effort(puzzle: list[int]) -> int:
    """Branches the search tries to solve `puzzle` and prove it unique (`rate().guesses`)."""
    stats = search.SearchStats()
    search.solutions(puzzle, 2, stats, max_guesses=None)
    return stats.guesses


def _extreme(rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Minimal puzzles of random grids until one needs EXTREME_GUESSES guesses."""
    low, high = LEVELS["extreme"]
    py = _python_rng(rng)
    while True:
        solution = _random_grid(py)
        puzzle = _remove_givens(solution, solution, 0, py, unique=True)
        if low <= SEQ_LEN - puzzle.count(0) <= high and _search_effort(puzzle) >= EXTREME_GUESSES:
            return puzzle, solution


def generate_level(rng: np.random.Generator, level: str) -> tuple[np.ndarray, np.ndarray]:
    """A unique puzzle of a level: givens drawn from the level's range (see LEVELS), or for
    "extreme" a minimal puzzle needing at least EXTREME_GUESSES guesses."""
    low, high = level_givens(level)
    if level == "extreme":
        puzzle, solution = _extreme(rng)
        return np.array(puzzle, np.uint8), np.array(solution, np.uint8)
    target = int(rng.integers(low, high + 1))
    while True:
        puzzle, solution = generate(rng, target)
        if np.count_nonzero(puzzle) <= high:
            return puzzle, solution


def make_batch(
    rng: np.random.Generator, n: int, givens_low: int, givens_high: int, unique: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """`n` fresh training pairs as tokens: inputs (n, 81) and labels (n, 81), int32.

    Givens are drawn uniformly from [givens_low, givens_high]; labels hold the full
    solution, as in the reference dataset. Uniqueness is checked by default because
    random blanking is rarely unique (measured: 99% of 30-given and 67% of 40-given random
    blankings have several solutions, so the label would punish valid answers); a puzzle
    keeps more givens than drawn when no removal preserves it, common below ~24.
    `unique=False` skips the check for about 2.5x the speed.
    """
    if not 0 <= givens_low <= givens_high <= SEQ_LEN:
        raise PuzzleError(f"need 0 <= givens_low <= givens_high <= 81, got {givens_low}, {givens_high}")
    py = _python_rng(rng)
    solutions = np.empty((n, SEQ_LEN), np.uint8)
    puzzles = np.empty((n, SEQ_LEN), np.uint8)
    for row, givens in enumerate(rng.integers(givens_low, givens_high + 1, size=n)):
        solution = _random_grid(py)
        solutions[row] = solution
        puzzles[row] = _remove_givens(solution, solution, int(givens), py, unique)
    return encode(puzzles), encode(solutions)
