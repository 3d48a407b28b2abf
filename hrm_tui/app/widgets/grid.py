"""`GridView`: one widget draws every grid in the app (Sudoku digits, maze tiles, ARC colours).

It renders a `Picture` with the Line API in the roomiest layout that fits its space (see
`hrm_tui.app.drawing`), centred. Strips are rebuilt only when the picture, cursor, size,
focus or colour mode change.
"""

from __future__ import annotations

from rich.style import Style
from textual.geometry import Offset, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from hrm_tui.app.drawing import ROOMY, GridLayout, Ink, choose_layout, draw
from hrm_tui.app.kinds import Picture


class GridView(Widget):
    """A grid picture, scaled to fit; optionally with a cursor cell."""

    COMPONENT_CLASSES = {"grid-view--cursor", "grid-view--rule"}
    DEFAULT_CSS = """
    GridView {
        width: auto;
        height: auto;
    }
    GridView > .grid-view--cursor {
        background: $accent;
        color: $text;
        text-style: bold;
    }
    GridView > .grid-view--rule {
        color: $foreground 40%;
    }
    """

    picture: reactive[Picture | None] = reactive(None, layout=True, always_update=True)
    cursor: reactive[tuple[int, int] | None] = reactive(None)

    def __init__(self, picture: Picture | None = None, *, max_room: Size | None = None,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        """`max_room` fixes the space the grid plans for (e.g. thumbnails of ARC pairs)."""
        super().__init__(name=name, id=id, classes=classes)
        self.max_room = max_room
        self._strips: list[Strip] = []
        self._strips_key: tuple | None = None
        self.set_reactive(GridView.picture, picture)

    # -- size ---------------------------------------------------------------------------------
    def _layout_for(self, room: Size) -> GridLayout:
        if self.picture is None:
            return ROOMY
        room = self.max_room or room
        return choose_layout(self.picture, room.width, room.height)

    @property
    def grid_layout(self) -> GridLayout:
        return self._layout_for(self.content_size)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        if self.picture is None:
            return 0
        return self._layout_for(container).size(self.picture)[0]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.picture is None:
            return 0
        return self._layout_for(Size(width, container.height)).size(self.picture)[1]

    def cell_at(self, offset: Offset) -> tuple[int, int] | None:
        """The grid cell under a widget-relative offset (e.g. a mouse event's `offset`)."""
        if self.picture is None:
            return None
        x = offset.x - self.gutter.left - self._indent()
        return self.grid_layout.cell_at(self.picture, x, offset.y - self.gutter.top)

    def _indent(self) -> int:
        strips = self._rendered_strips()
        return max((self.content_size.width - strips[0].cell_length) // 2, 0) if strips else 0

    # -- drawing --------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        strips = self._rendered_strips()
        width = self.content_size.width
        if y >= len(strips):
            return Strip.blank(width, self.rich_style)
        strip = strips[y]
        indent = self._indent()
        if indent:
            strip = Strip.join([Strip.blank(indent, self.rich_style), strip])
        return strip.crop_extend(0, width, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_key = None

    def watch_picture(self) -> None:
        self._strips_key = None

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _rendered_strips(self) -> list[Strip]:
        layout = self.grid_layout
        key = (id(self.picture), self.cursor, layout, self.app.no_color, self.has_focus)
        if key != self._strips_key:
            self._strips_key = key
            ink = Ink(base=self.rich_style,
                      rule=self.get_component_rich_style("grid-view--rule", partial=True),
                      cursor=self._cursor_style(), mono=self.app.no_color)
            lines = draw(self.picture, layout, ink, self.cursor) if self.picture is not None else []
            self._strips = [Strip(segments) for segments in lines]
        return self._strips

    def _cursor_style(self) -> Style:
        if self.has_focus:
            return self.get_component_rich_style("grid-view--cursor", partial=True)
        return Style(reverse=True)
