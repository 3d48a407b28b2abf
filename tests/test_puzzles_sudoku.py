"""Sudoku: format, rules, tokens, solver, generator and augmentations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puzzles import sudoku
from puzzles.errors import PuzzleError

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


def test_generate_is_reproducible():
    a = sudoku.generate(np.random.default_rng(3), 30)
    b = sudoku.generate(np.random.default_rng(3), 30)
    assert all((x == y).all() for x, y in zip(a, b))


def test_generate_rejects_impossible_givens():
    with pytest.raises(PuzzleError, match="givens must be between 17 and 81"):
        sudoku.generate(np.random.default_rng(0), 16)
    with pytest.raises(PuzzleError, match="unknown level"):
        sudoku.generate_level(np.random.default_rng(0), "nightmare")


def test_rate_orders_techniques():
    assert sudoku.rate(sudoku.parse(PUZZLE)).technique == "naked singles"
    puzzle, _ = sudoku.generate(np.random.default_rng(1), 22, swaps=50)
    rating = sudoku.rate(puzzle)
    assert rating.technique in {"naked singles", "hidden singles", "search"}
    assert rating.givens == np.count_nonzero(puzzle)


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
