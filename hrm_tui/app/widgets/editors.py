"""Grid editors: a cursor, keyboard and mouse editing, and undo, on top of `GridView`.

Each editor holds an immutable puzzle value (see `hrm_tui.app.kinds`) and replaces it on
every edit, so undo is a list of previous values and a solve can keep the exact puzzle it
was started with. Every change posts `GridEditor.Changed`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Generic, TypeVar

import numpy as np
from textual import events
from textual.binding import Binding
from textual.message import Message

from hrm_tui.app.kinds import KINDS, ArcPuzzle, MazePuzzle, SudokuPuzzle
from hrm_tui.app.widgets.grid import GridView

P = TypeVar("P")
UNDO_LIMIT = 200


class GridEditor(GridView, Generic[P], can_focus=True):
    """Cursor movement, undo and mouse-to-cell mapping shared by every editor."""

    KIND: ClassVar[str]
    BINDINGS = [
        Binding("up,k", "move(-1, 0)", "Up", show=False),
        Binding("down,j", "move(1, 0)", "Down", show=False),
        Binding("left,h", "move(0, -1)", "Left", show=False),
        Binding("right,l", "move(0, 1)", "Right", show=False),
        Binding("ctrl+z,u", "undo", "Undo", show=False, id="editor.undo", tooltip="Undo the last edit"),
    ]

    @dataclass
    class Changed(Message):
        """The puzzle was edited (or replaced)."""

        editor: "GridEditor"
        puzzle: object

        @property
        def control(self) -> "GridEditor":
            return self.editor

    def __init__(self, puzzle: P, *, id: str | None = None, classes: str | None = None) -> None:
        self._puzzle = puzzle
        self._history: list[P] = []
        super().__init__(KINDS[self.KIND].input_picture(puzzle), id=id, classes=classes)
        self.cursor = (0, 0)

    @property
    def puzzle(self) -> P:
        return self._puzzle

    def load(self, puzzle: P, undoable: bool = True) -> None:
        """Replace the whole puzzle (new, opened or pasted); undo brings the old one back."""
        self._commit(puzzle, undoable)
        rows, cols = self.picture.rows, self.picture.cols
        row, col = self.cursor or (0, 0)
        self.cursor = (min(row, rows - 1), min(col, cols - 1))

    def _commit(self, puzzle: P, undoable: bool = True) -> None:
        if undoable:
            self._history = (self._history + [self._puzzle])[-UNDO_LIMIT:]
        self._puzzle = puzzle
        self.picture = KINDS[self.KIND].input_picture(puzzle)
        self.post_message(self.Changed(self, puzzle))

    def action_undo(self) -> None:
        if not self._history:
            self.notify("Nothing to undo", timeout=2)
            return
        previous = self._history.pop()
        self._commit(previous, undoable=False)

    def action_move(self, d_row: int, d_col: int) -> None:
        rows, cols = self.picture.rows, self.picture.cols
        row, col = self.cursor or (0, 0)
        self.cursor = ((row + d_row) % rows, (col + d_col) % cols)

    def advance(self) -> None:
        """Move right, wrapping to the next row: typing a puzzle row by row just works."""
        rows, cols = self.picture.rows, self.picture.cols
        row, col = self.cursor or (0, 0)
        index = (row * cols + col + 1) % (rows * cols)
        self.cursor = divmod(index, cols)

    def retreat(self) -> None:
        rows, cols = self.picture.rows, self.picture.cols
        row, col = self.cursor or (0, 0)
        index = (row * cols + col - 1) % (rows * cols)
        self.cursor = divmod(index, cols)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        cell = self.cell_at(event.offset)
        if cell is None:
            return
        self.focus()
        self.cursor = cell
        self.capture_mouse()
        self.mouse_pressed(cell, event)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if event.button == 0 or self.app.mouse_captured is not self:
            return
        cell = self.cell_at(event.offset)
        if cell is not None and cell != self.cursor:
            self.cursor = cell
            self.mouse_dragged(cell)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self.release_mouse()

    def mouse_pressed(self, cell: tuple[int, int], event: events.MouseDown) -> None:
        """A click on a cell; editors that draw with the mouse override this."""

    def mouse_dragged(self, cell: tuple[int, int]) -> None:
        """The pointer moved to another cell with a button held."""


class SudokuEditor(GridEditor[SudokuPuzzle]):
    """9x9 editor: digits set, 0 . Delete Backspace clear.

    Typing into an empty grid enters a puzzle (the digits are givens, as in a newspaper);
    typing into a loaded or generated puzzle adds the user's own digits, drawn apart.
    """

    KIND = "sudoku"
    BINDINGS = [
        # Digits are bindings too (not on_key) so they stay in order with every other key.
        *[Binding(str(d), f"set_digit({d})", f"Digit {d}", show=False) for d in range(1, 10)],
        Binding("0,full_stop", "clear", "Clear cell", show=False),
        Binding("delete", "clear(False)", "Clear cell", show=False),
        Binding("backspace", "backspace", "Clear previous", show=False),
    ]

    def __init__(self, puzzle: SudokuPuzzle, *, id: str | None = None, classes: str | None = None) -> None:
        self.typing_givens = not puzzle.givens.any()
        super().__init__(puzzle, id=id, classes=classes)

    def load(self, puzzle: SudokuPuzzle, undoable: bool = True) -> None:
        self.typing_givens = not puzzle.givens.any()
        super().load(puzzle, undoable)

    def action_set_digit(self, digit: int, advance: bool = True) -> None:
        row, col = self.cursor or (0, 0)
        index = row * 9 + col
        puzzle = self.puzzle
        if puzzle.digits[index] != digit:
            digits, givens = puzzle.digits.copy(), puzzle.givens.copy()
            digits[index] = digit
            givens[index] = digit != 0 and self.typing_givens
            keeps_solution = not puzzle.givens[index] and not givens[index]
            self._commit(replace(puzzle, digits=digits, givens=givens,
                                 solution=puzzle.solution if keeps_solution else None))
        if advance:
            self.advance()

    def action_clear(self, advance: bool = True) -> None:
        self.action_set_digit(0, advance=advance)

    def action_backspace(self) -> None:
        self.retreat()
        self.action_set_digit(0, advance=False)


class MazeEditor(GridEditor[MazePuzzle]):
    """Maze editor: x toggles a wall, # sets one, . Delete Backspace open, s and g place
    the start and goal. With the mouse, drag to draw walls (or erase, starting on a wall)
    and drag S or G to move them."""

    KIND = "maze"
    BINDINGS = [
        Binding("x", "toggle_wall", "Wall", show=False),
        Binding("number_sign", "paint('wall')", "Set wall", show=False),
        Binding("full_stop,delete,backspace", "paint('open')", "Open cell", show=False),
        Binding("s", "place('start')", "Start here", show=False),
        Binding("g", "place('goal')", "Goal here", show=False),
    ]

    _drag: int | None = None  # the token a drag paints, or START/GOAL being moved

    def _set(self, cell: tuple[int, int], token: int, undoable: bool = True) -> None:
        from puzzles.maze.grid import GOAL, OPEN, START

        grid = self.puzzle.grid.copy()
        if token in (START, GOAL):
            grid[grid == token] = OPEN
        if grid[cell] in (START, GOAL) and token not in (START, GOAL) and not undoable:
            return  # a drawn line does not erase S or G
        if grid[cell] == token and token not in (START, GOAL):
            return
        grid[cell] = token
        self._commit(MazePuzzle(grid), undoable)

    def action_toggle_wall(self) -> None:
        from puzzles.maze.grid import OPEN, WALL

        cell = self.cursor or (0, 0)
        self._set(cell, OPEN if self.puzzle.grid[cell] == WALL else WALL)

    def action_paint(self, what: str) -> None:
        from puzzles.maze.grid import OPEN, WALL

        self._set(self.cursor or (0, 0), WALL if what == "wall" else OPEN)

    def action_place(self, what: str) -> None:
        from puzzles.maze.grid import GOAL, START

        self._set(self.cursor or (0, 0), START if what == "start" else GOAL)

    def mouse_pressed(self, cell: tuple[int, int], event: events.MouseDown) -> None:
        from puzzles.maze.grid import GOAL, OPEN, START, WALL

        current = int(self.puzzle.grid[cell])
        if current in (START, GOAL):
            self._drag = current
            return
        self._drag = OPEN if current == WALL else WALL
        self._set(cell, self._drag)

    def mouse_dragged(self, cell: tuple[int, int]) -> None:
        from puzzles.maze.grid import GOAL, START

        if self._drag is None:
            return
        if self._drag in (START, GOAL):
            other = GOAL if self._drag == START else START
            if self.puzzle.grid[cell] != other:
                self._set(cell, self._drag, undoable=False)
        else:
            self._set(cell, self._drag, undoable=False)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._drag = None
        super().on_mouse_up(event)


class ArcEditor(GridEditor[ArcPuzzle]):
    """ARC test-input editor: digits 0-9 paint a colour; Delete/Backspace paint 0 (black);
    shift+arrows grow or shrink the grid; click or drag paints the last colour used."""

    KIND = "arc"
    BINDINGS = [
        *[Binding(str(c), f"colour({c})", f"Colour {c}", show=False) for c in range(10)],
        Binding("delete,backspace", "paint(0)", "Black", show=False),
        Binding("shift+right", "resize(0, 1)", "Add column", show=False),
        Binding("shift+left", "resize(0, -1)", "Remove column", show=False),
        Binding("shift+down", "resize(1, 0)", "Add row", show=False),
        Binding("shift+up", "resize(-1, 0)", "Remove row", show=False),
    ]

    brush: int | None = None

    def action_colour(self, colour: int) -> None:
        """Paint the cell and move on; the colour becomes the mouse's brush."""
        self.brush = colour
        self.action_paint(colour)
        self.advance()

    def _paint_cell(self, cell: tuple[int, int], colour: int, undoable: bool = True) -> None:
        if self.puzzle.grid[cell] == colour:
            return
        grid = self.puzzle.grid.copy()
        grid[cell] = colour
        self._commit(replace(self.puzzle, grid=grid, edited=True), undoable)

    def action_paint(self, colour: int) -> None:
        self._paint_cell(self.cursor or (0, 0), colour)

    def action_resize(self, d_rows: int, d_cols: int) -> None:
        from puzzles.arc.task import MAX_SIZE

        grid = self.puzzle.grid
        rows, cols = grid.shape[0] + d_rows, grid.shape[1] + d_cols
        if not (1 <= rows <= MAX_SIZE and 1 <= cols <= MAX_SIZE):
            self.notify(f"ARC grids are 1x1 to {MAX_SIZE}x{MAX_SIZE}", severity="warning", timeout=3)
            return
        resized = np.zeros((rows, cols), np.uint8)
        keep_r, keep_c = min(rows, grid.shape[0]), min(cols, grid.shape[1])
        resized[:keep_r, :keep_c] = grid[:keep_r, :keep_c]
        self.load(replace(self.puzzle, grid=resized, edited=True))

    def mouse_pressed(self, cell: tuple[int, int], event: events.MouseDown) -> None:
        if self.brush is not None:
            self._paint_cell(cell, self.brush)

    def mouse_dragged(self, cell: tuple[int, int]) -> None:
        if self.brush is not None:
            self._paint_cell(cell, self.brush, undoable=False)
