"""Random mazes with long shortest paths, in two styles.

"carved": a perfect maze is carved by randomised depth-first search on the lattice of even
coordinates (one path between any two cells, long winding corridors), then a fraction of the
remaining inner walls is knocked out to make loops, so the shortest path is a real search
problem rather than the only path. Most open cells lie on the S-G path.

"scattered": every cell is a wall with a fixed probability (drawn per maze), the look of the
public Maze-Hard set: open areas, many routes, and most open cells off the path, so marking
every open cell is a poor answer.

In both, S and G are put at the ends of a longest shortest path found by a double BFS sweep,
mazes whose path is too short are redrawn, and equally short detours are walled so the
label is the one shortest path.
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
STYLES = ("carved", "scattered")
TRAINING_STYLES = (*STYLES, "mixed", "all")  # what a training stream may draw from
# Attempts before giving up. A scattered 30x30 maze has a 110-step path about once in 50-100
# draws (measured at 0.38 walls), so that style gets many more.
MAX_ATTEMPTS = {"carved": 200, "scattered": 5000}
# Scattered wall density is drawn per maze from this range: below it long paths are rare (the
# open cells are one wide region); above it the open cells fall apart into small pockets.
SCATTERED_WALLS = (0.32, 0.42)
# Carved style: the fraction of inner walls between two lattice cells opened to make loops.
LOOPS = 0.05


@dataclass(frozen=True)
class MazeSpec:
    """Generator settings: size, the fraction of inner walls removed to make loops (carved
    style), the shortest S->G path (in steps) a maze must have to be kept, and the style."""

    height: int
    width: int
    loops: float = LOOPS
    min_path: int = 0
    style: str = "carved"


# "hard" is the reference 30x30 set whose shortest paths are at least 110 steps.
SETTINGS = {
    "small": MazeSpec(11, 11, min_path=20),
    "medium": MazeSpec(20, 20, min_path=50),
    "hard": MazeSpec(30, 30, min_path=110),
    "scattered": MazeSpec(30, 30, min_path=110, style="scattered"),
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


def _scatter(height: int, width: int, py: random.Random) -> np.ndarray:
    """Walls dropped independently on every cell, at a density drawn from SCATTERED_WALLS."""
    density = py.uniform(*SCATTERED_WALLS)
    cells = np.array([py.random() < density for _ in range(height * width)]).reshape(height, width)
    return np.where(cells, WALL, OPEN).astype(np.uint8)


def _farthest(dist: np.ndarray) -> tuple[int, int]:
    return tuple(int(v) for v in np.unravel_index(int(np.argmax(dist)), dist.shape))


def _random_open_cell(grid: np.ndarray, py: random.Random) -> tuple[int, int] | None:
    candidates = np.argwhere(grid != WALL)
    return tuple(int(v) for v in candidates[py.randrange(len(candidates))]) if len(candidates) else None


def _place_endpoints(grid: np.ndarray, seed: tuple[int, int]) -> int:
    """Put S and G at the ends of a long shortest path through the region of `seed` (double
    BFS sweep); returns its length in steps."""
    open_cells = grid != WALL
    start = _farthest(distances(open_cells, seed))
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
    rng: np.random.Generator, height: int, width: int, loops: float = LOOPS, min_path: int = 0,
    style: str = "carved",
) -> tuple[np.ndarray, np.ndarray]:
    """A (maze, solution) pair; the solution marks the unique shortest path, which is at
    least `min_path` steps long (a scattered maze's at least as long as its side, so S and G
    are never a trivial pocket apart)."""
    if height < MIN_SIZE or width < MIN_SIZE:
        raise PuzzleError(f"mazes must be at least {MIN_SIZE}x{MIN_SIZE}, got {height}x{width}")
    if not 0 <= loops <= 1:
        raise PuzzleError(f"loops is a fraction of walls between 0 and 1, got {loops}")
    if style not in STYLES:
        raise PuzzleError(f"unknown maze style {style!r}; choose from {', '.join(STYLES)}")
    if style == "scattered":
        min_path = max(min_path, max(height, width))
    py = random.Random(int(rng.integers(2**63)))
    for _ in range(MAX_ATTEMPTS[style]):
        if style == "carved":  # connected, and (0, 0) is always open
            grid = _carve(height, width, py)
            _add_loops(grid, loops, py)
            seed = (0, 0)
        else:  # a random open cell: mazes whose cell lies in a small pocket are redrawn
            grid = _scatter(height, width, py)
            seed = _random_open_cell(grid, py)
        if seed is not None and _place_endpoints(grid, seed) >= min_path:
            return grid, _wall_off_ties(grid)
    raise PuzzleError(
        f"no {height}x{width} {style} maze reached a path of {min_path} steps "
        f"in {MAX_ATTEMPTS[style]} attempts; lower min_path" + (" or loops" if style == "carved" else "")
    )


def generate_spec(rng: np.random.Generator, spec: MazeSpec) -> tuple[np.ndarray, np.ndarray]:
    return generate(rng, spec.height, spec.width, spec.loops, spec.min_path, spec.style)


def default_min_path(size: int) -> int:
    """The "hard" requirement (110 steps at 30x30) scaled with the maze's area."""
    return round(SETTINGS["hard"].min_path * (size / SETTINGS["hard"].height) ** 2)


def _row_style(rng: np.random.Generator, style: str, loops: float) -> tuple[str, float]:
    """One training maze's style and loop fraction under a training style."""
    if style == "mixed":
        return STYLES[int(rng.integers(len(STYLES)))], loops
    if style == "all":  # perfect mazes teach dead-end filling; loops force a real search
        return (("carved", 0.0), ("carved", loops), ("scattered", loops))[int(rng.integers(3))]
    return style, loops


def make_batch(rng: np.random.Generator, n: int, size: int, canvas: int = CANVAS,
               min_size: int | None = None, style: str = "carved",
               loops: float = LOOPS) -> tuple[np.ndarray, np.ndarray]:
    """`n` fresh training pairs on the canvas, size x size (or each of a size drawn from
    [min_size, size]: small mazes have short dead ends, an easier start for learning), in a
    style of STYLES, "mixed" (each maze's drawn at random) or "all" (a third each: perfect
    carved, carved with `loops`, scattered): inputs and labels (n, canvas**2) int32; labels are
    the solution tokens with -100 (ignored) on the pad around the maze. `loops` is the carved
    style's fraction of inner walls opened (0: perfect mazes, one path)."""
    if style not in TRAINING_STYLES:
        raise PuzzleError(f"unknown maze style {style!r}; choose from {', '.join(TRAINING_STYLES)}")
    inputs = np.empty((n, canvas * canvas), np.int32)
    labels = np.empty((n, canvas * canvas), np.int32)
    for row in range(n):
        side = size if min_size is None or min_size >= size else int(rng.integers(min_size, size + 1))
        row_style, row_loops = _row_style(rng, style, loops)
        maze, solution = generate(rng, side, side, loops=row_loops, min_path=default_min_path(side), style=row_style)
        inputs[row] = encode(maze, canvas)
        labels[row] = encode(solution, canvas)
    labels[inputs == 0] = -100
    return inputs, labels
