"""Sudoku: format, rules, tokens, solver, generator and augmentations."""

import hashlib
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puzzles import sudoku
from puzzles.errors import PuzzleError, SearchBudgetExceeded
from puzzles.sudoku.bench import HARDEST, NORVIG_IMPOSSIBLE

# A well-known puzzle and its unique solution.
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
FAST = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def test_parse_and_format_round_trip():
    board = sudoku.parse(f"  {PUZZLE}\n")
    assert board.dtype == np.uint8 and board.shape == (81,)
    assert sudoku.format_line(board) == PUZZLE
    assert (sudoku.parse(PUZZLE.replace(".", "0")) == board).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PUZZLE[:80], "expected 81 cells, got 80"),
        (PUZZLE + "1", "expected 81 cells, got 82"),
        ("53x" + PUZZLE[3:], "bad character 'x' at position 3"),
    ],
)
def test_parse_errors_name_the_problem(text, message):
    with pytest.raises(PuzzleError, match=message):
        sudoku.parse(text)


def test_render_has_box_separators():
    lines = sudoku.render(sudoku.parse(PUZZLE)).splitlines()
    assert len(lines) == 11
    assert lines[0] == "5 3 . | . 7 . | . . ."
    assert lines[3] == "------+-------+------"


def test_conflicts_name_rule_unit_digit_and_cells():
    board = sudoku.parse(PUZZLE)
    board[6] = 5  # r1c7 repeats the 5 at r1c1
    conflict = sudoku.find_conflicts(board)[0]
    assert (conflict.rule, conflict.unit, conflict.digit, conflict.cells) == ("row", 0, 5, (0, 6))
    with pytest.raises(PuzzleError, match=r"^duplicate 5 in row 1 \(cells r1c1, r1c7\)$"):
        sudoku.validate(board)


def test_column_and_box_conflicts():
    board = np.zeros(81, np.uint8)
    board[[0, 9]] = 4  # same column and same box
    rules = {c.rule for c in sudoku.find_conflicts(board)}
    assert rules == {"column", "box"}


def test_check_solution_messages():
    puzzle, solution = sudoku.parse(PUZZLE), sudoku.parse(SOLUTION)
    assert sudoku.check_solution(puzzle, solution).message == "solved"
    changed = solution.copy()
    changed[0] = 1
    assert sudoku.check_solution(puzzle, changed).message == "cell r1c1 changes a given"
    holes = solution.copy()
    holes[[2, 3]] = 0
    assert sudoku.check_solution(puzzle, holes).message == "incomplete: 2 blank cells"
    swapped = solution.copy()
    swapped[[2, 3]] = swapped[[3, 2]]  # 4 and 6 swap within row 1: columns and boxes break
    verdict = sudoku.check_solution(puzzle, swapped)
    assert not verdict.ok and verdict.message.startswith("duplicate")


def test_solved_mask_agrees_with_check_solution():
    puzzle, solution = sudoku.parse(PUZZLE), sudoku.parse(SOLUTION)
    wrong = solution.copy()
    wrong[[2, 3]] = wrong[[3, 2]]
    mask = sudoku.solved_mask(np.stack([puzzle] * 3), np.stack([solution, wrong, puzzle]))
    assert mask.tolist() == [True, False, False]


def test_solver_and_counting():
    puzzle = sudoku.parse(PUZZLE)
    assert sudoku.format_line(sudoku.solve(puzzle)) == SOLUTION
    assert sudoku.count_solutions(puzzle) == 1
    assert sudoku.count_solutions(np.zeros(81, np.uint8), limit=5) == 5
    contradictory = puzzle.copy()
    contradictory[1] = 5
    assert sudoku.solve(contradictory) is None


def test_parse_line_and_read_file(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text(f"# comment\n{PUZZLE},{SOLUTION}\n\n{PUZZLE}\n{PUZZLE[:-1]}\n")
    with pytest.raises(PuzzleError, match="line 5: expected 81 cells, got 80"):
        sudoku.read_file(path)
    path.write_text(f"{PUZZLE},{SOLUTION}\n{PUZZLE}\n")
    (p1, s1), (p2, s2) = sudoku.read_file(path)
    assert sudoku.format_line(s1) == SOLUTION and s2 is None
    with pytest.raises(PuzzleError, match="solution does not solve the puzzle"):
        sudoku.parse_line(f"{PUZZLE},{SOLUTION[::-1]}")


@FAST
@given(st.binary(max_size=120))
def test_parse_fuzz_raises_only_puzzle_error(data):
    try:
        sudoku.parse_line(data.decode("latin-1"))
    except PuzzleError:
        pass


@FAST
@given(st.integers(0, 80), st.sampled_from("x-/ :a,\x00é"))
def test_parse_near_miss_raises_puzzle_error(position, char):
    with pytest.raises(PuzzleError):
        sudoku.parse(PUZZLE[:position] + char + PUZZLE[position + 1 :])


@FAST
@given(st.lists(st.integers(0, 10), min_size=81, max_size=81))
def test_encode_decode_round_trip(tokens):
    tokens = np.array(tokens)
    board = sudoku.decode(tokens)
    assert board.dtype == np.uint8
    assert (sudoku.decode(sudoku.encode(board)) == board).all()
    valid = (tokens >= 1) & (tokens <= 10)
    assert (sudoku.encode(board)[valid] == tokens[valid]).all()


def test_encode_tokens():
    tokens = sudoku.encode(sudoku.parse(PUZZLE))
    assert tokens.dtype == np.int32 and tokens[0] == 6 and tokens[2] == 1


@FAST
@given(seeds)
def test_augmentation_keeps_validity_and_uniqueness_and_inverts(seed):
    rng = np.random.default_rng(seed)
    puzzle, solution = sudoku.parse(PUZZLE), sudoku.parse(SOLUTION)
    transform = sudoku.random_transform(rng)
    new_puzzle, new_solution = transform.apply(puzzle), transform.apply(solution)
    assert sudoku.check_solution(new_puzzle, new_solution).ok
    assert sudoku.count_solutions(new_puzzle) == 1
    assert (sudoku.solve(new_puzzle) == new_solution).all()
    assert (transform.invert(new_puzzle) == puzzle).all()
    assert (transform.invert(new_solution) == solution).all()


@FAST
@given(seeds)
def test_augment_pairs_stay_consistent(seed):
    puzzle, solution = sudoku.augment(sudoku.parse(PUZZLE), sudoku.parse(SOLUTION), np.random.default_rng(seed))
    assert sudoku.check_solution(puzzle, solution).ok


@settings(max_examples=10, deadline=None)
@given(seeds)
def test_random_solution_is_valid(seed):
    grid = sudoku.random_solution(np.random.default_rng(seed))
    assert sudoku.check_solution(np.zeros(81, np.uint8), grid).ok


@pytest.mark.parametrize("level", ["easy", "medium", "hard", "extreme"])
def test_generate_level_is_unique_and_in_range(level):
    puzzle, solution = sudoku.generate_level(np.random.default_rng(7), level)
    low, high = sudoku.LEVELS[level]
    assert low <= np.count_nonzero(puzzle) <= high
    assert sudoku.count_solutions(puzzle) == 1
    assert sudoku.check_solution(puzzle, solution).ok


def test_extreme_puzzles_are_minimal_and_need_search():
    puzzle, _ = sudoku.generate_level(np.random.default_rng(11), "extreme")
    rating = sudoku.rate(puzzle)
    assert rating.technique == "search" and rating.guesses >= sudoku.EXTREME_GUESSES
    for cell in np.flatnonzero(puzzle):  # every given is needed
        assert sudoku.count_solutions(np.where(np.arange(81) == cell, 0, puzzle)) == 2


def test_training_batches_and_the_first_three_levels_keep_their_puzzles():
    """Training (`make_batch`) and the easy/medium/hard evaluation sets must draw the same
    puzzles from the same seed as before the solver was replaced (digests taken then):
    resumed runs and earlier scores depend on it."""
    inputs, labels = sudoku.make_batch(np.random.default_rng(0), 16, 17, 29)
    assert hashlib.sha256(inputs.tobytes() + labels.tobytes()).hexdigest()[:16] == "68055ed6cb860fae"
    rng = np.random.default_rng(5)
    pairs = [sudoku.generate_level(rng, level) for level in ("easy", "medium", "hard") for _ in range(3)]
    digest = hashlib.sha256(b"".join(p.tobytes() + s.tobytes() for p, s in pairs)).hexdigest()[:16]
    assert digest == "ca2afbc9cc969cca"


def test_generate_is_reproducible():
    a = sudoku.generate(np.random.default_rng(3), 30)
    b = sudoku.generate(np.random.default_rng(3), 30)
    assert all((x == y).all() for x, y in zip(a, b))


def test_generate_rejects_impossible_givens():
    with pytest.raises(PuzzleError, match="givens must be between 17 and 81"):
        sudoku.generate(np.random.default_rng(0), 16)
    with pytest.raises(PuzzleError, match="unknown level"):
        sudoku.generate_level(np.random.default_rng(0), "nightmare")


@pytest.mark.parametrize(
    ("text", "technique"),
    [(PUZZLE, "naked singles"), (HARDEST["17 givens (anti-backtracking)"], "hidden singles"),
     (HARDEST["17 givens (Norvig's grid2)"], "locked candidates"), (HARDEST["AI Escargot"], "search")],
)
def test_rate_names_the_weakest_technique_that_solves(text, technique):
    rating = sudoku.rate(sudoku.parse(text))
    assert rating.technique == technique
    assert (rating.guesses > 0) == (technique == "search")


def test_rate_counts_givens_and_refuses_unsolvable_givens():
    puzzle, _ = sudoku.generate(np.random.default_rng(1), 22, swaps=50)
    rating = sudoku.rate(puzzle)
    assert rating.technique in sudoku.TECHNIQUES
    assert rating.givens == np.count_nonzero(puzzle)
    with pytest.raises(PuzzleError, match="^the givens admit no solution$"):
        sudoku.rate(sudoku.parse(NORVIG_IMPOSSIBLE))


@pytest.mark.parametrize("name", HARDEST)
def test_hardest_published_puzzles_solve_and_prove_unique_quickly(name):
    board = sudoku.parse(HARDEST[name])
    start = time.process_time()
    assert sudoku.check_solution(board, sudoku.solve(board)).ok
    assert sudoku.count_solutions(board) == 1
    assert sudoku.rate(board).guesses < sudoku.MAX_GUESSES / 20  # measured: at most 370
    assert time.process_time() - start < 1.0  # measured: at most 0.04 s


def test_norvig_impossible_is_refuted_quickly():
    """No unit repeats a digit, yet there is no solution; the previous engine took
    5.2 million guesses (121 CPU-s) to find that out."""
    board = sudoku.parse(NORVIG_IMPOSSIBLE)
    assert not sudoku.find_conflicts(board)
    start = time.process_time()
    assert sudoku.solve(board) is None
    assert sudoku.count_solutions(board) == 0
    assert time.process_time() - start < 1.0


@FAST
@given(seeds)
def test_views_of_hard_inputs_are_decided_within_the_budget(seed):
    rng = np.random.default_rng(seed)
    transform = sudoku.random_transform(rng)
    assert sudoku.solve(transform.apply(sudoku.parse(NORVIG_IMPOSSIBLE))) is None
    board = transform.apply(sudoku.parse(list(HARDEST.values())[seed % len(HARDEST)]))
    solution = sudoku.solve(board)
    assert sudoku.count_solutions(board) == 1
    blank = int(rng.choice(np.flatnonzero(board == 0)))
    wrong = [d for d in range(1, 10) if d != solution[blank]]
    board[blank] = wrong[int(rng.integers(len(wrong)))]
    assert sudoku.solve(board) is None  # a wrong clue: no solution, conflicting or not


def test_search_budget_raises_a_one_line_puzzle_error():
    empty = np.zeros(81, np.uint8)
    with pytest.raises(SearchBudgetExceeded, match=r"^search gave up after 10 guesses without deciding") as info:
        sudoku.count_solutions(empty, limit=100, max_guesses=10)
    assert isinstance(info.value, PuzzleError) and "\n" not in str(info.value)
    assert info.value.max_guesses == 10
    hard = sudoku.parse(HARDEST["Fata Morgana"])
    for call in (sudoku.solve, sudoku.count_solutions, sudoku.rate):
        with pytest.raises(SearchBudgetExceeded):
            call(hard, max_guesses=5)
    assert sudoku.count_solutions(empty, limit=100, max_guesses=None) == 100


@FAST
@given(seeds, st.integers(17, 45), st.booleans())
def test_solver_answers_are_valid_and_agree_with_counting(seed, givens, corrupt):
    rng = np.random.default_rng(seed)
    grid = sudoku.random_solution(rng)
    board = np.where(rng.permutation(81) < givens, grid, 0).astype(np.uint8)
    if corrupt:
        cell = int(rng.choice(np.flatnonzero(board)))
        board[cell] = board[cell] % 9 + 1
    answer, count = sudoku.solve(board), sudoku.count_solutions(board, limit=3)
    assert (answer is None) == (count == 0)
    if answer is not None:
        assert sudoku.check_solution(board, answer).ok
    if not corrupt:
        assert count >= 1 and (count > 1 or (answer == grid).all())


def test_make_batch_shapes_tokens_and_uniqueness():
    inputs, labels = sudoku.make_batch(np.random.default_rng(0), 8, 24, 32)
    assert inputs.shape == labels.shape == (8, 81)
    assert inputs.dtype == labels.dtype == np.int32
    assert labels.min() >= 2 and labels.max() <= 10
    puzzles, solutions = sudoku.decode(inputs), sudoku.decode(labels)
    assert sudoku.solved_mask(puzzles, solutions).all()
    givens = np.count_nonzero(puzzles, axis=1)
    assert ((givens >= 24) & (givens <= 32)).all()
    assert all(sudoku.count_solutions(p) == 1 for p in puzzles)


def test_the_17_clue_sample_is_100_unique_puzzles_with_their_solutions():
    """benchmarks/sudoku17 (Royle's collection, used only for measuring) reads as puzzle files
    do, and every line is a 17-given puzzle with its one solution."""
    from pathlib import Path

    from puzzles.sudoku.solver import count_solutions

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "sudoku17" / "royle-sample-100.txt"
    entries = sudoku.read_file(path)
    assert len(entries) == 100 and len({sudoku.format_line(p) for p, _ in entries}) == 100
    for puzzle, solution in entries:
        assert int((puzzle != 0).sum()) == 17
        assert sudoku.check_solution(puzzle, solution).ok
    assert all(count_solutions(puzzle, limit=2, max_guesses=None) == 1 for puzzle, _ in entries[::10])
