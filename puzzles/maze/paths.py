"""Shortest paths through mazes and the check that a marked path is valid and optimal."""

from __future__ import annotations

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.maze.bfs import UNREACHED, distances, neighbours
from puzzles.maze.grid import GOAL, OPEN, PATH, START, cell_name, endpoint, passable
from puzzles.verdict import SOLVED, Verdict


def _unmarked(grid: np.ndarray) -> np.ndarray:
    """The maze with any marked path turned back into open cells."""
    return np.where(grid == PATH, OPEN, grid).astype(np.uint8)


def shortest_length(grid: np.ndarray) -> int:
    """Steps (moves) on a shortest S->G path; PuzzleError if there is none."""
    grid = np.asarray(grid)
    length = int(distances(passable(grid), endpoint(grid, START))[endpoint(grid, GOAL)])
    if length == UNREACHED:
        raise PuzzleError("no path from S to G")
    return length


def solve(grid: np.ndarray) -> np.ndarray:
    """The maze with one shortest S->G path marked 'o' (ties broken by a fixed order)."""
    maze = _unmarked(np.asarray(grid))
    start, goal = endpoint(maze, START), endpoint(maze, GOAL)
    from_goal = distances(passable(maze), goal)
    if from_goal[start] == UNREACHED:
        raise PuzzleError("no path from S to G")
    cell = start
    while from_goal[cell] > 1:
        cell = next(n for n in neighbours(cell, maze.shape) if from_goal[n] == from_goal[cell] - 1)
        maze[cell] = PATH
    return maze


def _walk(candidate: np.ndarray, start: tuple[int, int]) -> tuple[int, int] | str:
    """Follow the marked cells from S; (steps, cells on the walk) or what went wrong."""
    previous, cell, steps = None, start, 0
    while True:
        steps += 1
        around = [n for n in neighbours(cell, candidate.shape) if n != previous]
        if any(candidate[n] == GOAL for n in around):
            return steps, steps - 1
        onward = [n for n in around if candidate[n] == PATH]
        if not onward:
            return f"path stops at {cell_name(cell)} before reaching G"
        if len(onward) > 1:
            return f"path branches at {cell_name(cell)}"
        previous, cell = cell, onward[0]


def check_route(maze: np.ndarray, candidate: np.ndarray) -> tuple[Verdict, int]:
    """Whether `candidate` is `maze` with one S->G path marked and nothing else changed, and
    that path's steps (0 when it is not). The rules alone decide: no shortest path is
    computed, so choosing between answers by their steps does not solve the maze."""
    maze, candidate = _unmarked(np.asarray(maze)), np.asarray(candidate)
    if candidate.shape != maze.shape:
        size, wanted = ("x".join(map(str, g.shape)) for g in (candidate, maze))
        return Verdict(False, f"prediction is {size}, maze is {wanted}"), 0
    allowed = (candidate == maze) | ((maze == OPEN) & (candidate == PATH))
    if not allowed.all():
        bad = tuple(int(v) for v in np.argwhere(~allowed)[0])
        return Verdict(False, f"cell {cell_name(bad)} changes the maze"), 0
    walk = _walk(candidate, endpoint(maze, START))
    if isinstance(walk, str):
        return Verdict(False, walk), 0
    steps, on_path = walk
    marked = int(np.count_nonzero(candidate == PATH))
    if marked > on_path:
        return Verdict(False, f"{marked - on_path} marked cells are off the S-G path"), 0
    return SOLVED, steps


def check_solution(maze: np.ndarray, candidate: np.ndarray) -> Verdict:
    """Whether `candidate` is `maze` with one shortest S->G path marked and nothing else changed."""
    verdict, steps = check_route(maze, candidate)
    if not verdict:
        return verdict
    shortest = shortest_length(_unmarked(np.asarray(maze)))
    if steps > shortest:
        return Verdict(False, f"path takes {steps} steps, shortest is {shortest}")
    return SOLVED


def every_open_cell_path(grid: np.ndarray) -> np.ndarray:
    """The trivial answer that marks every open cell as path: the floor a model must beat.

    In mazes chosen for long shortest paths most open cells lie on the path, so this answer
    already gets most open cells right, and solves the mazes that have no side branch."""
    return np.where(grid == OPEN, PATH, grid)
