"""Pilot tests of the maze screen: drawing with keys and the mouse, files, generation, solving."""

from __future__ import annotations

from test_app_support import (make_app, notifications, pilot_test, save_tiny_model, settle, solve,  # noqa: F401
                              tiny_weights)

from hrm_tui.app.screens.dialogs import ChoiceScreen
from puzzles.maze.grid import GOAL, OPEN, START, WALL

SMALL = "#####\n#S  #\n# # #\n#  G#\n#####"


@pilot_test
async def test_draw_walls_start_and_goal_with_keys(tiny_weights):
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("c")  # a blank field of the same size, S and G in the corners
        editor = app.screen.editor
        grid = editor.puzzle.grid
        assert grid[0, 0] == START and grid[-1, -1] == GOAL and (grid[1:-1, 1:-1] == OPEN).all()
        await pilot.press("j", "l", "x", "l", "number_sign", "l", "x", "x")
        assert editor.puzzle.grid[1, 1:4].tolist() == [WALL, WALL, OPEN]
        await pilot.press("j", "s", "j", "g")
        grid = editor.puzzle.grid
        assert grid[2, 3] == START and grid[3, 3] == GOAL and grid[0, 0] == OPEN and grid[-1, -1] == OPEN
        await pilot.press("u")
        assert editor.puzzle.grid[-1, -1] == GOAL


@pilot_test
async def test_mouse_draws_walls_and_moves_the_start(tiny_weights):
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        editor = app.screen.editor
        # The 11x11 field is drawn roomy (two columns a cell) and centred: find cell (2, 3).
        origin_x = editor.content_region.x + editor._indent()
        origin_y = editor.content_region.y
        await pilot.click(offset=(origin_x + 2 * 3, origin_y + 2))
        assert editor.puzzle.grid[2, 3] == WALL
        await pilot.click(offset=(origin_x + 2 * 3, origin_y + 2))
        assert editor.puzzle.grid[2, 3] == OPEN
        await pilot.mouse_down(offset=(origin_x, origin_y))  # on S: a drag moves it
        await pilot.hover(offset=(origin_x + 2, origin_y + 1))
        await pilot.mouse_up(offset=(origin_x + 2, origin_y + 1))
        assert editor.puzzle.grid[1, 1] == START and editor.puzzle.grid[0, 0] == OPEN


@pilot_test
async def test_solve_a_maze_and_check_the_verdict(tiny_weights):
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await solve(pilot)
        screen = app.screen
        assert len(screen.trajectory.coarse) == 4
        status = str(screen.query_one("#status").render())
        assert "Answer (segment 4): ✗" in status


@pilot_test
async def test_unsolvable_mazes_are_refused_with_a_reason(tiny_weights):
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        editor = app.screen.editor
        grid = editor.puzzle.grid.copy()
        grid[grid == GOAL] = OPEN
        editor.load(type(editor.puzzle)(grid))
        await pilot.press("enter")
        await settle(pilot)
        assert any("no G (goal) cell" in n for n in notifications(app))
        assert app.screen.trajectory is None


@pilot_test
async def test_maze_too_big_for_the_model_canvas(tiny_weights):
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "down", "down", "down", "down", "enter")  # blank 20x20
        await pilot.pause()
        assert app.screen.editor.puzzle.grid.shape == (20, 20)
        await pilot.press("enter")
        await settle(pilot)
        assert any("exceeds the 11x11 canvas" in n for n in notifications(app))


@pilot_test
async def test_a_grid_rope_model_solves_a_maze_larger_than_its_canvas(tmp_path):
    weights = {"maze": save_tiny_model(tmp_path / "maze", "maze", pos_encodings="rope2d")}
    app = make_app("maze", weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.press("down", "down", "down", "down", "down", "enter")  # blank 20x20
        await pilot.pause()
        assert app.screen.editor.puzzle.grid.shape == (20, 20)
        await solve(pilot)
        assert not any("canvas" in n for n in notifications(app))
        assert len(app.screen.trajectory.coarse) == 4
        assert "Answer (segment 4)" in str(app.screen.query_one("#status").render())
        # The first solve of this model and size said it was compiling; the same size again does not.
        assert app.screen.compiling and "compiling" in app.screen._waiting_label()
        await solve(pilot)
        assert not app.screen.compiling and app.screen._waiting_label() == "thinking…"


@pilot_test
async def test_open_and_paste_mazes(tiny_weights, tmp_path):
    path = tmp_path / "mazes.txt"
    path.write_text(SMALL + "\n\n" + SMALL.replace("S  ", "So "))
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        app.screen.open_path(path)
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        puzzle = app.screen.editor.puzzle
        assert puzzle.grid.shape == (5, 5) and puzzle.solution is not None and not (puzzle.grid == 5).any()
        app.screen._load_text_safely("#S#\n###")
        await pilot.pause()
        assert any("no G (goal) cell" in n for n in notifications(app))


@pilot_test
async def test_generate_a_small_maze(tiny_weights):
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("c", "n", "enter")  # from a blank field to a generated "small" maze
        await settle(pilot)
        after = app.screen.editor.puzzle
        assert after.grid.shape == (11, 11) and after.solution is not None
        assert (after.grid == WALL).sum() > 20 and (after.grid == START).sum() == 1


@pilot_test
async def test_generate_a_scattered_maze_like_the_public_hard_set(tiny_weights):
    from puzzles.maze import shortest_length

    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("n", "down", "down", "down", "enter")  # generate scattered
        await settle(pilot)
        after = app.screen.editor.puzzle
        assert after.grid.shape == (30, 30) and shortest_length(after.grid) >= 110
        assert not (after.grid[1::2, 1::2] == WALL).all()  # not a carved lattice
        assert any("New scattered maze" in n for n in notifications(app))


def test_the_largest_maze_a_model_solves_is_read_from_its_evaluation():
    from hrm_tui.app.screens.maze import largest_solved_side

    metrics = {"evaluation": {"results": [{"set": "5x5", "exact_accuracy": 0.94}, {"set": "7x7", "exact_accuracy": 0.6},
                                          {"set": "9x9", "exact_accuracy": 0.1},
                                          {"set": "30x30 hard", "exact_accuracy": 0.9}]}}
    assert largest_solved_side(metrics) == 7
    assert largest_solved_side({}) is None
    assert largest_solved_side({"evaluation": {"results": [{"set": "9x9", "exact_accuracy": 0.0}]}}) == 0


@pilot_test
async def test_mazes_beyond_the_shipped_model_say_so():
    """The shipped maze model's card says what it solves; the first maze and larger generated
    ones carry a note that they are beyond it."""
    from hrm_tui.app.screens.maze import largest_solved_side
    from hrm_tui.app.weights import load

    reach = largest_solved_side(load("maze").metrics)
    app = make_app("maze", None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        side = max(app.screen.editor.puzzle.grid.shape)
        beyond = [n for n in notifications(app) if "Beyond this model" in n]
        assert bool(beyond) == (reach is not None and side > reach)
        await pilot.press("n")
        await pilot.pause()
        labels = [str(option.prompt) for option in app.screen.query("OptionList").first().options]
        assert any("(beyond this model)" in label for label in labels) == (reach is not None and reach < 30)


@pilot_test
async def test_new_offers_a_maze_within_the_models_reach(tiny_weights):
    """Weights whose evaluation solves 7x7 mazes (and nothing larger) are offered a 7x7 maze
    first in the New dialog; it is generated with its solution and a note that says so."""
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.loaded.metrics = {"evaluation": {"results": [{"set": "7x7", "exact_accuracy": 0.6},
                                                                {"set": "11x11", "exact_accuracy": 0.0}]}}
        await pilot.press("n")
        await pilot.pause()
        labels = [str(option.prompt) for option in app.screen.query("OptionList").first().options]
        assert "in reach" in labels[0] and "7x7" in labels[0]
        await pilot.press("enter")
        await settle(pilot)
        after = app.screen.editor.puzzle
        assert after.grid.shape == (7, 7) and after.solution is not None
        assert any("within what this model's card says it solves" in n for n in notifications(app))


# An 11x11 maze (evaluation stream, seed 99) where the shipped model's first view finds a route
# that follows the rules in 32 steps and its second view the shortest one, 28 steps.
LONGER_FIRST = "\n".join([
    "         # ", "## ##### # ", "       #   ", " ##### ### ", "   #G  #   ", " # ### # ##",
    " #   # #   ", " ### ##### ", "   #     # ", "## ### ### ", "     #    S"])


@pilot_test
async def test_a_maze_is_answered_by_the_view_hrm_solve_takes(tmp_path):
    """The app runs a maze's 8 views as `hrm solve` does (one code path) and ends on the view
    whose route the CLI takes, the fewest steps of those that follow the rules; `<` steps
    back to the first view, whose route is longer."""
    import re

    from test_reliability_support import hrm

    path = tmp_path / "maze.txt"
    path.write_text(LONGER_FIRST + "\n")
    cli = hrm("solve", "maze", "--file", str(path))
    assert cli.returncode == 0, cli.stderr
    found = re.search(r"view (\d+) of (\d+) \(a symmetric copy.*?in\s+(\d+)\s+steps\s+instead\s+of\s+(\d+)",
                      cli.stdout, re.S)
    assert found, cli.stdout
    view, views, steps, first_steps = map(int, found.groups())
    assert view > 1 and steps < first_steps and cli.stdout.rstrip().endswith("solved")
    app = make_app("maze", None)  # the shipped weights, as `hrm solve` uses
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.load_text(LONGER_FIRST)
        await solve(pilot)
        screen = app.screen
        assert len(screen.view_runs) == views
        assert screen.trajectory is screen.chosen_run and screen.trajectory.view == view - 1
        status = str(screen.query_one("#status").render())
        assert f"View {view} of {views}: answered by the rules · the answer: fewest steps" in status
        assert "✓" in status
        for _ in range(view - 1):
            await pilot.press("less_than_sign")
        await pilot.pause()
        assert screen.trajectory.view == 0
        assert f"View 1 of {views}" in str(screen.query_one("#status").render())
