"""SVG snapshots of the main states of each puzzle kind, with the tiny deterministic models.

Update after an intended change with `pytest tests/test_app_snapshots.py --snapshot-update`
and look at the report before committing.
"""

from __future__ import annotations

from pathlib import Path

from test_app_support import NEWSPAPER, make_app, settle, solve, task_file, tiny_weights  # noqa: F401

SMALL_TERMINAL = (80, 24)


def after(*steps, toasts: bool = False):
    """A run_before that settles the app, then runs each step (a coroutine function of pilot).

    Notifications expire on a timer, so they are cleared unless `toasts` (a slow machine
    would otherwise change the picture)."""
    async def run_before(pilot) -> None:
        await settle(pilot)
        for step in steps:
            await step(pilot)
        await settle(pilot)
        if not toasts:
            pilot.app.clear_notifications()
            await pilot.pause()
    return run_before


def keys(*names):
    async def press(pilot) -> None:
        await pilot.press(*names)
    return press


def test_sudoku_start(snap_compare, tiny_weights):
    assert snap_compare(make_app("sudoku", tiny_weights), terminal_size=SMALL_TERMINAL, run_before=after())


def test_sudoku_typing_with_a_conflict(snap_compare, tiny_weights):
    app = make_app("sudoku", tiny_weights)
    assert snap_compare(app, terminal_size=SMALL_TERMINAL,
                        run_before=after(keys(*NEWSPAPER[:20], "5")))


def test_sudoku_solved(snap_compare, tiny_weights):
    app = make_app("sudoku", tiny_weights)
    assert snap_compare(app, terminal_size=SMALL_TERMINAL, run_before=after(keys(*NEWSPAPER), solve))


def test_sudoku_inner_step(snap_compare, tiny_weights):
    app = make_app("sudoku", tiny_weights)
    assert snap_compare(app, terminal_size=(100, 30),
                        run_before=after(keys(*NEWSPAPER), solve, keys("i", "home", "right_square_bracket")))


def test_sudoku_no_color(snap_compare, tiny_weights, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app("sudoku", tiny_weights)
    assert snap_compare(app, terminal_size=SMALL_TERMINAL, run_before=after(keys(*NEWSPAPER), solve))


def test_sudoku_without_weights(snap_compare):
    app = make_app("sudoku", {"sudoku": Path("/nonexistent/weights")})
    assert snap_compare(app, terminal_size=SMALL_TERMINAL, run_before=after(toasts=True))


def test_help_screen(snap_compare, tiny_weights):
    app = make_app("sudoku", tiny_weights)
    assert snap_compare(app, terminal_size=(100, 30), run_before=after(keys("question_mark")))


def test_maze_solved(snap_compare, tiny_weights):
    app = make_app("maze", tiny_weights)
    assert snap_compare(app, terminal_size=(110, 32), run_before=after(solve))


def test_maze_small_terminal(snap_compare, tiny_weights):
    app = make_app("maze", tiny_weights)
    assert snap_compare(app, terminal_size=SMALL_TERMINAL, run_before=after(solve))


def test_arc_task(snap_compare, tiny_weights, task_file):
    async def open_task(pilot) -> None:
        pilot.app.screen.open_path(task_file)
    app = make_app("arc", tiny_weights)
    assert snap_compare(app, terminal_size=(120, 40), run_before=after(open_task))


def test_arc_solved(snap_compare, tiny_weights, task_file):
    async def open_task(pilot) -> None:
        pilot.app.screen.open_path(task_file)
    app = make_app("arc", tiny_weights)
    assert snap_compare(app, terminal_size=(120, 40), run_before=after(open_task, solve))
