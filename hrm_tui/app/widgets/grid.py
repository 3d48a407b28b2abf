"""`GridView`: one widget draws every grid in the app (Sudoku digits, maze tiles, ARC colours).

It renders a `Picture` with the Line API and picks the roomiest layout that fits:

- roomy: two columns per cell (" 5", or a two-character colour tile), box rules as "│"/"─";
- tight: one column per cell;
- pixels: colour tiles only, two grid rows per terminal line with half blocks ("▀").

Strips are rebuilt only when the picture, cursor, size or colour mode change.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Offset, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from hrm_tui.app.kinds import Cell, Picture

BLOCKS = "█▓░"


@dataclass(frozen=True)
class GridLayout:
    """How a picture maps to terminal cells."""

    cell_width: int  # 2 (roomy) or 1
    pixels: bool  # two rows per line (half blocks); tiles only

    def size(self, picture: Picture) -> Size:
        if self.pixels:
            return Size(picture.cols, ceil(picture.rows / 2))
        col_rules = _rules(picture.cols, picture.box)
        row_rules = _rules(picture.rows, picture.box)
        pad = 1 if self.cell_width == 2 and not picture.tiles else 0
        return Size(picture.cols * self.cell_width + col_rules * self.cell_width + pad,
                    picture.rows + row_rules)

    def cell_at(self, picture: Picture, offset: Offset) -> tuple[int, int] | None:
        """The (row, col) drawn at a content offset, or None (a rule, or outside)."""
        x, y = offset
        if self.pixels:
            row, col = y * 2, x
        else:
            unit = picture.box or 0
            col, in_rule_x = _index(x // self.cell_width, unit)
            row, in_rule_y = _index(y, unit)
            if in_rule_x or in_rule_y:
                return None
        if 0 <= row < picture.rows and 0 <= col < picture.cols:
            return row, col
        return None


ROOMY = GridLayout(2, False)
TIGHT = GridLayout(1, False)
PIXELS = GridLayout(1, True)


def _rules(count: int, box: int) -> int:
    return (count - 1) // box if box else 0


def _index(position: int, box: int) -> tuple[int, bool]:
    """Cell index along one axis for a drawn position, and whether it hits a rule."""
    if not box:
        return position, False
    block, within = divmod(position, box + 1)
    return block * box + within, within == box


def choose_layout(picture: Picture, room: Size) -> GridLayout:
    candidates = (ROOMY, TIGHT, PIXELS) if picture.tiles else (ROOMY, TIGHT)
    for layout in candidates:
        size = layout.size(picture)
        if size.width <= room.width and size.height <= room.height:
            return layout
    return candidates[-1]


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
    def _room(self, room: Size) -> Size:
        return room if self.max_room is None else self.max_room

    @property
    def grid_layout(self) -> GridLayout:
        if self.picture is None:
            return ROOMY
        return choose_layout(self.picture, self._room(self.content_size))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        if self.picture is None:
            return 0
        return choose_layout(self.picture, self._room(container)).size(self.picture).width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.picture is None:
            return 0
        room = self._room(Size(width, container.height))
        return choose_layout(self.picture, room).size(self.picture).height

    def cell_at(self, offset: Offset) -> tuple[int, int] | None:
        """The grid cell under a widget-relative offset (e.g. a mouse event's `offset`)."""
        if self.picture is None:
            return None
        gutter = self.gutter
        return self.grid_layout.cell_at(self.picture, Offset(offset.x - gutter.left, offset.y - gutter.top))

    # -- drawing --------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        strips = self._rendered_strips()
        width = self.content_size.width
        if y >= len(strips):
            return Strip.blank(width, self.rich_style)
        strip = strips[y]
        indent = max((width - strip.cell_length) // 2, 0)  # centred in the space it has
        if indent:
            strip = Strip.join([Strip.blank(indent, self.rich_style), strip])
        return strip.crop_extend(0, width, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_key = None

    def _rendered_strips(self) -> list[Strip]:
        picture = self.picture
        layout = self.grid_layout
        key = (id(picture), self.cursor, layout, self.app.no_color, self.has_focus)
        if key == self._strips_key:
            return self._strips
        self._strips_key = key
        if picture is None or not picture.cells:
            self._strips = []
        elif layout.pixels:
            self._strips = self._pixel_strips(picture)
        else:
            self._strips = self._cell_strips(picture, layout.cell_width)
        return self._strips

    def _cursor_style(self) -> Style:
        if self.has_focus:
            return self.get_component_rich_style("grid-view--cursor", partial=True)
        return Style(reverse=True)

    def _cell_strips(self, picture: Picture, cell_width: int) -> list[Strip]:
        base = self.rich_style
        rule = base + self.get_component_rich_style("grid-view--rule", partial=True)
        mono = self.app.no_color
        cursor_style = self._cursor_style()
        box = picture.box
        strips = []
        for r, row in enumerate(picture.cells):
            if box and r and r % box == 0:
                strips.append(self._rule_strip(picture, cell_width, rule))
            segments: list[Segment] = []
            for c, cell in enumerate(row):
                if box and c and c % box == 0:
                    segments.append(Segment(" │"[-cell_width:].rjust(cell_width), rule))
                style = base + cell.style
                if (r, c) == self.cursor:
                    style += cursor_style
                segments.append(Segment(_cell_text(cell, cell_width, picture.tiles, mono), style))
            if cell_width == 2 and not picture.tiles:
                segments.append(Segment(" ", base))
            strips.append(Strip(segments))
        return strips

    def _rule_strip(self, picture: Picture, cell_width: int, rule: Style) -> Strip:
        parts = []
        for c in range(picture.cols):
            if c and c % picture.box == 0:
                parts.append("─" * (cell_width - 1) + "┼")
            parts.append("─" * cell_width)
        if cell_width == 2 and not picture.tiles:
            parts.append("─")
        return Strip([Segment("".join(parts), rule)])

    def _pixel_strips(self, picture: Picture) -> list[Strip]:
        base = self.rich_style
        cursor_colour = self._cursor_style().bgcolor
        strips = []
        for top_row in range(0, picture.rows, 2):
            segments = []
            for c in range(picture.cols):
                top = _tile_colour(picture.cells[top_row][c])
                bottom = _tile_colour(picture.cells[top_row + 1][c]) if top_row + 1 < picture.rows else None
                if self.cursor == (top_row, c):
                    top = cursor_colour
                elif self.cursor == (top_row + 1, c):
                    bottom = cursor_colour
                segments.append(_half_block(top, bottom, base))
            strips.append(Strip(segments))
        return strips

    def watch_picture(self) -> None:
        self._strips_key = None

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


def _cell_text(cell: Cell, width: int, tiles: bool, mono: bool) -> str:
    glyph = cell.mono if mono and cell.mono is not None else cell.glyph
    if tiles and glyph in BLOCKS:
        return glyph * width
    return glyph.rjust(width)


def _tile_colour(cell: Cell):
    return cell.style.bgcolor


def _half_block(top, bottom, base: Style) -> Segment:
    if top is None and bottom is None:
        return Segment(" ", base)
    if top is None:
        return Segment("▄", base + Style(color=bottom))
    return Segment("▀", base + Style(color=top, bgcolor=bottom))
