"""ARC grids as tokens on the 30x30 canvas, with end-of-grid markers, and back.

Tokens: 0 pad, 1 end-of-grid, colour c -> c + 2 (vocab 12), as in the HRM reference. The
markers fill the row below and the column right of the grid, so a prediction states its own
size; decoding demands that statement be consistent and rejects anything else.
"""

from __future__ import annotations

import numpy as np

from puzzles.arc.task import MAX_SIZE
from puzzles.errors import PuzzleError

CANVAS = MAX_SIZE
PAD, END = 0, 1
VOCAB_SIZE = 12
SEQ_LEN = CANVAS * CANVAS


def encode_grid(grid: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """int32 (900,) tokens with the grid's top-left corner at `offset` (translation)."""
    grid = np.asarray(grid)
    height, width = grid.shape
    top, left = offset
    if top < 0 or left < 0 or top + height > CANVAS or left + width > CANVAS:
        raise PuzzleError(f"grid {height}x{width} at offset {offset} does not fit the {CANVAS}x{CANVAS} canvas")
    canvas = np.zeros((CANVAS, CANVAS), np.int32)
    canvas[top : top + height, left : left + width] = grid.astype(np.int32) + 2
    if top + height < CANVAS:
        canvas[top + height, left : left + width] = END
    if left + width < CANVAS:
        canvas[top : top + height, left + width] = END
    return canvas.reshape(SEQ_LEN)


def _run_of_colours(line: np.ndarray) -> int:
    """How many tokens at the start of `line` are colours."""
    not_colour = np.flatnonzero(line < 2)
    return int(not_colour[0]) if not_colour.size else line.size


def decode_grid(tokens: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The grid encoded at `offset`; PuzzleError if the tokens are not a well-formed grid."""
    canvas = np.asarray(tokens).reshape(CANVAS, CANVAS)
    if canvas.min() < 0 or canvas.max() >= VOCAB_SIZE:
        raise PuzzleError("tokens outside the ARC vocabulary")
    view = canvas[offset[0] :, offset[1] :]
    width, height = _run_of_colours(view[0]), _run_of_colours(view[:, 0])
    if not width or not height:
        raise PuzzleError("no grid at the expected corner")
    if (view[:height, :width] < 2).any():
        raise PuzzleError(f"the {height}x{width} grid has holes")
    if width < view.shape[1] and (view[:height, width] != END).any():
        raise PuzzleError("end-of-grid column is missing or broken")
    if height < view.shape[0] and (view[height, :width] != END).any():
        raise PuzzleError("end-of-grid row is missing or broken")
    return (view[:height, :width] - 2).astype(np.uint8)
