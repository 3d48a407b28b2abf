"""What differs between puzzle kinds in the app: the puzzle value, tokens for the model,
pictures of grids, and the verdict on a decoded answer.

Textual-free (numpy, rich styles, `puzzles`) so the recorder draws the very same pictures.
A `Picture` is a grid of `Cell`s (glyph + style); widgets and the recorder only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from rich.style import Style

from hrm_tui.app import palette
from puzzles.errors import PuzzleError
from puzzles.verdict import Verdict

LOW_CONFIDENCE = 0.5  # cells whose argmax probability is below this are dimmed


class Cell(NamedTuple):
    glyph: str  # one character; roomy layouts draw it as " g"
    style: Style
    mono: str | None = None  # what to show instead when colours are off (for colour tiles)


@dataclass(frozen=True, eq=False)
class Picture:
    """A grid of cells ready to draw."""

    cells: tuple[tuple[Cell, ...], ...]
    box: int = 0  # a separator line every `box` cells (Sudoku's 3x3 boxes)
    tiles: bool = False  # colour tiles (mazes, ARC): may shrink to half-block pixels

    @property
    def rows(self) -> int:
        return len(self.cells)

    @property
    def cols(self) -> int:
        return len(self.cells[0]) if self.cells else 0


def _marks(changed: bool, low: bool, tile: bool) -> Style:
    style = Style()
    if changed:
        style += palette.CHANGED_TILE if tile else palette.CHANGED
    if low:
        style += palette.LOW_CONFIDENCE
    return style


def _changed_and_low(tokens: np.ndarray, previous: np.ndarray | None,
                     confidence: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    changed = np.zeros(tokens.shape, bool) if previous is None else tokens != previous
    low = np.zeros(tokens.shape, bool) if confidence is None else confidence < LOW_CONFIDENCE
    return changed, low


# -- Sudoku -----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SudokuPuzzle:
    digits: np.ndarray  # (81,) uint8, 0 = blank
    givens: np.ndarray  # (81,) bool: digits that came with the puzzle, not typed by the user
    solution: np.ndarray | None = None

    @classmethod
    def empty(cls) -> "SudokuPuzzle":
        return cls(np.zeros(81, np.uint8), np.zeros(81, bool))

    @classmethod
    def from_board(cls, board: np.ndarray, solution: np.ndarray | None = None) -> "SudokuPuzzle":
        board = np.asarray(board, np.uint8).reshape(81)
        return cls(board.copy(), board != 0, solution)


class SudokuKind:
    name: ClassVar[str] = "sudoku"
    title: ClassVar[str] = "Sudoku"

    def fit_model(self, puzzle: SudokuPuzzle, model):
        """The model to run on this puzzle (the loaded one: Sudoku has one size)."""
        return model

    def model_input(self, puzzle: SudokuPuzzle, config) -> tuple[np.ndarray, int]:
        from puzzles import sudoku

        _check_seq_len(config, sudoku.SEQ_LEN, "a 9x9 Sudoku")
        conflicts = sudoku.find_conflicts(puzzle.digits)
        if conflicts:
            raise PuzzleError(f"{conflicts[0]}; fix it before solving")
        return sudoku.encode(puzzle.digits), 0

    def input_picture(self, puzzle: SudokuPuzzle) -> Picture:
        from puzzles import sudoku

        clash = np.zeros(81, bool)
        for conflict in sudoku.find_conflicts(puzzle.digits):
            clash[list(conflict.cells)] = True
        cells = []
        for i, digit in enumerate(puzzle.digits.tolist()):
            if not digit:
                cells.append(Cell("·", palette.BLANK))
                continue
            style = palette.GIVEN if puzzle.givens[i] else palette.USER
            cells.append(Cell(str(digit), style + palette.CONFLICT if clash[i] else style))
        return Picture(_rows(cells, 9), box=3)

    def picture(self, puzzle: SudokuPuzzle, tokens: np.ndarray | None,
                confidence: np.ndarray | None = None, previous: np.ndarray | None = None) -> Picture:
        from puzzles import sudoku

        if tokens is None:
            return self.input_picture(puzzle)
        digits = sudoku.decode(tokens)
        changed, low = _changed_and_low(tokens, previous, confidence)
        wrong = np.zeros(81, bool)
        for conflict in sudoku.find_conflicts(digits):
            wrong[list(conflict.cells)] = True
        given = puzzle.digits != 0
        wrong |= given & (digits != puzzle.digits)
        cells = []
        for i, digit in enumerate(digits.tolist()):
            if not digit:
                base = palette.BLANK
            elif wrong[i]:
                base = palette.WRONG
            elif given[i]:
                base = palette.ECHO
            else:
                base = palette.PREDICTED
            cells.append(Cell(str(digit) if digit else "·", base + _marks(changed[i], low[i], False)))
        return Picture(_rows(cells, 9), box=3)

    def verdict(self, puzzle: SudokuPuzzle, tokens: np.ndarray) -> Verdict:
        from puzzles import sudoku

        digits = sudoku.decode(tokens)
        verdict = sudoku.check_solution(puzzle.digits, digits)
        if verdict.ok and puzzle.solution is not None and not np.array_equal(digits, puzzle.solution):
            return Verdict(True, "solved (a valid grid other than the known solution)")
        return verdict

    def view_grid(self, puzzle: SudokuPuzzle) -> np.ndarray:
        """The board symmetric views transform (`hrm_tui.solving.trace_views`): 81 digits."""
        return puzzle.digits

    def checkable(self, puzzle: SudokuPuzzle) -> bool:
        return True

    def text(self, puzzle: SudokuPuzzle) -> str:
        from puzzles import sudoku

        return sudoku.format_line(puzzle.digits)


# -- Mazes ------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class MazePuzzle:
    grid: np.ndarray  # (H, W) uint8 maze tokens: puzzles.maze.grid WALL, OPEN, START, GOAL, PATH
    solution: np.ndarray | None = None

    @classmethod
    def blank(cls, height: int, width: int) -> "MazePuzzle":
        """An open field with S top-left and G bottom-right, for drawing walls into."""
        from puzzles.maze.grid import GOAL, OPEN, START

        grid = np.full((height, width), OPEN, np.uint8)
        grid[0, 0], grid[-1, -1] = START, GOAL
        return cls(grid)


def _maze_cell(token: int) -> Cell:
    from puzzles.maze.grid import GOAL, OPEN, PATH, START, WALL

    if token == WALL:
        return Cell(" ", palette.WALL, "█")
    if token == OPEN:
        return Cell(" ", palette.OPEN, " ")
    if token == START:
        return Cell("S", palette.START, "S")
    if token == GOAL:
        return Cell("G", palette.GOAL, "G")
    if token == PATH:
        return Cell(" ", palette.PATH, "o")
    return Cell("?", palette.PAD, "?")


class MazeKind:
    name: ClassVar[str] = "maze"
    title: ClassVar[str] = "Maze"

    @staticmethod
    def canvas(config) -> int:
        return int(config.grid_shape[0])

    def fit_model(self, puzzle: MazePuzzle, model):
        """A size-free model (2-D RoPE) moves to a canvas as large as a maze that does not fit."""
        from hrm_tui.solving import PuzzleItem, model_for_items

        return model_for_items("maze", model, [PuzzleItem(puzzle.grid)])

    def model_input(self, puzzle: MazePuzzle, config) -> tuple[np.ndarray, int]:
        from puzzles import maze
        from puzzles.maze.grid import check_reachable

        canvas = self.canvas(config)
        _check_seq_len(config, canvas * canvas, f"a {canvas}x{canvas} maze canvas")
        check_reachable(np.where(puzzle.grid == maze.grid.PATH, maze.grid.OPEN, puzzle.grid))
        return maze.encode(puzzle.grid, canvas), 0

    def input_picture(self, puzzle: MazePuzzle) -> Picture:
        return Picture(tuple(tuple(_maze_cell(v) for v in row) for row in puzzle.grid.tolist()), tiles=True)

    def picture(self, puzzle: MazePuzzle, tokens: np.ndarray | None,
                confidence: np.ndarray | None = None, previous: np.ndarray | None = None) -> Picture:
        from puzzles.maze.grid import OPEN, PATH

        if tokens is None:
            return self.input_picture(puzzle)
        height, width = puzzle.grid.shape
        crop = _crop_square(tokens, height, width)
        changed, low = _changed_and_low(crop, _crop_square(previous, height, width),
                                        _crop_square(confidence, height, width))
        maze = puzzle.grid
        broken = (crop != maze) & ~((maze == OPEN) & (crop == PATH)) & ~((maze == PATH) & (crop == OPEN))
        rows = []
        for r in range(height):
            row = []
            for c in range(width):
                cell = _maze_cell(int(crop[r, c]))
                if broken[r, c]:
                    cell = Cell("!", cell.style + palette.WRONG, "!")
                elif changed[r, c] or low[r, c]:
                    glyph = "•" if changed[r, c] else "░"
                    cell = Cell(glyph if cell.glyph == " " else cell.glyph,
                                cell.style + _marks(changed[r, c], low[r, c], True), cell.mono)
                row.append(cell)
            rows.append(tuple(row))
        return Picture(tuple(rows), tiles=True)

    def verdict(self, puzzle: MazePuzzle, tokens: np.ndarray) -> Verdict:
        from puzzles import maze

        canvas = int(round(np.sqrt(tokens.size)))
        return maze.check_solution(puzzle.grid, maze.decode(tokens, puzzle.grid.shape, canvas))

    def view_grid(self, puzzle: MazePuzzle) -> np.ndarray:
        """The grid symmetric views transform (`hrm_tui.solving.trace_views`)."""
        return puzzle.grid

    def checkable(self, puzzle: MazePuzzle) -> bool:
        return True

    def text(self, puzzle: MazePuzzle) -> str:
        from puzzles import maze

        return maze.format_maze(puzzle.grid)


# -- ARC --------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ArcPuzzle:
    """One test input of an ARC task, possibly edited by the user."""

    task: object  # puzzles.arc.task.ArcTask
    test_index: int
    grid: np.ndarray  # (H, W) uint8 colours: the test input as shown in the editor
    edited: bool = False

    @property
    def known_output(self) -> np.ndarray | None:
        """The task's answer for this test input, unless the user changed the input."""
        return None if self.edited else self.task.test[self.test_index].output


def arc_cell(colour: int) -> Cell:
    """A tile of ARC colour 0-9; black tiles carry a faint dot so they show on dark themes."""
    return Cell("·" if colour == 0 else " ", palette.arc(colour), str(colour))


def grid_picture(grid: np.ndarray) -> Picture:
    """ARC colours as tiles (digits when colours are off)."""
    return Picture(tuple(tuple(arc_cell(v) for v in row) for row in np.asarray(grid).tolist()), tiles=True)


def arc_canvas_extent(canvas: np.ndarray, fallback: tuple[int, int]) -> tuple[int, int]:
    """The grid size a prediction states with its end-of-grid markers, leniently: the run of
    colour tokens along the first row and column, or `fallback` when there is none."""
    def run(line: np.ndarray) -> int:
        stop = np.flatnonzero(line < 2)
        return int(stop[0]) if stop.size else line.size
    height, width = run(canvas[:, 0]), run(canvas[0])
    return (height, width) if height and width else fallback


def _full_canvas(tokens: np.ndarray) -> np.ndarray:
    """Tokens of any square ARC canvas as the 30x30 one (see `hrm_tui.arc.model.full_canvas`)."""
    from hrm_tui.arc.model import full_canvas

    return full_canvas(tokens, int(round(np.sqrt(np.asarray(tokens).size))))


class ArcKind:
    name: ClassVar[str] = "arc"
    title: ClassVar[str] = "ARC"

    def fit_model(self, puzzle: ArcPuzzle, model):
        """The loaded model on the canvas `hrm solve arc` uses: its own, or for a size-free
        model one as large as the task's grids (`hrm_tui.arc.model.task_canvas`)."""
        from hrm_tui.arc.model import on_canvas, task_canvas

        return on_canvas(model, task_canvas(model.config, self._task(puzzle)))

    def model_input(self, puzzle: ArcPuzzle, config) -> tuple[np.ndarray, int]:
        """The test input in the task's first view: the identity transform, on the puzzle
        embedding row the model learned for this task (row 0 for a task it never saw)."""
        from hrm_tui.arc.model import ArcModelInfo, encode

        info = ArcModelInfo.from_config(config)
        view = info.views_for(puzzle.task.name)[0][0]
        return encode(view.transform.apply(puzzle.grid), info.canvas), view.identifier

    def input_picture(self, puzzle: ArcPuzzle) -> Picture:
        return grid_picture(puzzle.grid)

    def picture(self, puzzle: ArcPuzzle, tokens: np.ndarray | None,
                confidence: np.ndarray | None = None, previous: np.ndarray | None = None) -> Picture:
        """The canvas cropped to the grid size the prediction states (leniently: a malformed
        prediction still shows its colours)."""
        if tokens is None:
            return self.input_picture(puzzle)
        side = int(round(np.sqrt(tokens.size)))
        canvas = _full_canvas(tokens).reshape(30, 30)
        height, width = arc_canvas_extent(canvas, puzzle.grid.shape)
        height, width = min(height, side), min(width, side)
        crop = canvas[:height, :width]
        changed, low = _changed_and_low(crop, _crop_square(previous, height, width),
                                        _crop_square(confidence, height, width))
        rows = []
        for r in range(height):
            row = []
            for c in range(width):
                token = int(crop[r, c])
                cell = arc_cell(token - 2) if token >= 2 else Cell("·", palette.PAD, "·")
                if changed[r, c] or low[r, c]:
                    glyph = "•" if changed[r, c] else "░"
                    cell = Cell(glyph, cell.style + palette.MARK_ON_TILE + _marks(changed[r, c], low[r, c], True),
                                cell.mono)
                row.append(cell)
            rows.append(tuple(row))
        return Picture(tuple(rows), tiles=True)

    def verdict(self, puzzle: ArcPuzzle, tokens: np.ndarray) -> Verdict:
        from puzzles.arc import check_answer, decode_grid

        try:
            grid = decode_grid(_full_canvas(tokens))
        except PuzzleError as exc:
            return Verdict(False, f"not a grid yet: {exc}")
        if puzzle.known_output is None:
            return Verdict(False, f"a {grid.shape[0]}x{grid.shape[1]} grid; no known answer to check")
        verdict = check_answer(puzzle.known_output, grid)
        return Verdict(True, "matches the known answer") if verdict.ok else verdict

    def checkable(self, puzzle: ArcPuzzle) -> bool:
        return puzzle.known_output is not None

    def text(self, puzzle: ArcPuzzle) -> str:
        return "\n".join("".join(str(v) for v in row) for row in puzzle.grid.tolist())

    def attempts(self, model, puzzle: ArcPuzzle):
        """Two attempts for every test input of the task (the shown one as edited), voted over
        every view of the task as `hrm solve arc` answers (`hrm_tui.arc.solving.ArcAnswer`s).
        Runs the model once per view and test input: call it in a worker."""
        from hrm_tui.arc.solving import answer_tasks

        return answer_tasks(model, [self._task(puzzle)])

    @staticmethod
    def _task(puzzle: ArcPuzzle):
        """The task with the shown test input as edited."""
        from puzzles.arc import ArcTask, Pair

        tests = list(puzzle.task.test)
        tests[puzzle.test_index] = Pair(puzzle.grid, puzzle.known_output)
        return ArcTask(puzzle.task.name, puzzle.task.train, tuple(tests))


# -- helpers ----------------------------------------------------------------------------------

def _rows(cells: list[Cell], width: int) -> tuple[tuple[Cell, ...], ...]:
    return tuple(tuple(cells[r:r + width]) for r in range(0, len(cells), width))


def _crop_square(values: np.ndarray | None, height: int, width: int) -> np.ndarray | None:
    """The top-left height x width block of a flat square canvas."""
    if values is None:
        return None
    side = int(round(np.sqrt(values.size)))
    return np.asarray(values).reshape(side, side)[:height, :width]


def _check_seq_len(config, expected: int, what: str) -> None:
    if config.seq_len != expected:
        raise PuzzleError(f"these weights expect {config.seq_len} tokens, not {what} ({expected}); "
                          "choose weights for this puzzle kind")


KINDS = {kind.name: kind for kind in (SudokuKind(), MazeKind(), ArcKind())}
