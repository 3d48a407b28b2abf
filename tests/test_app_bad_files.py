"""Bad files opened in the app (issue #24, part 4): each is a notice naming the problem,
never a crash, and the puzzle on screen stays as it was."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_app_support import (  # noqa: F401 - fixtures
    BIG_FILE, NEWSPAPER, bad_files, make_app, notifications, pilot_test, settle, tiny_weights,
)

from hrm_tui.app.screens.dialogs import PathScreen

# What each screen must say about each file: a fragment of the notice.
EXPECTED = {
    "binary": "NUL bytes",
    "utf16": "UTF-16",
    "latin1": "not UTF-8",
    "empty": "is empty",
    "huge": "the app opens puzzle files up to 1 MiB",
    "missing": "not a file",  # the dialog itself refuses it
}
PER_KIND = {
    "sudoku": {"malformed json": "line 1: expected", "maze without S": "holds no puzzles"},
    "maze": {"maze without S": "no S (start) cell", "malformed json": "maze"},
    "arc": {"malformed json": "JSON", "task without train": "train: expected a non-empty list of pairs",
            "deep json": "JSON", "maze without S": "JSON"},
}


async def open_through_dialog(pilot, path: Path) -> None:
    await pilot.press("o")
    pilot.app.screen.query_one("Input").value = str(path)
    await pilot.press("enter")
    await pilot.pause()
    if isinstance(pilot.app.screen, PathScreen):  # refused by the dialog itself: close it
        await pilot.press("escape")
        await pilot.pause()


@pytest.mark.parametrize("kind", ["sudoku", "maze", "arc"])
@pilot_test
async def test_bad_files_are_notices_and_keep_the_puzzle(kind, tiny_weights, tmp_path):
    files = bad_files(tmp_path)
    expected = {**EXPECTED, **PER_KIND[kind]}
    app = make_app(kind, tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        if kind == "sudoku":
            app.screen.load_text(NEWSPAPER)
        before = app.screen.editor.puzzle
        for name, fragment in expected.items():
            app.clear_notifications()
            started = time.perf_counter()
            await open_through_dialog(pilot, files[name])
            seconds = time.perf_counter() - started
            said = notifications(app)
            assert any(fragment in message for message in said), f"{kind}, {name}: {said}"
            assert app.screen.editor.puzzle is before, f"{kind}, {name}: the puzzle on screen changed"
            assert app.is_running
            if name == "huge":
                assert seconds < 2, f"a {BIG_FILE >> 20} MiB file took {seconds:.1f} s to refuse"
