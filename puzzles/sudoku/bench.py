"""Solver and level figures for docs/puzzles.md: `python -m puzzles.sudoku.bench`.

Complements `hrm data bench` (generate/solve/verify throughput per level) with what it
does not show: the hardest published puzzles, inputs built to be slow to refute, and the
givens and rating distribution of every level. Times are CPU seconds of this process
(single thread), so other work on the machine barely moves them.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np

from puzzles.errors import SearchBudgetExceeded
from puzzles.sudoku import search
from puzzles.sudoku.augment import random_transform
from puzzles.sudoku.board import parse
from puzzles.sudoku.generate import LEVELS, generate_level
from puzzles.sudoku.solver import count_solutions, rate, solve

# Published hard puzzles under their usual names, each with exactly one solution (the
# tests check it). Three have the minimum of 17 givens; the others are the ones puzzle
# collections list as the hardest for people or for solvers.
HARDEST = {
    "AI Escargot": "1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3..",
    "Inkala 2012": "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
    "Platinum Blonde": ".......12........3..23..4....18....5.6..7.8.......9.....85.....9...4.5..47...6...",
    "Golden Nugget": ".......39.....1..5..3.5.8....8.9...6.7...2...1..4.......9.8..5..2....6..4..7.....",
    "Easter Monster": "1.......2.9.4...5...6...7...5.9.3.......7.......85..4.7.....6...3...9.8...2.....1",
    "Cheese": ".2..5.7..4..1....68....3...2....8..3.4..2.5.....6...1...2.9.....9......57.4...9..",
    "Fata Morgana": "........3..1..56...9..4..7......9.5.7.......8.5.4.2....8..2..9...35..1..6........",
    "Red Dwarf": "12.3....435....1....4........54..2..6...7.........8.9...31..5.......9.7.....6...8",
    "17 givens (Royle's list, first)": ".......1.4.........2...........5.4.7..8...3....1.9....3..4..2...5.1........8.6...",
    "17 givens (anti-backtracking)": "..............3.85..1.2.......5.7.....4...1...9.......5......73..2.1........4...9",
    "17 givens (Norvig's grid2)": "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
}
# No solution, though no unit repeats a digit: the puzzle that took Norvig's solver 1439 s
# and the previous engine here 121 CPU-s (5.2 million guesses).
NORVIG_IMPOSSIBLE = ".....5.8....6.1.43..........1.5........1.6...3.......553.....61........4........."


def _cpu(step: Callable[[], object]) -> tuple[object, float]:
    start = time.process_time()
    result = step()
    return result, time.process_time() - start


def _effort(board, limit: int) -> tuple[int | str, int, float]:
    """(solutions or 'budget', guesses, CPU seconds) of one search."""
    stats = search.SearchStats()
    start = time.process_time()
    try:
        found: int | str = len(search.solutions(board.tolist(), limit, stats))
    except SearchBudgetExceeded:
        found = "budget"
    return found, stats.guesses, time.process_time() - start


def hardest_table() -> Iterator[str]:
    yield "| puzzle | givens | technique | solve: guesses | ms | solve + prove unique: guesses | ms |"
    yield "|---|---:|---|---:|---:|---:|---:|"
    for name, text in HARDEST.items():
        board = parse(text)
        _, solve_guesses, solve_s = _effort(board, 1)
        _, proof_guesses, proof_s = _effort(board, 2)
        rating = rate(board)
        yield (f"| {name} | {rating.givens} | {rating.technique} | {solve_guesses} | {solve_s * 1e3:.1f} "
               f"| {proof_guesses} | {proof_s * 1e3:.1f} |")


def _views(rng: np.random.Generator, text: str, count: int) -> list[np.ndarray]:
    board = parse(text)
    return [random_transform(rng).apply(board) for _ in range(count)]


def _wrong_clue(rng: np.random.Generator, board: np.ndarray) -> np.ndarray:
    """The puzzle with a wrong candidate written into one blank: no solution any more."""
    solution = solve(board)
    while True:
        cell = int(rng.choice(np.flatnonzero(board == 0)))
        digit = int(rng.integers(1, 10))
        trial = board.copy()
        trial[cell] = digit
        peers = [p for p in search.PEERS[cell] if trial[p] == digit]
        if digit != solution[cell] and not peers:
            return trial


def hard_input_sets(rng: np.random.Generator, views: int) -> dict[str, list[np.ndarray]]:
    """Inputs that are slow to decide: the famous puzzles in random symmetric views, the
    same with one wrong clue added (no solution) or one given removed (several), and
    Norvig's impossible puzzle in random views."""
    famous = [view for text in HARDEST.values() for view in _views(rng, text, views)]
    return {
        f"hardest puzzles, {views} random views each": famous,
        "the same, one wrong clue added (no solution)": [_wrong_clue(rng, b) for b in famous],
        "the same, one given removed (several solutions)": [
            np.where(np.arange(81) == rng.choice(np.flatnonzero(b)), 0, b).astype(np.uint8) for b in famous],
        f"Norvig's impossible puzzle, {views * 10} random views": _views(rng, NORVIG_IMPOSSIBLE, views * 10),
    }


def hard_inputs_table(rng: np.random.Generator, views: int) -> Iterator[str]:
    yield "| inputs (count_solutions(board, 2)) | count | per CPU s | guesses mean | max | slowest ms | solutions |"
    yield "|---|---:|---:|---:|---:|---:|---|"
    for name, boards in hard_input_sets(rng, views).items():
        runs = [_effort(b, 2) for b in boards]
        seconds = sum(r[2] for r in runs)
        outcomes = Counter(r[0] for r in runs)
        guesses = [r[1] for r in runs]
        yield (f"| {name} | {len(boards)} | {len(boards) / seconds:,.0f} | {np.mean(guesses):.1f} | {max(guesses)} "
               f"| {max(r[2] for r in runs) * 1e3:.0f} | {', '.join(f'{k}: {v}' for k, v in sorted(outcomes.items(), key=str))} |")


def levels_table(rng: np.random.Generator, counts: dict[str, int]) -> Iterator[str]:
    yield ("| level | puzzles | generated per CPU s | givens: count | technique: count | guesses mean | median | max "
           "| solve per CPU s | prove unique per CPU s |")
    yield "|---|---:|---:|---|---|---:|---:|---:|---:|---:|"
    for level, count in counts.items():
        pairs, seconds = _cpu(lambda: [generate_level(rng, level) for _ in range(count)])
        puzzles = [p for p, _ in pairs]
        ratings = [rate(p) for p in puzzles]
        _, solve_s = _cpu(lambda: [solve(p) for p in puzzles])
        _, unique_s = _cpu(lambda: [count_solutions(p) for p in puzzles])
        givens = Counter(r.givens for r in ratings)
        techniques = Counter(r.technique for r in ratings)
        guesses = [r.guesses for r in ratings]
        yield (f"| {level} | {count} | {count / seconds:,.1f} | {', '.join(f'{g}: {n}' for g, n in sorted(givens.items()))} "
               f"| {', '.join(f'{t}: {n}' for t, n in techniques.most_common())} | {np.mean(guesses):.1f} "
               f"| {np.median(guesses):.0f} | {max(guesses)} | {count / solve_s:,.0f} | {count / unique_s:,.0f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="puzzles per level (easy, medium, hard)")
    parser.add_argument("--extreme", type=int, default=200, help="puzzles of the extreme level")
    parser.add_argument("--views", type=int, default=20, help="random views of each hardest puzzle")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    counts = {level: args.extreme if level == "extreme" else args.count for level in LEVELS}
    for table in (hardest_table(), hard_inputs_table(rng, args.views), levels_table(rng, counts)):
        for line in table:
            print(line, flush=True)
        print()


if __name__ == "__main__":
    main()
