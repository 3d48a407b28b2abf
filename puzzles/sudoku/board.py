"""Sudoku boards as numpy arrays: text format, rule checking and token encoding.

A board is a uint8 array of 81 cells, row-major, 0 for blank. Everything here is cheap and
deterministic; search lives in `solver`, generation in `generate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.verdict import SOLVED, Verdict

SEQ_LEN = 81
VOCAB_SIZE = 11  # 0 pad, 1 blank, digit d -> d + 1
BLANK_TOKEN = 1

_CELL = np.arange(81).reshape(9, 9)
_BOX_CELLS = _CELL.reshape(3, 3, 3, 3).transpose(0, 2, 1, 3).reshape(9, 9)
RULES = ("row", "column", "box")
UNIT_CELLS = np.stack([_CELL, _CELL.T, _BOX_CELLS])  # (rule, unit, 9 cells)


def cell_name(i: int) -> str:
    """'r3c7' for flat index 24: the 1-based names people use for cells."""
    return f"r{i // 9 + 1}c{i % 9 + 1}"


def as_board(board) -> np.ndarray:
    """Any 81-cell array-like of digits 0-9 as a flat uint8 board, or PuzzleError."""
    array = np.asarray(board)
    if array.size != SEQ_LEN:
        raise PuzzleError(f"expected {SEQ_LEN} cells, got {array.size}")
    if array.dtype.kind not in "iu" or array.min() < 0 or array.max() > 9:
        raise PuzzleError("cells must be integers 0-9 (0 = blank)")
    return array.reshape(SEQ_LEN).astype(np.uint8)


def parse(text: str) -> np.ndarray:
    """An 81-character row-major string ('.' or '0' blank) as a board."""
    if not isinstance(text, str):
        raise PuzzleError(f"expected text, got {type(text).__name__}")
    text = text.strip()
    for position, char in enumerate(text, start=1):
        if char not in "0123456789.":
            raise PuzzleError(
                f"bad character {char!r} at position {position} (expected 1-9, '.' or '0')"
            )
    if len(text) != SEQ_LEN:
        raise PuzzleError(f"expected {SEQ_LEN} cells, got {len(text)}")
    return np.frombuffer(text.replace(".", "0").encode("ascii"), np.uint8) - ord("0")


def parse_line(line: str) -> tuple[np.ndarray, np.ndarray | None]:
    """One line of a puzzle file, `puzzle[,solution]`; a solution must solve the puzzle."""
    fields = line.strip().split(",")
    if len(fields) > 2:
        raise PuzzleError(f"expected 'puzzle' or 'puzzle,solution', got {len(fields)} fields")
    puzzle = parse(fields[0])
    if len(fields) == 1:
        return puzzle, None
    try:
        solution = parse(fields[1])
    except PuzzleError as exc:
        raise PuzzleError(f"solution: {exc}") from None
    verdict = check_solution(puzzle, solution)
    if not verdict.ok:
        raise PuzzleError(f"solution does not solve the puzzle: {verdict.message}")
    return puzzle, solution


def read_file(path) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Every puzzle in a file, one per line; blank lines and '#' comments are skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PuzzleError(f"cannot read {path}: {exc}") from None
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            entries.append(parse_line(line))
        except PuzzleError as exc:
            raise PuzzleError(f"{path}, line {number}: {exc}") from None
    if not entries:
        raise PuzzleError(f"{path} holds no puzzles")
    return entries


def format_line(board) -> str:
    """The 81-character file form, '.' for blanks."""
    return "".join("." if d == 0 else str(d) for d in as_board(board).tolist())


def render(board) -> str:
    """A 9x9 picture with box separators, for terminals and logs."""
    text = format_line(board)
    lines = []
    for r in range(9):
        if r in (3, 6):
            lines.append("------+-------+------")
        row = text[r * 9 : r * 9 + 9]
        lines.append(" | ".join(" ".join(row[s : s + 3]) for s in (0, 3, 6)))
    return "\n".join(lines)


@dataclass(frozen=True)
class Conflict:
    """A digit repeated within one unit. `unit` and `cells` are 0-based; str() is 1-based."""

    rule: str  # 'row', 'column' or 'box'
    unit: int
    digit: int
    cells: tuple[int, ...]

    def __str__(self) -> str:
        names = ", ".join(cell_name(i) for i in self.cells)
        return f"duplicate {self.digit} in {self.rule} {self.unit + 1} (cells {names})"


def find_conflicts(board) -> list[Conflict]:
    """Every repeated digit, rows first, then columns, then boxes."""
    cells = as_board(board)
    conflicts = []
    for rule, units in zip(RULES, UNIT_CELLS):
        values = cells[units]
        for unit, row in enumerate(values):
            counts = np.bincount(row, minlength=10)
            for digit in np.flatnonzero(counts[1:] > 1) + 1:
                where = tuple(int(i) for i in units[unit][row == digit])
                conflicts.append(Conflict(rule, unit, int(digit), where))
    return conflicts


def validate(board) -> None:
    """Raise PuzzleError naming the first broken rule; the givens may still be unsolvable."""
    conflicts = find_conflicts(board)
    if conflicts:
        raise PuzzleError(str(conflicts[0]))


def encode(board) -> np.ndarray:
    """Model tokens: blank -> 1, digit d -> d + 1. Works on any shape of digits."""
    digits = np.asarray(board)
    if digits.size and (digits.min() < 0 or digits.max() > 9):
        raise PuzzleError("cells must be integers 0-9 (0 = blank)")
    return digits.astype(np.int32) + 1


def decode(tokens) -> np.ndarray:
    """Digits from model tokens; pad, blank and out-of-vocabulary tokens become blanks."""
    tokens = np.asarray(tokens)
    return np.where((tokens >= 2) & (tokens <= 10), tokens - 1, 0).astype(np.uint8)


def check_solution(puzzle, candidate) -> Verdict:
    """Whether `candidate` is a complete grid that keeps the givens and breaks no rule."""
    puzzle, candidate = as_board(puzzle), as_board(candidate)
    changed = np.flatnonzero((puzzle != 0) & (candidate != puzzle))
    if changed.size:
        return Verdict(False, f"cell {cell_name(int(changed[0]))} changes a given")
    conflicts = find_conflicts(candidate)
    if conflicts:
        return Verdict(False, str(conflicts[0]))
    blanks = int(np.count_nonzero(candidate == 0))
    if blanks:
        return Verdict(False, f"incomplete: {blanks} blank cell{'s' if blanks > 1 else ''}")
    return SOLVED


def solved_mask(puzzles, candidates) -> np.ndarray:
    """Vectorised `check_solution(...).ok` for (n, 81) arrays: the fast path for evaluation."""
    puzzles = np.asarray(puzzles).reshape(-1, SEQ_LEN)
    candidates = np.asarray(candidates).reshape(-1, SEQ_LEN)
    keeps_givens = np.all((puzzles == 0) | (puzzles == candidates), axis=1)
    units = np.sort(candidates[:, UNIT_CELLS.reshape(27, 9)], axis=2)
    all_digits = np.all(units == np.arange(1, 10), axis=(1, 2))
    return keeps_givens & all_digits
