"""The registry of puzzle kinds: what the model and the app need to know about each.

Code outside `puzzles/` looks a kind up by name and never imports a kind's module
directly, so adding a kind is adding an entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from puzzles import arc, maze, sudoku
from puzzles.errors import PuzzleError
from puzzles.verdict import Verdict

IGNORE_LABEL = -100  # label value the loss skips (pad around mazes and ARC grids)


@dataclass(frozen=True)
class Kind:
    """Token geometry and conversions of one puzzle kind.

    `encode` turns a puzzle (Sudoku board, maze grid, ARC grid) into `seq_len` tokens and
    `decode` turns tokens back. `verify(reference, candidate)` checks a decoded answer:
    for Sudoku and mazes the reference is the puzzle and the rules decide; for ARC it is
    the expected output grid. `make_batch(rng, n)` gives fresh (inputs, labels) for
    on-the-fly training where the kind has a generator.
    """

    name: str
    vocab_size: int
    seq_len: int
    encode: Callable[[np.ndarray], np.ndarray]
    decode: Callable[[np.ndarray], np.ndarray]
    verify: Callable[[np.ndarray, np.ndarray], Verdict]
    make_batch: Callable[..., tuple[np.ndarray, np.ndarray]] | None


KINDS = {
    "sudoku": Kind("sudoku", sudoku.VOCAB_SIZE, sudoku.SEQ_LEN, sudoku.encode, sudoku.decode,
                   sudoku.check_solution, sudoku.make_batch),
    "maze": Kind("maze", maze.VOCAB_SIZE, maze.SEQ_LEN, maze.encode, maze.decode,
                 maze.check_solution, maze.make_batch),
    "arc": Kind("arc", arc.VOCAB_SIZE, arc.SEQ_LEN, arc.encode_grid, arc.decode_grid,
                arc.check_answer, None),
}


def get_kind(name: str) -> Kind:
    if name not in KINDS:
        raise PuzzleError(f"unknown puzzle kind {name!r}; choose from {', '.join(KINDS)}")
    return KINDS[name]
