"""The training view follows a run while it is written: curves and figures refresh, a half
written log line is left out until complete, a vanished run only shows a note, and `s`
asks for a solve with the newest checkpoint."""

from __future__ import annotations

import json

from test_app_support import make_app, pilot_test, settle, tiny_weights  # noqa: F401

from hrm_tui.app.screens.training import TrainingScreen, read_run_log, summary_text


def _record(step: int, **extra) -> str:
    return json.dumps({"step": step, "wall_time": 6.0 * step, "loss": 1.0 / step, "accuracy": 0.5, **extra}) + "\n"


def test_reading_a_log_being_written_keeps_complete_records_only(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text(_record(1) + "not json\n" + _record(2) + '{"step": 3, "loss"')
    assert [r["step"] for r in read_run_log(tmp_path)] == [1, 2]
    assert read_run_log(tmp_path / "missing") == []
    text = summary_text(tmp_path, read_run_log(tmp_path), 10).plain
    assert "step 2 of 10" in text and "no held-out evaluation yet" in text


@pilot_test
async def test_the_training_view_follows_a_run(tmp_path, tiny_weights):
    run = tmp_path / "run"
    run.mkdir()
    (run / "options.json").write_text(json.dumps({"steps": 100}))
    log = run / "log.jsonl"
    log.write_text(_record(10) + _record(20, eval_exact_accuracy=0.25, eval_token_accuracy=0.5))
    app = make_app("sudoku", tiny_weights)
    answers = []
    async with app.run_test(size=(100, 36)) as pilot:
        await settle(pilot)
        screen = TrainingScreen(run)
        app.push_screen(screen, answers.append)
        await pilot.pause()
        summary = str(screen.query_one("#training-summary").render())
        assert "step 20 of 100" in summary and "exact 0.250" in summary
        assert "training curve" in str(screen.query_one("#training-chart").render())
        with log.open("a") as out:  # a line half written, then finished
            out.write(_record(30, eval_exact_accuracy=0.5, eval_token_accuracy=0.75)[:20])
        screen.refresh_run()
        await pilot.pause()
        assert "step 20 of 100" in str(screen.query_one("#training-summary").render())
        with log.open("a") as out:
            out.write(_record(30, eval_exact_accuracy=0.5, eval_token_accuracy=0.75)[20:])
        screen.refresh_run()
        await pilot.pause()
        assert "step 30 of 100" in str(screen.query_one("#training-summary").render())
        await pilot.press("m")
        await pilot.pause()
        assert "minutes" in str(screen.query_one("#training-chart").render())
        for path in sorted(run.iterdir()):
            path.unlink()
        run.rmdir()
        screen.refresh_run()
        await pilot.pause()
        assert "is gone" in str(screen.query_one("#training-summary").render())
        await pilot.press("s")
        await pilot.pause()
    assert answers == ["solve"]


@pilot_test
async def test_t_opens_the_run_of_the_loaded_checkpoint_and_s_solves_with_its_newest(tmp_path):
    """A model loaded from a real (tiny) training run: `t` shows that run, `s` reloads its
    newest checkpoint and solves the puzzle on screen."""
    import subprocess
    import sys

    run = tmp_path / "run"
    trained = subprocess.run([sys.executable, "-m", "hrm_tui", "train", "sudoku", "--run", str(run), "--steps", "2",
                              "--hidden-size", "32", "--heads", "2", "--h-layers", "1", "--l-layers", "1",
                              "--h-cycles", "1", "--l-cycles", "1", "--max-segments", "2", "--batch-size", "4",
                              "--eval-every", "2", "--eval-size", "4", "--log-every", "1", "--checkpoint-every", "1"],
                             capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    app = make_app("sudoku", {"sudoku": run})
    async with app.run_test(size=(100, 36)) as pilot:
        await settle(pilot)
        await pilot.press(*"53007000060019500009800006080006000340080300170002000606000028000041900500008007")
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainingScreen) and screen.run == run
        assert "step 2 of 2" in str(screen.query_one("#training-summary").render())
        await pilot.press("s")
        await settle(pilot)
        puzzle_screen = app.screen
        assert not isinstance(puzzle_screen, TrainingScreen)
        assert puzzle_screen.loaded is not None and "step 2" in puzzle_screen.loaded.label
        assert puzzle_screen.trajectory is not None and puzzle_screen.trajectory.coarse
