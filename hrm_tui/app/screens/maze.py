"""The maze screen: draw with keys or the mouse, generate at a size, open maze files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hrm_tui.app.kinds import MazePuzzle
from hrm_tui.app.screens.dialogs import ChoiceScreen
from hrm_tui.app.screens.puzzle import PuzzleScreen
from hrm_tui.app.widgets.editors import MazeEditor

EDIT_KEYS = """\
Arrows or **h j k l** move; **x** toggles a wall, **#** sets one, **.**, **Delete** or
**Backspace** open a cell; **s** and **g** put the start and the goal under the cursor. With the
mouse, drag to draw walls (starting on a wall erases) and drag **S** or **G** to move them.
**n** generates a maze or gives a blank field to draw on; **u** or **ctrl+z** undoes."""

BLANK_SIZES = (11, 20, 30)
FIRST_MAZE_SEED = 0


def first_maze() -> MazePuzzle:
    """The maze on screen at start: small, and the same every time."""
    from puzzles import maze

    grid, solution = maze.generate_spec(np.random.default_rng(FIRST_MAZE_SEED), maze.SETTINGS["small"])
    return MazePuzzle(grid, solution)


def puzzle_from_grid(grid: np.ndarray) -> MazePuzzle:
    """A maze as read from text; a marked path becomes its known solution."""
    from puzzles.maze.grid import OPEN, PATH

    if (grid == PATH).any():
        return MazePuzzle(np.where(grid == PATH, OPEN, grid).astype(np.uint8), grid)
    return MazePuzzle(grid)


def largest_solved_side(metrics: dict) -> int | None:
    """The largest carved n x n maze set the weights' own evaluation (metrics.json) solves at
    least half of; None when the weights carry no maze evaluation."""
    results = (metrics.get("evaluation") or {}).get("results") or []
    sides = []
    for result in results:
        name = str(result.get("set", ""))
        side, _, rest = name.partition("x")
        if side.isdigit() and rest.isdigit():  # "9x9"; "30x30 hard" and scattered sets are other kinds
            sides.append((int(side), result.get("exact_accuracy", 0.0)))
    if not sides:
        return None
    solved = [side for side, exact in sides if exact >= 0.5]
    return max(solved, default=0)


class MazeScreen(PuzzleScreen):
    KIND = "maze"
    EDIT_KEYS = EDIT_KEYS
    open_hint = "Mazes as text: '#' wall, ' ' open, 'S' start, 'G' goal; blank lines separate mazes."
    paste_hint = "A maze as text: equal-width lines of '#', ' ', 'S', 'G' (and 'o' for a path)."

    def make_editor(self) -> MazeEditor:
        return MazeEditor(first_maze())

    def solve_views(self):
        """A maze's default views, as `hrm solve` tries them: all 8 on mazes of at most 400
        cells, the route with the fewest steps of those that follow the rules answers."""
        from hrm_tui.solving import views_for

        plan = views_for("maze", None)
        return plan if plan.count_for(self.editor.puzzle.grid) > 1 else None

    def action_clear(self) -> None:
        height, width = self.editor.puzzle.grid.shape
        self.load_puzzle(MazePuzzle.blank(height, width), "Cleared: draw walls with x or the mouse (u undoes)")

    def action_new(self) -> None:
        from puzzles import maze

        options = [(f"gen:{name}", f"generate {name:<9} {spec.height}x{spec.width}, path ≥ {spec.min_path} steps"
                    + self._beyond(max(spec.height, spec.width), short=True))
                   for name, spec in maze.SETTINGS.items()]
        options = self._within_reach() + options
        options += [(f"blank:{size}", f"blank      {size}x{size}, draw your own") for size in BLANK_SIZES]
        self.app.push_screen(ChoiceScreen("New maze", options), self._new_choice)

    def _new_choice(self, choice: str | None) -> None:
        if choice is None:
            return
        what, _, value = choice.partition(":")
        if what == "side":
            self.generate(lambda: self._maze_of_side(int(value)), f"a {value}x{value} maze")
            return
        if what == "blank":
            size = int(value)
            self.load_puzzle(MazePuzzle.blank(size, size), f"Blank {size}x{size}: draw walls with x or the mouse")
            return

        def make():
            from puzzles import maze

            grid, solution = maze.generate_spec(np.random.default_rng(), maze.SETTINGS[value])
            return MazePuzzle(grid, solution), (f"New {value} maze, shortest path {maze.shortest_length(grid)} steps"
                                                + self._beyond(max(grid.shape)))
        self.generate(make, f"a {value} maze")

    def _within_reach(self) -> list[tuple[str, str]]:
        """A generate option at the largest size the loaded model's evaluation solves, when
        that is smaller than every preset: one maze a user can watch it solve."""
        from puzzles import maze

        solved = largest_solved_side(self.loaded.metrics) if self.loaded else None
        smallest = min(min(spec.height, spec.width) for spec in maze.SETTINGS.values())
        if not solved or solved < maze.MIN_SIZE or solved >= smallest:
            return []
        return [(f"side:{solved}", f"generate {'in reach':<9} {solved}x{solved}, the largest this model solves")]

    @staticmethod
    def _maze_of_side(side: int):
        from puzzles import maze

        spec = maze.MazeSpec(side, side, min_path=maze.default_min_path(side))
        grid, solution = maze.generate_spec(np.random.default_rng(), spec)
        return MazePuzzle(grid, solution), (f"New {side}x{side} maze, shortest path {maze.shortest_length(grid)} steps: "
                                            "within what this model's card says it solves")

    def _beyond(self, side: int, short: bool = False) -> str:
        """A note when the loaded model's own evaluation says it does not solve mazes this big."""
        solved = largest_solved_side(self.loaded.metrics) if self.loaded else None
        if solved is None or side <= solved:
            return ""
        if short:
            return " (beyond this model)"
        reach = f"mazes up to {solved}x{solved}" if solved else "none of the mazes it was evaluated on"
        return f". Beyond this model: its card says it solves {reach}; watch where it goes wrong"

    def _model_loaded(self, loaded) -> None:
        super()._model_loaded(loaded)
        note = self._beyond(max(self.editor.puzzle.grid.shape))
        if note:
            self.notify(note.lstrip(". "), timeout=6)

    def open_path(self, path: Path) -> None:
        from puzzles import maze

        grids = maze.read_file(path)
        if len(grids) == 1:
            self.load_puzzle(puzzle_from_grid(grids[0]), f"Opened {path.name}")
            return

        def picked(choice: str | None) -> None:
            if choice is not None:
                index = int(choice)
                self.load_puzzle(puzzle_from_grid(grids[index]),
                                 f"Opened {path.name}, maze {index + 1} of {len(grids)}")
        options = [(str(i), f"{i + 1:>4}  {g.shape[0]}x{g.shape[1]}") for i, g in enumerate(grids)]
        self.app.push_screen(ChoiceScreen(f"{path.name}: {len(grids)} mazes", options), picked)

    def load_text(self, text: str) -> None:
        from puzzles import maze

        self.load_puzzle(puzzle_from_grid(maze.parse(text)), "Pasted a maze")
