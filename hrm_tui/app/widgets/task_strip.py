"""`TaskStrip`: an ARC task's demonstration pairs, input -> output, side by side."""

from __future__ import annotations

from textual.containers import Horizontal, HorizontalScroll, Vertical
from textual.geometry import Size
from textual.widgets import Label

from hrm_tui.app.kinds import grid_picture
from hrm_tui.app.widgets.grid import GridView

THUMBNAIL = Size(24, 7)  # room for each grid: small grids stay roomy, big ones turn to pixels


class TaskStrip(HorizontalScroll):
    DEFAULT_CSS = """
    TaskStrip {
        height: auto;
        max-height: 14;
        border: round $primary 50%;
        padding: 0 1;
    }
    TaskStrip > .pair {
        width: auto;
        height: auto;
        margin-right: 2;
    }
    TaskStrip .pair-grids {
        width: auto;
        height: auto;
    }
    TaskStrip .arrow {
        width: 3;
        height: 100%;
        content-align: center middle;
    }
    TaskStrip .pair-title {
        color: $foreground 60%;
    }
    """

    def show_task(self, task) -> None:
        self.border_title = f"{task.name}: {len(task.train)} demonstration pairs (t hides)"
        self.remove_children()
        pairs = []
        for number, pair in enumerate(task.train, start=1):
            pairs.append(Vertical(
                Label(f"demo {number}  {_size(pair.input)} → {_size(pair.output)}", classes="pair-title"),
                Horizontal(GridView(grid_picture(pair.input), max_room=THUMBNAIL),
                           Label("→", classes="arrow"),
                           GridView(grid_picture(pair.output), max_room=THUMBNAIL),
                           classes="pair-grids"),
                classes="pair"))
        self.mount_all(pairs)


def _size(grid) -> str:
    return f"{grid.shape[0]}x{grid.shape[1]}"
