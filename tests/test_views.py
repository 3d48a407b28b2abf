"""Symmetric views (inference-time scaling): the views are symmetries that invert exactly,
answers are ranked by the rules alone, and `answer_items` keeps the best answer a view gives,
through the library, the shipped model and the real CLI."""

import json

import numpy as np
import pytest

from puzzles import maze, sudoku
from puzzles.errors import PuzzleError
from puzzles.views import MAX_VIEWS, rank, views

PUZZLE = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3.."
SOLUTION = "483921657967345821251876493548132976729564138136798245372689514814253769695417382"
# A maze with one loop: the route over the top takes 2 steps, the one round the bottom 6.
LOOP = "\n".join(["#####", "#S G#", "# # #", "#   #", "#####"])
SHORT = "\n".join(["#####", "#SoG#", "# # #", "#   #", "#####"])
DETOUR = "\n".join(["#####", "#S G#", "#o#o#", "#ooo#", "#####"])


@pytest.mark.parametrize("kind", ["sudoku", "maze"])
def test_every_view_maps_a_solved_puzzle_to_a_solved_puzzle_and_back(kind):
    if kind == "sudoku":
        puzzle, solution, check = sudoku.parse(PUZZLE), sudoku.parse(SOLUTION), sudoku.check_solution
    else:
        puzzle, solution = maze.generate(np.random.default_rng(3), 9, 13)
        check = maze.check_solution
    shown = views(kind, MAX_VIEWS[kind])
    assert [view.index for view in shown] == list(range(MAX_VIEWS[kind]))
    assert (shown[0].apply(puzzle) == puzzle).all()
    seen = set()
    for view in shown:
        assert check(view.apply(puzzle), view.apply(solution)).ok
        assert (view.invert(view.apply(solution)) == solution).all()
        seen.add(view.apply(puzzle).tobytes())
    assert len(seen) == len(shown)  # different copies, not one view repeated


def test_views_are_the_same_on_every_call():
    board = sudoku.parse(PUZZLE)
    first, again = views("sudoku", 5), views("sudoku", 5)
    assert all((a.apply(board) == b.apply(board)).all() for a, b in zip(first, again))


@pytest.mark.parametrize(("kind", "count"), [("sudoku", 0), ("sudoku", 65), ("maze", 9), ("arc", 2)])
def test_view_counts_out_of_range_are_refused(kind, count):
    with pytest.raises(PuzzleError):
        views(kind, count)


def test_rank_uses_the_rules_only():
    puzzle, solution = sudoku.parse(PUZZLE), sudoku.parse(SOLUTION)
    assert rank("sudoku", puzzle, solution) == 0
    broken = solution.copy()
    broken[[1, 2]] = broken[[2, 1]]
    assert rank("sudoku", puzzle, broken) is None
    grid = maze.parse(LOOP)
    # Both routes follow the rules; the ranks say which is shorter without a BFS.
    assert rank("maze", grid, maze.parse(SHORT)) == 2
    assert rank("maze", grid, maze.parse(DETOUR)) == 6
    assert rank("maze", grid, grid) is None  # no route marked
    assert maze.check_route(grid, maze.parse(DETOUR))[0].ok and not maze.check_solution(grid, maze.parse(DETOUR)).ok


def test_more_views_solve_more_medium_puzzles_with_the_shipped_model():
    """The shipped Sudoku model on 12 medium puzzles: every answer a later view gives follows the
    rules, views never lose a puzzle the plain run solved, and they win at least one."""
    from hrm_tui.data_sources import sudoku_level_set
    from hrm_tui.model_store import load_model
    from hrm_tui.solving import PuzzleItem, answer_items

    puzzles, solutions = sudoku_level_set("medium", 12, 1234)
    items = [PuzzleItem(p, s) for p, s in zip(puzzles, solutions)]
    model = load_model("sudoku")
    plain = answer_items("sudoku", model, items, 8, False, views=1)
    more = answer_items("sudoku", model, items, 8, False, views=8)
    plain_right = [bool((a == s).all()) for a, s in zip(plain.predictions, solutions)]
    more_right = [bool((a == s).all()) for a, s in zip(more.predictions, solutions)]
    assert (plain.views_run == 1).all() and (plain.view == 0).all()
    assert all(m or not p for p, m in zip(plain_right, more_right))
    assert sum(more_right) > sum(plain_right)
    for answer, puzzle, view, tried in zip(more.predictions, puzzles, more.view, more.views_run):
        assert 1 <= tried <= 8 and view < tried
        if view > 0:
            assert sudoku.check_solution(puzzle, answer).ok
    # Puzzles solved at view 0 stop there, and stop at the segment their answer follows the rules.
    assert all(tried == 1 for tried, right in zip(more.views_run, plain_right) if right)
    # `hrm solve PUZZLE` traces view 0, then says which view answered by the rules.
    from test_reliability_support import hrm

    won = next(i for i, (p, m) in enumerate(zip(plain_right, more_right)) if m and not p)
    single = hrm("solve", "sudoku", sudoku.format_line(puzzles[won]), "--max-segments", 8, "--views", 8)
    assert single.returncode == 0, single.stderr
    assert "ACT segments" in single.stdout
    assert f"view {more.view[won] + 1} of 8 (a symmetric copy of the puzzle) gives an answer" in single.stdout
    assert single.stdout.rstrip().endswith("solved")


def test_batch_solve_reports_views_and_refuses_bad_counts(tmp_path):
    from test_reliability_support import hrm

    puzzles = tmp_path / "puzzles.txt"
    puzzles.write_text(f"{PUZZLE},{SOLUTION}\n")
    result = hrm("solve", "sudoku", "--file", puzzles, "--jsonl", "--views", 4)
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert 0 <= record["view"] < record["views_run"] <= 4
    assert record["correct"] == record["solved"]
    for args, message in [(("sudoku", "--file", puzzles, "--views", 0), "--views must be between 1 and 64"),
                          (("maze", "--file", puzzles, "--views", 9), "--views must be between 1 and 8"),
                          (("arc", "--file", puzzles, "--views", 2), "--views is for sudoku and maze")]:
        refused = hrm("solve", *args)
        assert refused.returncode != 0 and message in refused.stderr and "Traceback" not in refused.stderr


def test_eval_records_views_in_its_json_and_command(tmp_path):
    from test_reliability_support import hrm

    out = tmp_path / "eval.json"
    result = hrm("eval", "sudoku", "--levels", "easy", "--count", 4, "--views", 3, "--json", out)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["views"] == 3 and "--views 3" in data["flags"]
    (easy,) = data["results"]
    assert easy["views"] == 3 and 1 <= easy["mean_views_run"] <= 3
    assert "symmetric views" in result.stdout


def test_views_in_rounds_solve_the_same_puzzles_and_stop_together():
    """Views answered several per round (one batch) solve what one view per round solves; a
    puzzle answered by one view stops its siblings, so views are counted by whole rounds; and
    rounds after the first may run fewer segments."""
    from hrm_tui.data_sources import sudoku_level_set
    from hrm_tui.model_store import load_model
    from hrm_tui.solving import PuzzleItem, ViewPlan, answer_items

    puzzles, solutions = sudoku_level_set("hard", 8, 1234)
    items = [PuzzleItem(p, s) for p, s in zip(puzzles, solutions)]
    model = load_model("sudoku")
    single = answer_items("sudoku", model, items, 8, False, views=ViewPlan(8, 1))
    rounds = answer_items("sudoku", model, items, 8, False, views=ViewPlan(8, 4))
    solved = [[sudoku.check_solution(p, a).ok for p, a in zip(puzzles, found.predictions)]
              for found in (single, rounds)]
    assert solved[0] == solved[1] and sum(solved[0]) >= 1
    assert set(rounds.views_run.tolist()) <= {4, 8}
    short = answer_items("sudoku", model, items, 8, False, views=ViewPlan(8, 4, extra_segments=2))
    later = short.view >= 4
    assert (short.segments[later] <= 2).all()
    assert (short.segments[~later] <= 8).all()


def test_view_plan_options_are_checked_and_spelled_out(tmp_path):
    from test_reliability_support import hrm

    out = tmp_path / "eval.json"
    result = hrm("eval", "sudoku", "--levels", "easy", "--count", 3, "--views", 4, "--views-per-round", 2,
                 "--extra-view-segments", 4, "--one-by-one", "--json", out)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert "--views 4 --views-per-round 2 --extra-view-segments 4" in data["flags"] and "--one-by-one" in data["flags"]
    assert data["results"][0]["median_seconds"] > 0 and "one puzzle at a time" in result.stdout
    for args, message in [(("--views-per-round", 0), "--views-per-round must be >= 1"),
                          (("--extra-view-segments", 0), "--extra-view-segments must be >= 1")]:
        refused = hrm("eval", "sudoku", "--levels", "easy", "--count", 1, *args)
        assert refused.returncode == 2 and message in refused.stderr and "Traceback" not in refused.stderr


def test_tracing_views_finds_what_the_batch_search_finds_in_the_puzzles_frame():
    """`trace_views` (the app's and single solve's path) answers a puzzle the plain run misses
    with the same view as `answer_items`, and every record it yields is in the puzzle's frame:
    the answering segment's decode is that answer, givens where the givens are."""
    from hrm_tui.data_sources import sudoku_level_set
    from hrm_tui.model_store import load_model
    from hrm_tui.solving import PuzzleItem, ViewPlan, answer_items, trace_views

    puzzles, solutions = sudoku_level_set("medium", 12, 1234)
    model = load_model("sudoku")
    plan = ViewPlan(8)
    found = answer_items("sudoku", model, [PuzzleItem(p) for p in puzzles], 8, False, views=plan)
    won = next(i for i in range(12) if found.view[i] > 0 and sudoku.check_solution(puzzles[i], found.predictions[i]).ok)
    steps = list(trace_views(model, puzzles[won], plan, 8, False))
    last = steps[-1]
    assert last.follows_rules and last.view == found.view[won] and last.views == 8
    assert [s.view for s in steps] == sorted(s.view for s in steps) and not any(s.follows_rules for s in steps[:-1])
    answer = sudoku.decode(last.record.h_tokens[0])
    np.testing.assert_array_equal(answer, found.predictions[won])
    given = puzzles[won] != 0
    for step in steps:
        assert step.record.h_confidence.shape == (1, 81)
        assert (sudoku.decode(step.record.h_tokens[0])[given] == puzzles[won][given]).mean() > 0.9


def test_maze_views_run_by_default_on_small_mazes_and_once_on_large_ones(tmp_path):
    """By default a maze of at most 400 cells gets 8 views, a larger one a single run (views
    cost a whole run each there); --views-max-cells 0 lifts the limit; the eval JSON spells the
    limit out so a card's command reproduces it."""
    from test_reliability_support import hrm

    rng = np.random.default_rng(5)
    small, large = (maze.generate(rng, side, side)[0] for side in (9, 21))
    mazes = tmp_path / "mazes.txt"
    mazes.write_text(maze.format_maze(small) + "\n\n" + maze.format_maze(large) + "\n")
    for extra, runs in (((), [8, 1]), (("--views-max-cells", 0), [8, 8]), (("--views", 1), [1, 1])):
        result = hrm("solve", "maze", "--file", mazes, "--jsonl", "--max-segments", 2, *extra)
        assert result.returncode == 0, result.stderr
        assert [json.loads(line)["views_run"] for line in result.stdout.splitlines()] == runs
    out = tmp_path / "eval.json"
    result = hrm("eval", "maze", "--sizes", "7", "--count", 2, "--max-segments", 2, "--json", out)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert "--views 8 --views-per-round 8 --views-max-cells 400" in data["flags"]
    assert data["results"][0]["mean_views_run"] == 8
    refused = hrm("solve", "maze", "--file", mazes, "--views-max-cells", -1)
    assert refused.returncode != 0 and "--views-max-cells must be >= 0" in refused.stderr
