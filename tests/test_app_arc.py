"""Pilot tests of the ARC screen: opening a task, editing the test input, solving."""

from __future__ import annotations

import json

import numpy as np
from test_app_support import TASK, make_app, notifications, pilot_test, settle, solve, task_file, tiny_weights  # noqa: F401

from hrm_tui.app.kinds import KINDS, ArcPuzzle
from hrm_tui.app.widgets.task_strip import TaskStrip


@pilot_test
async def test_open_a_task_shows_pairs_and_test_input(tiny_weights, task_file):
    app = make_app("arc", tiny_weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)  # the first ARC-AGI-1 task arrives first
        app.screen.open_path(task_file)
        await pilot.pause()
        puzzle = app.screen.editor.puzzle
        assert puzzle.task.name == "flip" and puzzle.grid.tolist() == [[5, 0], [0, 6]]
        assert puzzle.known_output.tolist() == [[0, 5], [6, 0]]
        assert len(app.screen.query_one(TaskStrip).query(".pair")) == 2
        await pilot.press("e")
        assert app.screen.editor.puzzle.test_index == 1 and app.screen.editor.puzzle.known_output is None


@pilot_test
async def test_edit_and_resize_the_test_input(tiny_weights, task_file):
    app = make_app("arc", tiny_weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.open_path(task_file)
        await pilot.pause()
        await pilot.press("3", "shift+right", "shift+down")
        puzzle = app.screen.editor.puzzle
        assert puzzle.grid.tolist() == [[3, 0, 0], [0, 6, 0], [0, 0, 0]]
        assert puzzle.edited and puzzle.known_output is None


@pilot_test
async def test_solve_an_arc_task(tiny_weights, task_file):
    app = make_app("arc", tiny_weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.open_path(task_file)
        await solve(pilot)
        assert len(app.screen.trajectory.coarse) == 4
        status = str(app.screen.query_one("#status").render())
        assert "Answer (segment 4): ✗" in status
        assert app.screen.extra.views == 8 and "Attempts (" in status  # unseen task: 8 symmetries


@pilot_test
async def test_bad_task_json_is_a_notification(tiny_weights, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"train": [], "test": [{"input": [[1]]}]}))
    app = make_app("arc", tiny_weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        app.screen.query_one("Input").value = str(bad)
        await pilot.press("enter")
        await pilot.pause()
        app.screen._load_text_safely('{"train": ')
        await pilot.pause()
        messages = notifications(app)
        assert any("train: expected a non-empty list of pairs" in m for m in messages)
        assert any("malformed task JSON" in m for m in messages)


@pilot_test
async def test_paste_rows_of_digits_replace_the_test_input(tiny_weights, task_file):
    app = make_app("arc", tiny_weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.open_path(task_file)
        app.screen.load_text("123\n456\n")
        await pilot.pause()
        assert app.screen.editor.puzzle.grid.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_arc_verdicts():
    from puzzles.arc.task import parse_task
    from puzzles.arc.tokens import encode_grid

    task = parse_task(TASK, "flip")
    puzzle = ArcPuzzle(task, 0, task.test[0].input)
    answer = np.array(TASK["test"][0]["output"], np.uint8)
    assert KINDS["arc"].verdict(puzzle, encode_grid(answer)).ok
    wrong = answer.copy()
    wrong[0, 0] = 1
    assert "1 cell wrong" in KINDS["arc"].verdict(puzzle, encode_grid(wrong)).message
    assert "no known answer" in KINDS["arc"].verdict(ArcPuzzle(task, 1, task.test[1].input), encode_grid(answer)).message
    assert "not a grid yet" in KINDS["arc"].verdict(puzzle, np.zeros(900, np.int32)).message


@pilot_test
async def test_adapt_to_a_task_then_solve_with_its_views(tiny_weights, task_file):
    from functools import partial

    from hrm_tui.arc.adaptation import AdaptSettings
    from hrm_tui.app.screens.adapt import AdaptScreen

    app = make_app("arc", tiny_weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.open_path(task_file)
        await pilot.pause()
        task = screen.editor.puzzle.task
        settings = AdaptSettings(seconds=30, max_steps=2, augment=1, batch_size=4, stop_when_fitted=False)
        app.push_screen(AdaptScreen(screen.loaded.model, task, settings), partial(screen._adapted, task.name))
        await settle(pilot)
        await settle(pilot)
        assert screen.loaded.label.endswith("+ flip")
        assert screen.extra is not None and screen.extra.learned and screen.extra.views == 2
