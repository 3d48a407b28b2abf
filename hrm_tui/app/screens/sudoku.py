"""The Sudoku screen: a 9x9 editor, generator levels, puzzle files and pasted text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hrm_tui.app.kinds import SudokuPuzzle
from hrm_tui.app.screens.dialogs import ChoiceScreen
from hrm_tui.app.screens.puzzle import PuzzleScreen
from hrm_tui.app.widgets.editors import SudokuEditor
from puzzles.errors import PuzzleError

EDIT_KEYS = """\
Arrows or **h j k l** move; **1-9** set a digit and move on (so a puzzle can be typed row by
row); **0**, **.** or **Delete** clear; **Backspace** clears the previous cell; **u** or
**ctrl+z** undoes. Typing into an empty grid enters givens; typing into a loaded puzzle adds
your own digits. Paste (or **p**) an 81-character line; **n** makes a new puzzle."""


def parse_text(text: str) -> SudokuPuzzle:
    """A pasted puzzle: an 81-character line (optionally `puzzle,solution`), or any picture
    of a grid whose digits and '.' read row by row (rules like | - + are ignored)."""
    from puzzles import sudoku

    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if "," in first or len(first) == sudoku.SEQ_LEN:
        board, solution = sudoku.parse_line(first)
        return SudokuPuzzle.from_board(board, solution)
    cells = "".join(ch for ch in text if ch in "0123456789.")
    return SudokuPuzzle.from_board(sudoku.parse(cells))


class SudokuScreen(PuzzleScreen):
    KIND = "sudoku"
    EDIT_KEYS = EDIT_KEYS
    open_hint = "One puzzle per line (81 characters, '.' or '0' blank), optionally 'puzzle,solution'."
    paste_hint = "81 characters row by row ('.' or '0' for blanks), or a grid picture."

    def make_editor(self) -> SudokuEditor:
        return SudokuEditor(SudokuPuzzle.empty())

    def solve_views(self):
        """Sudoku's default views, as `hrm solve` tries them (one shared code path)."""
        from hrm_tui.solving import views_for

        return views_for("sudoku", None)

    def action_clear(self) -> None:
        self.load_puzzle(SudokuPuzzle.empty(), "Cleared: type a puzzle in (u undoes)")

    def action_new(self) -> None:
        from puzzles.sudoku import LEVELS

        options = [(level, f"{level:<8} {low}-{high} givens") for level, (low, high) in LEVELS.items()]
        self.app.push_screen(ChoiceScreen("New Sudoku: how hard?", options), self._new_level)

    def _new_level(self, level: str | None) -> None:
        if level is None:
            return

        def make():
            from puzzles.sudoku import generate_level, rate

            board, solution = generate_level(np.random.default_rng(), level)
            return SudokuPuzzle.from_board(board, solution), f"New {level} puzzle: {rate(board)}"
        self.generate(make, f"a {level} puzzle")

    def open_path(self, path: Path) -> None:
        from puzzles import sudoku

        entries = sudoku.read_file(path)
        if len(entries) == 1:
            self.load_puzzle(SudokuPuzzle.from_board(*entries[0]), f"Opened {path.name}")
            return

        def picked(choice: str | None) -> None:
            if choice is not None:
                index = int(choice)
                self.load_puzzle(SudokuPuzzle.from_board(*entries[index]),
                                 f"Opened {path.name}, puzzle {index + 1} of {len(entries)}")
        options = [(str(i), f"{i + 1:>4}  {sudoku.format_line(board)}") for i, (board, _) in enumerate(entries)]
        self.app.push_screen(ChoiceScreen(f"{path.name}: {len(entries)} puzzles", options, filterable=True),
                             picked)

    def load_text(self, text: str) -> None:
        puzzle = parse_text(text)
        if not puzzle.digits.any():
            raise PuzzleError("the pasted grid is empty")
        self.load_puzzle(puzzle, "Pasted a puzzle")
