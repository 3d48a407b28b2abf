"""Pilot tests of the ARC screen: opening a task, editing the test input, solving."""

from __future__ import annotations

import json

import numpy as np
from test_app_support import (TASK, make_app, notifications, pilot_test, save_tiny_model, settle, solve,  # noqa: F401
                              task_file, tiny_weights)

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
        # Both test inputs are voted on; an unseen task is answered in the 8 symmetries.
        assert [a.views for a in app.screen.extra] == [8, 8]
        assert "Vote, test 1 (shown): 30x30 8/8 ✗ · placeholder (8 views, unseen)" in status
        assert "Vote, test 2: " in status


@pilot_test
async def test_a_size_free_model_solves_a_task_larger_than_its_canvas(tiny_weights, tmp_path):
    """2-D RoPE ties no weight to the 4x4 canvas it has: a 6x5 task runs on a 6x6 canvas, as in
    `hrm solve arc`, instead of getting placeholders."""
    weights = {**tiny_weights, "arc": save_tiny_model(tmp_path / "arc", "arc", seq_len=16, grid_shape=(4, 4),
                                                      pos_encodings="rope2d")}
    grid = (np.arange(30).reshape(6, 5) % 10).tolist()
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"train": [{"input": grid, "output": grid}], "test": [{"input": grid}]}))
    app = make_app("arc", weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.open_path(path)
        await solve(pilot)
        assert app.screen.trajectory.records[-1].h_tokens.shape[-1] == 36  # the 6x6 canvas
        assert [a.views for a in app.screen.extra] == [8]  # every view answered by the model
        assert "fit" not in str(app.screen.query_one("#status").render())


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
        assert screen.extra is not None and screen.extra[0].learned and screen.extra[0].views == 2


@pilot_test
async def test_test_time_training_shows_its_progress_then_the_vote(tiny_weights, task_file):
    """With a budget, Enter first trains on the demonstrations in a worker (the UI keeps
    drawing its progress), then solves with the trained views and shows the vote."""
    app = make_app("arc", tiny_weights)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.open_path(task_file)
        await pilot.press("b")
        await pilot.pause()
        assert "Test-time training before each solve" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press("escape")
        screen.budget = 60.0  # far more than the test waits: Esc ends the training below
        shown = []  # every status panel drawn
        draw = screen.status_text
        screen.status_text = lambda frame: shown.append(str(draw(frame))) or draw(frame)
        await pilot.press("enter")
        assert screen.training is not None and screen.training.result is None  # the worker trains; Enter returned
        await pilot.press("enter")  # a second Enter while training is refused with a note
        assert any("Test-time training is running" in m for m in notifications(app))

        def progress() -> list[str]:
            return [text for text in shown if "Test-time training (" in text and "step " in text]

        for _ in range(600):  # until the worker has logged a step (seconds, even on a busy machine)
            if progress():
                break
            await pilot.pause(0.05)
        assert progress() and "of 60 CPU s): step " in progress()[0] and "held-out demo" in progress()[0]
        await pilot.press("escape")  # ends the training at its next step, keeping its best state, and solves
        await settle(pilot)
        await settle(pilot)
        status = str(screen.query_one("#status").render())
        assert "Test-time training: " in status and "CPU s, stopped by" in status and "held-out demonstration" in status
        assert [a.views for a in screen.extra] == [4, 4] and all(a.learned for a in screen.extra)
        assert "Vote, test 1 (shown): " in status and "/4" in status and "(4 views)" in status
        first = screen.extra[0]
        assert sum(first.votes) <= 4 and len(first.votes) == first.voted
