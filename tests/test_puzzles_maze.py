"""Mazes: format, tokens, BFS, the optimal-path verifier, generator and symmetries."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puzzles import dihedral, maze
from puzzles.errors import PuzzleError

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)

MAZE = "\n".join([
    "#######",
    "#S    #",
    "# ### #",
    "#   # #",
    "### # #",
    "#    G#",
    "#######",
])
# Two shortest paths exist (8 steps); this one goes down the left then along the bottom.
SOLVED = "\n".join([
    "#######",
    "#S    #",
    "#o### #",
    "#ooo# #",
    "###o# #",
    "#  ooG#",
    "#######",
])


def test_parse_format_round_trip():
    grid = maze.parse(MAZE + "\n")
    assert grid.shape == (7, 7) and grid.dtype == np.uint8
    assert maze.format_maze(grid) == MAZE
    assert maze.format_maze(maze.parse(SOLVED)) == SOLVED


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty maze"),
        (MAZE.replace("G", "x"), "unknown character 'x' at r6c6"),
        (MAZE.replace("#S    #", "#S   #"), "row 2 has 6 cells, expected 7"),
        (MAZE.replace("S", " "), r"no S \(start\) cell"),
        (MAZE.replace("G", "S"), r"2 S \(start\) cells, expected one \(r2c2, r6c6\)"),
        (MAZE.replace("### # #", "### ###").replace("#    G#", "#   #G#"), "no path from S to G"),
    ],
)
def test_parse_errors_name_the_problem(text, message):
    with pytest.raises(PuzzleError, match=message):
        maze.parse(text)


def test_shortest_length_and_solve():
    grid = maze.parse(MAZE)
    assert maze.shortest_length(grid) == 8
    solution = maze.solve(grid)
    assert maze.check_solution(grid, solution).ok
    assert np.count_nonzero(solution == 5) == 7


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (SOLVED, "solved"),
        (MAZE, "path stops at r2c2 before reaching G"),
        (SOLVED.replace("#  ooG#", "#o ooG#"), "1 marked cells are off the S-G path"),
        (SOLVED.replace("#ooo# #", "#ooo#o#"), "1 marked cells are off the S-G path"),
        (SOLVED.replace("#S    #", "#So   #"), "path branches at r2c2"),
        (SOLVED.replace("#######\n#S", "##o####\n#S", 1), "cell r1c3 changes the maze"),
        (SOLVED.replace("#  ooG#", "#  o G#"), "path stops at r6c4 before reaching G"),
    ],
)
def test_check_solution_messages(candidate, message):
    verdict = maze.check_solution(maze.parse(MAZE), maze.parse(candidate))
    assert verdict.message == message
    assert verdict.ok == (message == "solved")


def test_check_solution_rejects_a_longer_path():
    text = "\n".join(["#####", "#S G#", "# # #", "#   #", "#####"])
    detour = "\n".join(["#####", "#S G#", "#o#o#", "#ooo#", "#####"])
    verdict = maze.check_solution(maze.parse(text), maze.parse(detour))
    assert verdict.message == "path takes 6 steps, shortest is 2"


def test_check_solution_rejects_wrong_shape():
    grid = maze.parse(MAZE)
    assert "prediction is 6x7" in maze.check_solution(grid, grid[:6]).message


def test_read_file_separates_mazes_by_blank_lines(tmp_path):
    path = tmp_path / "mazes.txt"
    path.write_text(f"{MAZE}\n\n{SOLVED}\n\n\n")
    assert [g.shape for g in maze.read_file(path)] == [(7, 7), (7, 7)]
    path.write_text(f"{MAZE}\n\n{MAZE.replace('G', ' ')}\n")
    with pytest.raises(PuzzleError, match=r"maze 2 \(line 9\): no G"):
        maze.read_file(path)


@FAST
@given(st.binary(max_size=200))
def test_parse_fuzz_raises_only_puzzle_error(data):
    try:
        maze.parse(data.decode("latin-1"))
    except PuzzleError:
        pass


@FAST
@given(st.integers(0, len(MAZE) - 1), st.sampled_from("#SGo x\n\t"))
def test_parse_near_miss_raises_only_puzzle_error(position, char):
    try:
        maze.parse(MAZE[:position] + char + MAZE[position + 1 :])
    except PuzzleError:
        pass


@FAST
@given(seeds, st.integers(5, 30), st.integers(5, 30))
def test_encode_decode_round_trip(seed, height, width):
    grid, solution = maze.generate(np.random.default_rng(seed), height, width)
    for board in (grid, solution):
        tokens = maze.encode(board)
        assert tokens.shape == (maze.SEQ_LEN,) and tokens.dtype == np.int32
        assert (maze.decode(tokens) == board).all()
        assert (maze.decode(tokens, board.shape) == board).all()


def test_encode_rejects_oversized_mazes():
    with pytest.raises(PuzzleError, match="exceeds the 30x30 canvas"):
        maze.encode(np.ones((31, 5), np.uint8))


def test_decode_marks_out_of_vocabulary_as_pad():
    tokens = maze.encode(maze.parse(MAZE))
    tokens[0] = 9
    assert maze.decode(tokens, (7, 7))[0, 0] == 0
    assert maze.format_maze(maze.decode(tokens, (7, 7))).startswith("?")


@FAST
@given(seeds, st.integers(0, 7))
def test_dihedral_views_invert_and_stay_solved(seed, k):
    grid, solution = maze.generate(np.random.default_rng(seed), 9, 13)
    viewed, viewed_solution = maze.view(grid, k), maze.view(solution, k)
    assert maze.check_solution(viewed, viewed_solution).ok
    assert (maze.invert_view(viewed, k) == grid).all()
    assert (dihedral.invert(dihedral.transform(solution, k), k) == solution).all()


@FAST
@given(seeds)
def test_generated_path_is_optimal_and_unique(seed):
    grid, solution = maze.generate(np.random.default_rng(seed), 15, 15, min_path=20)
    assert maze.check_solution(grid, solution).ok
    assert np.count_nonzero(solution == 5) + 1 == maze.shortest_length(grid) >= 20
    assert (maze.solve(grid) == solution).all()  # any tie-break finds the same path


def test_hard_setting_has_long_paths_and_loops():
    grid, solution = maze.generate_spec(np.random.default_rng(1), maze.SETTINGS["hard"])
    assert grid.shape == (30, 30)
    assert maze.shortest_length(grid) >= 110
    assert maze.check_solution(grid, solution).ok
    open_ = grid != 1
    edges = int(np.count_nonzero(open_[1:] & open_[:-1]) + np.count_nonzero(open_[:, 1:] & open_[:, :-1]))
    assert edges > open_.sum() - 1  # more edges than any forest: the maze has loops


def test_generate_rejects_bad_settings():
    with pytest.raises(PuzzleError, match="at least 5x5"):
        maze.generate(np.random.default_rng(0), 3, 9)
    with pytest.raises(PuzzleError, match="reached a path"):
        maze.generate(np.random.default_rng(0), 5, 5, min_path=500)


def test_make_batch_pads_and_ignores():
    inputs, labels = maze.make_batch(np.random.default_rng(0), 3, 12)
    assert inputs.shape == labels.shape == (3, 900) and inputs.dtype == labels.dtype == np.int32
    assert ((inputs == 0) == (labels == -100)).all()
    for x, y in zip(inputs, labels):
        grid = maze.decode(x)
        assert grid.shape == (12, 12)
        assert maze.check_solution(grid, maze.decode(np.where(y < 0, 0, y), grid.shape)).ok


def test_make_batch_with_a_size_range_mixes_sizes_on_a_small_canvas():
    inputs, labels = maze.make_batch(np.random.default_rng(1), 24, 11, canvas=11, min_size=5)
    sides = {int((row.reshape(11, 11) != 0).any(axis=1).sum()) for row in inputs}
    assert len(sides) > 2 and min(sides) >= 5 and max(sides) <= 11
    assert ((inputs == 0) == (labels == -100)).all()
    same, _ = maze.make_batch(np.random.default_rng(1), 4, 11, canvas=11)
    again, _ = maze.make_batch(np.random.default_rng(1), 4, 11, canvas=11, min_size=11)
    assert (same == again).all()  # a range of one size draws the same stream as no range


def test_loops_zero_gives_perfect_mazes_and_the_default_opens_walls():
    """A carved 9x9 maze has a 5x5 lattice: a spanning tree opens its 25 cells and 24 of the
    walls between them; every loop opens one more."""
    def open_cells(loops):
        inputs, _ = maze.make_batch(np.random.default_rng(2), 12, 9, canvas=9, loops=loops)
        return [int(((row != 0) & (row != maze.grid.WALL)).sum()) for row in inputs]

    assert open_cells(0.0) == [49] * 12
    assert any(n > 49 for n in open_cells(0.05)) and open_cells(0.05) == open_cells(maze.MazeSpec.loops)


def test_the_all_path_baseline_solves_a_corridor_but_not_a_maze_with_a_side_branch():
    from puzzles.maze import every_open_cell_path, parse, solve

    corridor = parse("#####\n#S G#\n#####")
    assert (every_open_cell_path(corridor) == solve(corridor)).all()
    branch = parse("#####\n#S G#\n## ##\n#####")
    assert not (every_open_cell_path(branch) == solve(branch)).all()


def _carved_lattice(grid: np.ndarray) -> bool:
    """Carved mazes wall every cell with two odd coordinates (walls between lattice cells)."""
    return bool((grid[1::2, 1::2] == 1).all())


@FAST
@given(seeds)
def test_scattered_mazes_have_one_shortest_path_as_long_as_their_side(seed):
    grid, solution = maze.generate(np.random.default_rng(seed), 13, 13, style="scattered")
    assert maze.check_solution(grid, solution).ok
    assert np.count_nonzero(solution == 5) + 1 == maze.shortest_length(grid) >= 13
    assert (maze.solve(grid) == solution).all()


def test_scattered_mazes_leave_most_open_cells_off_the_path():
    """Unlike carved ones, marking every open cell is a poor answer: that is their point."""
    from puzzles.maze import every_open_cell_path

    rng = np.random.default_rng(3)
    pairs = [maze.generate(rng, 15, 15, style="scattered") for _ in range(20)]
    on_path = [np.mean(s[g == 2] == 5) for g, s in pairs]
    assert np.mean(on_path) < 0.5
    assert not any((every_open_cell_path(g) == s).all() for g, s in pairs)
    assert not all(_carved_lattice(g) for g, _ in pairs)


def test_scattered_setting_reaches_the_hard_path_length():
    grid, solution = maze.generate_spec(np.random.default_rng(2), maze.SETTINGS["scattered"])
    assert grid.shape == (30, 30) and maze.shortest_length(grid) >= 110
    assert maze.check_solution(grid, solution).ok


def test_make_batch_mixes_styles_and_rejects_unknown_ones():
    inputs, labels = maze.make_batch(np.random.default_rng(4), 16, 9, canvas=9, style="mixed")
    styles = {_carved_lattice(row.reshape(9, 9)) for row in inputs}
    assert styles == {True, False}
    for x, y in zip(inputs, labels):
        assert maze.check_solution(maze.decode(x, canvas=9), maze.decode(y, (9, 9), canvas=9)).ok
    with pytest.raises(PuzzleError, match="unknown maze style 'round'"):
        maze.make_batch(np.random.default_rng(4), 2, 9, style="round")
    with pytest.raises(PuzzleError, match="unknown maze style 'round'"):
        maze.generate(np.random.default_rng(4), 9, 9, style="round")


def _is_tree(grid: np.ndarray) -> bool:
    """Open cells (anything but wall) joined by edges between 4-neighbours form a tree: a
    perfect maze, one path between any two cells."""
    open_cells = grid != 1
    edges = np.count_nonzero(open_cells[1:] & open_cells[:-1]) + np.count_nonzero(open_cells[:, 1:] & open_cells[:, :-1])
    return edges == np.count_nonzero(open_cells) - 1


def test_the_all_style_mixes_perfect_looped_and_scattered_mazes():
    inputs, labels = maze.make_batch(np.random.default_rng(5), 60, 11, canvas=11, style="all", loops=0.2)
    grids = [row.reshape(11, 11) for row in inputs]
    perfect = sum(_carved_lattice(g) and _is_tree(g) for g in grids)
    looped = sum(_carved_lattice(g) and not _is_tree(g) for g in grids)
    scattered = sum(not _carved_lattice(g) for g in grids)
    assert min(perfect, looped, scattered) >= 10, (perfect, looped, scattered)
    for x, y in zip(inputs, labels):
        assert maze.check_solution(maze.decode(x, canvas=11), maze.decode(y, (11, 11), canvas=11)).ok


def test_distance_targets_count_steps_from_start_and_goal_modulo_the_classes():
    from puzzles.maze.wavefront import IGNORE, distance_targets

    grid = maze.parse("#######\n#S    #\n# ### #\n#    G#\n#######")
    tokens = maze.encode(grid, 8)[None]
    targets = distance_targets(tokens, 8, 4).reshape(8, 8, 2)
    assert targets[1, 1].tolist() == [0, 6 % 4]  # S: 0 from S, 6 steps from G
    assert targets[3, 5].tolist() == [6 % 4, 0]  # G
    assert targets[1, 2].tolist() == [1, 5 % 4]
    assert (targets[0] == IGNORE).all() and (targets[7] == IGNORE).all()  # walls, pad
    assert (targets[:, 7] == IGNORE).all()
    inputs, labels = maze.make_batch(np.random.default_rng(0), 6, 9, canvas=9, style="all")
    batch = distance_targets(inputs, 9, 8)
    known = batch[..., 0] != IGNORE
    assert (known == (batch[..., 1] != IGNORE)).all()  # S and G share their region
    assert not (known & ~np.isin(inputs, (2, 3, 4))).any()  # open cells only (pockets are not)
    assert known[labels == 5].all() and batch.max() == 7  # the whole path
