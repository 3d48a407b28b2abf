"""Sudoku: boards, rules, tokens, classical solver, generator and augmentations.

The public API is re-exported here so callers write `from puzzles import sudoku` and never
care which submodule does the work: `board` (format, rules, tokens), `search` (the list
based engine), `fill` (random grids, frozen), `solver` (numpy wrappers and difficulty),
`generate`, `augment`.
"""

from puzzles.sudoku.augment import SudokuTransform, augment, random_transform
from puzzles.sudoku.board import (
    SEQ_LEN,
    VOCAB_SIZE,
    Conflict,
    as_board,
    cell_name,
    check_solution,
    decode,
    encode,
    find_conflicts,
    format_line,
    parse,
    parse_line,
    read_file,
    render,
    solved_mask,
    validate,
)
from puzzles.sudoku.generate import (
    EXTREME_GUESSES,
    LEVELS,
    generate,
    generate_level,
    level_givens,
    make_batch,
    random_solution,
)
from puzzles.sudoku.search import MAX_GUESSES
from puzzles.sudoku.solver import TECHNIQUES, Difficulty, count_solutions, rate, solve

__all__ = [
    "EXTREME_GUESSES",
    "LEVELS",
    "MAX_GUESSES",
    "SEQ_LEN",
    "TECHNIQUES",
    "VOCAB_SIZE",
    "Conflict",
    "Difficulty",
    "SudokuTransform",
    "as_board",
    "augment",
    "cell_name",
    "check_solution",
    "count_solutions",
    "decode",
    "encode",
    "find_conflicts",
    "format_line",
    "generate",
    "generate_level",
    "level_givens",
    "make_batch",
    "parse",
    "parse_line",
    "random_solution",
    "random_transform",
    "rate",
    "read_file",
    "render",
    "solve",
    "solved_mask",
    "validate",
]
