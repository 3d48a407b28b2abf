"""Sudoku training files read into arrays: `puzzle,solution` lines, puzzle-only lines (solved
here once, when the file is read) and the reference's Sudoku-Extreme CSV
(`source,question,answer,rating`), so a user who has that set can train on it.

A file keeps a fixed held-out slice for model selection: the first rows of a permutation
that depends only on the number of puzzles, so every run of every seed holds out the same
puzzles and never trains on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.sudoku import search
from puzzles.sudoku.board import SEQ_LEN, solved_mask

CSV_HEADER = "source,question,answer,rating"
DIGITS = "0123456789."
HOLDOUT_STREAM = 0x401D  # the held-out permutation's seed: the same for every run


@dataclass(frozen=True)
class PuzzleFile:
    """A training file's puzzles and solutions (uint8 (n, 81), 0 blank) and what names it."""

    path: Path
    puzzles: np.ndarray
    solutions: np.ndarray
    lines: int  # puzzle lines in the file, before benchmark puzzles were dropped
    dropped: int  # puzzles left out because a benchmark holds them
    sha256: str

    def split(self, holdout: int) -> tuple[np.ndarray, np.ndarray]:
        """(training rows, held-out rows): `holdout` puzzles, at most a quarter of the file."""
        count = len(self.puzzles)
        holdout = min(holdout, count // 4)
        order = np.random.default_rng([HOLDOUT_STREAM, count]).permutation(count)
        return np.sort(order[holdout:]), np.sort(order[:holdout])

    def facts(self, holdout: int) -> dict:
        """What a card says of the file."""
        train, held = self.split(holdout)
        return {"file": self.path.name, "path": str(self.path), "lines": self.lines, "dropped": self.dropped,
                "train": len(train), "heldout": len(held), "sha256": self.sha256}


def _text_fields(lines: list[str]) -> list[tuple[int, str, str | None]]:
    """(line number, puzzle, solution or None) per puzzle line, in any of the three forms."""
    rows, csv = [], False
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not rows and not csv and line.lower().startswith(CSV_HEADER):
            csv = True
            continue
        fields = line.split(",")
        if csv:
            if len(fields) < 3:
                raise PuzzleError(f"line {number}: expected '{CSV_HEADER}', got {len(fields)} fields")
            rows.append((number, fields[1].strip(), fields[2].strip()))
        elif len(fields) <= 2:
            rows.append((number, fields[0].strip(), fields[1].strip() if len(fields) == 2 else None))
        else:
            raise PuzzleError(f"line {number}: expected 'puzzle' or 'puzzle,solution', got {len(fields)} fields")
    return rows


def _check_cells(number: int, text: str, what: str) -> None:
    if len(text) != SEQ_LEN:
        raise PuzzleError(f"line {number}: the {what} has {len(text)} cells, expected {SEQ_LEN}")
    bad = text.strip(DIGITS)
    if bad:
        raise PuzzleError(f"line {number}: bad character {bad[0]!r} in the {what} (expected 1-9, '.' or '0')")


def _boards(texts: list[str]) -> np.ndarray:
    joined = "".join(texts).replace(".", "0").encode("ascii")
    return (np.frombuffer(joined, np.uint8) - ord("0")).reshape(-1, SEQ_LEN)


def _unique_solution(number: int, puzzle: np.ndarray) -> np.ndarray:
    found = search.solutions(puzzle.tolist(), 2)
    if len(found) != 1:
        raise PuzzleError(f"line {number}: the puzzle has {'no' if not found else 'more than one'} solution")
    return np.array(found[0], np.uint8)


def read_training_file(path, exclude: Collection[str] = (),
                       progress: Callable[[int, int], None] | None = None) -> PuzzleFile:
    """Every puzzle of a training file with its solution; puzzles whose 81-character form is in
    `exclude` (a benchmark's) are dropped. `progress(done, total)` follows the solving of
    puzzle-only lines, which costs up to a second each for the hardest."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        lines = raw.decode("utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PuzzleError(f"cannot read {path}: {exc}") from None
    try:
        rows = _text_fields(lines)
        for number, puzzle, solution in rows:
            _check_cells(number, puzzle, "puzzle")
            if solution is not None:
                _check_cells(number, solution, "solution")
        if not rows:
            raise PuzzleError("no puzzles")
        puzzles = _boards([p for _, p, _ in rows])
        solutions = np.zeros_like(puzzles)
        given = np.array([s is not None for _, _, s in rows])
        if given.any():
            solutions[given] = _boards([s for _, _, s in rows if s is not None])
            wrong = np.flatnonzero(given & ~solved_mask(puzzles, solutions))
            if wrong.size:
                raise PuzzleError(f"line {rows[wrong[0]][0]}: the solution does not solve the puzzle")
        unsolved = np.flatnonzero(~given)
        for done, row in enumerate(unsolved):
            solutions[row] = _unique_solution(rows[row][0], puzzles[row])
            if progress:
                progress(done + 1, len(unsolved))
    except PuzzleError as exc:
        raise PuzzleError(f"{path}: {exc}") from None
    excluded = set(exclude)
    keep = np.array([p.replace("0", ".") not in excluded for _, p, _ in rows])
    return PuzzleFile(path, puzzles[keep], solutions[keep], len(rows), int((~keep).sum()),
                      hashlib.sha256(raw).hexdigest())
