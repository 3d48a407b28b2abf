"""Maze grids: the ASCII format, its checks, and tokens on a fixed canvas.

A maze is a 2-D uint8 array whose values are already the model's tokens (WALL..PATH,
1..5), so encoding is only padding onto the canvas; 0 is reserved for pad.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.maze.bfs import UNREACHED, distances

PAD, WALL, OPEN, START, GOAL, PATH = range(6)
CHARS = "?# SGo"  # index = token; '?' only shows pad or unknown cells in output
VOCAB_SIZE = 6
CANVAS = 30
_TOKEN_OF = {char: token for token, char in enumerate(CHARS) if token != PAD}


def cell_name(cell: tuple[int, int]) -> str:
    return f"r{cell[0] + 1}c{cell[1] + 1}"


def endpoint(grid: np.ndarray, token: int) -> tuple[int, int]:
    """The one cell holding `token` (START or GOAL), or PuzzleError naming the problem."""
    cells = [tuple(int(v) for v in rc) for rc in np.argwhere(grid == token)]
    label = f"{CHARS[token]} ({'start' if token == START else 'goal'})"
    if not cells:
        raise PuzzleError(f"no {label} cell")
    if len(cells) > 1:
        names = ", ".join(cell_name(c) for c in cells[:4])
        raise PuzzleError(f"{len(cells)} {label} cells, expected one ({names})")
    return cells[0]


def passable(grid: np.ndarray) -> np.ndarray:
    return (grid != WALL) & (grid != PAD)


def check_reachable(grid: np.ndarray) -> None:
    """Raise PuzzleError unless the grid has one S, one G and a path between them."""
    start, goal = endpoint(grid, START), endpoint(grid, GOAL)
    if distances(passable(grid), start)[goal] == UNREACHED:
        raise PuzzleError("no path from S to G")


def parse(text: str) -> np.ndarray:
    """A maze from its ASCII form: equal-width lines of '#', ' ', 'S', 'G' and 'o'.

    Trailing newlines are ignored but spaces are not: they are open cells.
    """
    if not isinstance(text, str):
        raise PuzzleError(f"expected text, got {type(text).__name__}")
    lines = text.replace("\r\n", "\n").strip("\n").split("\n")
    if lines == [""]:
        raise PuzzleError("empty maze")
    width = len(lines[0])
    for r, line in enumerate(lines):
        for c, char in enumerate(line):
            if char not in _TOKEN_OF:
                raise PuzzleError(
                    f"unknown character {char!r} at {cell_name((r, c))} "
                    "(expected '#', ' ', 'S', 'G' or 'o')"
                )
        if len(line) != width:
            raise PuzzleError(f"row {r + 1} has {len(line)} cells, expected {width} like row 1")
    grid = np.array([[_TOKEN_OF[ch] for ch in line] for line in lines], np.uint8)
    check_reachable(grid)
    return grid


def format_maze(grid: np.ndarray) -> str:
    """The ASCII form; pad or out-of-vocabulary cells (from a model) show as '?'."""
    grid = np.asarray(grid)
    return "\n".join("".join(CHARS[v] if 0 < v < VOCAB_SIZE else "?" for v in row) for row in grid.tolist())


def read_file(path) -> list[np.ndarray]:
    """Every maze in a file; mazes are separated by empty lines."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise PuzzleError(f"cannot read {path}: {exc}") from None
    mazes, block = [], []
    for number, line in enumerate(text.split("\n") + [""], start=1):
        if line:
            block.append(line)
        elif block:
            try:
                mazes.append(parse("\n".join(block)))
            except PuzzleError as exc:
                first_line = number - len(block)
                raise PuzzleError(f"{path}, maze {len(mazes) + 1} (line {first_line}): {exc}") from None
            block = []
    if not mazes:
        raise PuzzleError(f"{path} holds no mazes")
    return mazes


def encode(grid: np.ndarray, canvas: int = CANVAS) -> np.ndarray:
    """Tokens of the maze in the canvas's top-left corner, pad elsewhere; int32 (canvas**2,)."""
    grid = np.asarray(grid)
    height, width = grid.shape
    if height > canvas or width > canvas:
        raise PuzzleError(f"maze {height}x{width} exceeds the {canvas}x{canvas} canvas")
    tokens = np.zeros((canvas, canvas), np.int32)
    tokens[:height, :width] = grid
    return tokens.reshape(-1)


def decode(tokens: np.ndarray, shape: tuple[int, int] | None = None, canvas: int = CANVAS) -> np.ndarray:
    """The maze grid back from canvas tokens.

    `shape` crops a model's prediction to the input maze's size; without it the shape is
    the extent of non-pad tokens (exact for encoded mazes). Out-of-vocabulary tokens
    become PAD so the verifier reports them as changed cells.
    """
    board = np.asarray(tokens).reshape(canvas, canvas)
    if shape is None:
        rows, cols = np.nonzero(board)
        shape = (int(rows.max()) + 1, int(cols.max()) + 1) if rows.size else (0, 0)
    board = board[: shape[0], : shape[1]]
    return np.where((board > PAD) & (board < VOCAB_SIZE), board, PAD).astype(np.uint8)
