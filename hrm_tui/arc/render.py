"""ARC grids for the terminal (rich): demonstration pairs, test input, attempts and verdicts.

Each cell is its digit on the ARC colour, so the picture survives NO_COLOR as digits.
"""

from __future__ import annotations

import numpy as np
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from hrm_tui.app import palette


def grid_text(grid: np.ndarray) -> Text:
    text = Text()
    for r, row in enumerate(np.asarray(grid).tolist()):
        if r:
            text.append("\n")
        for colour in row:
            text.append(f"{colour} ", style=palette.arc(colour))
    return text


def _row(*cells: tuple[str, RenderableType]) -> Table:
    """Titled grids side by side."""
    table = Table.grid(padding=(0, 2))
    for _ in cells:
        table.add_column(vertical="top")
    table.add_row(*(Group(Text(title, style="bold"), body) for title, body in cells))
    return table


def render_task(task) -> RenderableType:
    rows = [_row((f"demo {i} input", grid_text(p.input)), ("→", Text("")), (f"demo {i} output", grid_text(p.output)))
            for i, p in enumerate(task.train, start=1)]
    return Panel(Group(*rows), title=f"task {task.name}", title_align="left")


def render_answers(task, answers) -> RenderableType:
    """The task, then each test input with its two attempts and (when known) the verdict."""
    parts: list[RenderableType] = [render_task(task)]
    for answer in answers:
        cells = [(f"test {answer.index + 1} input", grid_text(answer.input))]
        cells += [(f"attempt {k}", grid_text(grid)) for k, grid in enumerate(answer.attempts, start=1)]
        if answer.expected is not None:
            cells.append(("expected", grid_text(answer.expected)))
        source = "learned task views" if answer.learned else "unseen task: blank embedding, 8 symmetries"
        note = (f"{answer.voted} distinct answer{'s' if answer.voted != 1 else ''} from {answer.views} views "
                f"({source}), {answer.segments} segments")
        if answer.views == 0:
            note = "the test input does not fit this model's canvas"
        verdict = Text(note, style="dim")
        if answer.correct is not None:
            verdict = Text.assemble(("solved" if answer.correct else "not solved",
                                     "bold green" if answer.correct else "bold red"), "  ", verdict)
        parts.append(Group(_row(*cells), verdict))
    return Group(*parts)
