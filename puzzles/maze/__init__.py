"""Mazes: the ASCII format, tokens on a fixed canvas, BFS, optimality checks, generator.

Submodules: `grid` (format and tokens), `bfs`, `paths` (shortest paths and the verifier),
`generate`, `augment` (dihedral symmetries).
"""

from puzzles.maze.augment import augment, invert_view, view
from puzzles.maze.generate import MIN_SIZE, SETTINGS, MazeSpec, default_min_path, generate, generate_spec, make_batch
from puzzles.maze.grid import CANVAS, VOCAB_SIZE, check_reachable, decode, encode, format_maze, parse, read_file
from puzzles.maze.paths import check_route, check_solution, every_open_cell_path, shortest_length, solve

SEQ_LEN = CANVAS * CANVAS

__all__ = [
    "CANVAS",
    "MIN_SIZE",
    "SEQ_LEN",
    "SETTINGS",
    "VOCAB_SIZE",
    "MazeSpec",
    "augment",
    "check_reachable",
    "check_route",
    "check_solution",
    "decode",
    "default_min_path",
    "encode",
    "format_maze",
    "generate",
    "generate_spec",
    "invert_view",
    "make_batch",
    "parse",
    "read_file",
    "shortest_length",
    "solve",
    "view",
]
