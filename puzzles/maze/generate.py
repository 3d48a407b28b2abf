"""Random mazes with loops and long shortest paths.

A perfect maze is carved by randomised depth-first search on the lattice of even
coordinates (so it has one path between any two cells and long winding corridors), then a
fraction of the remaining inner walls is knocked out to make loops, so the shortest path is
a real search problem rather than the only path. S and G are put at the ends of a longest
shortest path found by a double BFS sweep, and mazes whose path is too short are redrawn.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.maze.bfs import distances
from puzzles.maze.grid import CANVAS, GOAL, OPEN, START, WALL, encode
from puzzles.maze.paths import solve

MIN_SIZE = 5
MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class MazeSpec:
    """Generator settings: size, the fraction of inner walls removed to make loops, and
    the shortest S->G path (in steps) a maze must have to be kept."""

    height: int
    width: int
    loops: float = 0.05
    min_path: int = 0


# "hard" is the reference 30x30 set whose shortest paths are at least 110 steps.
SETTINGS = {
    "small": MazeSpec(11, 11, min_path=20),
    "medium": MazeSpec(20, 20, min_path=50),
    "hard": MazeSpec(30, 30, min_path=110),
}


def _carve(height: int, width: int, py: random.Random) -> np.ndarray:
    """A perfect maze: open cells at even coordinates joined by a random spanning tree."""
    grid = np.full((height, width), WALL, np.uint8)
    rows, cols = (height + 1) // 2, (width + 1) // 2
    seen = [[False] * cols for _ in range(rows)]
    seen[0][0] = True
    grid[0, 0] = OPEN
    stack = [(0, 0)]
    while stack:
        r, c = stack[-1]
        options = [
            (r + dr, c + dc)
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            if 0 <= r + dr < rows and 0 <= c + dc < cols and not seen[r + dr][c + dc]
        ]
        if not options:
            stack.pop()
            continue
        nr, nc = py.choice(options)
        seen[nr][nc] = True
        grid[2 * nr, 2 * nc] = OPEN
        grid[r + nr, c + nc] = OPEN  # the wall between (2r,2c) and (2nr,2nc)
        stack.append((nr, nc))
    return grid


def _add_loops(grid: np.ndarray, fraction: float, py: random.Random) -> None:
    """Open `fraction` of the walls that separate two lattice cells."""
    height, width = grid.shape
    walls = [
        (r, c)
        for r in range(height)
        for c in range(width)
        if grid[r, c] == WALL
        and (r + c) % 2 == 1
        and (r % 2 == 0 and 0 < c < width - 1 and grid[r, c - 1] == grid[r, c + 1] == OPEN
             or c % 2 == 0 and 0 < r < height - 1 and grid[r - 1, c] == grid[r + 1, c] == OPEN)
    ]
    for cell in py.sample(walls, round(fraction * len(walls))):
        grid[cell] = OPEN


def _farthest(dist: np.ndarray) -> tuple[int, int]:
    return tuple(int(v) for v in np.unravel_index(int(np.argmax(dist)), dist.shape))


def _place_endpoints(grid: np.ndarray) -> int:
    """Put S and G at the ends of a long shortest path; returns its length in steps."""
    open_cells = grid != WALL
    start = _farthest(distances(open_cells, (0, 0)))
    from_start = distances(open_cells, start)
    goal = _farthest(from_start)
    grid[start], grid[goal] = START, GOAL
    return int(from_start[goal])


def _wall_off_ties(grid: np.ndarray) -> np.ndarray:
    """Wall equally short detours until one shortest path is left; returns the solution.

    Small loops are often symmetric, so most looped mazes have several shortest paths
    (measured: 72% at loops=0.05), which would make the training label arbitrary. Walling
    a cell that lies on a shortest path but not on the chosen one keeps the chosen path
    and its length, and leaves the maze's other loops alone.
    """
    while True:
        solution = solve(grid)
        open_cells = grid != WALL
        from_start = distances(open_cells, tuple(np.argwhere(grid == START)[0]))
        from_goal = distances(open_cells, tuple(np.argwhere(grid == GOAL)[0]))
        length = from_start[grid == GOAL][0]
        on_shortest = (from_start >= 0) & (from_goal >= 0) & (from_start + from_goal == length)
        detours = np.argwhere(on_shortest & (solution == OPEN))
        if not len(detours):
            return solution
        grid[tuple(detours[0])] = WALL


def generate(
    rng: np.random.Generator, height: int, width: int, loops: float = 0.05, min_path: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A (maze, solution) pair; the solution marks the unique shortest path, which is at
    least `min_path` steps long."""
    if height < MIN_SIZE or width < MIN_SIZE:
        raise PuzzleError(f"mazes must be at least {MIN_SIZE}x{MIN_SIZE}, got {height}x{width}")
    if not 0 <= loops <= 1:
        raise PuzzleError(f"loops is a fraction of walls between 0 and 1, got {loops}")
    py = random.Random(int(rng.integers(2**63)))
    for _ in range(MAX_ATTEMPTS):
        grid = _carve(height, width, py)
        _add_loops(grid, loops, py)
        if _place_endpoints(grid) >= min_path:
            return grid, _wall_off_ties(grid)
    raise PuzzleError(
        f"no {height}x{width} maze with loops {loops} reached a path of {min_path} steps "
        f"in {MAX_ATTEMPTS} attempts; lower min_path or loops"
    )


def generate_spec(rng: np.random.Generator, spec: MazeSpec) -> tuple[np.ndarray, np.ndarray]:
    return generate(rng, spec.height, spec.width, spec.loops, spec.min_path)


def default_min_path(size: int) -> int:
    """The "hard" requirement (110 steps at 30x30) scaled with the maze's area."""
    return round(SETTINGS["hard"].min_path * (size / SETTINGS["hard"].height) ** 2)


def make_batch(rng: np.random.Generator, n: int, size: int, canvas: int = CANVAS,
               min_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`n` fresh training pairs on the canvas, size x size (or each of a size drawn from
    [min_size, size]: small mazes have short dead ends, an easier start for learning): inputs
    and labels (n, canvas**2) int32; labels are the solution tokens with -100 (ignored) on the
    pad around the maze."""
    inputs = np.empty((n, canvas * canvas), np.int32)
    labels = np.empty((n, canvas * canvas), np.int32)
    for row in range(n):
        side = size if min_size is None or min_size >= size else int(rng.integers(min_size, size + 1))
        maze, solution = generate(rng, side, side, min_path=default_min_path(side))
        inputs[row] = encode(maze, canvas)
        labels[row] = encode(solution, canvas)
    labels[inputs == 0] = -100
    return inputs, labels
