"""Laying a `Picture` out as lines of rich `Segment`s: shared by `GridView` and the recorder.

Three layouts, roomiest first:

- roomy: two columns per cell (" 5", or a two-character colour tile), box rules "│" / "─";
- tight: one column per cell;
- pixels: colour tiles only, two grid rows per line with half blocks ("▀").

Textual-free: sizes are (width, height) tuples and styles are rich styles.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from rich.segment import Segment
from rich.style import Style

from hrm_tui.app.kinds import Cell, Picture

BLOCKS = "█▓░"  # glyphs that fill a whole cell: repeated across it rather than padded


@dataclass(frozen=True)
class GridLayout:
    """How a picture maps to terminal cells."""

    cell_width: int  # 2 (roomy) or 1
    pixels: bool  # two rows per line (half blocks); tiles only

    def size(self, picture: Picture) -> tuple[int, int]:
        """(width, height) in terminal cells."""
        if self.pixels:
            return picture.cols, ceil(picture.rows / 2)
        col_rules = _rules(picture.cols, picture.box)
        row_rules = _rules(picture.rows, picture.box)
        pad = 1 if self.cell_width == 2 and not picture.tiles else 0
        return (picture.cols * self.cell_width + col_rules * self.cell_width + pad,
                picture.rows + row_rules)

    def cell_at(self, picture: Picture, x: int, y: int) -> tuple[int, int] | None:
        """The (row, col) drawn at a position, or None (a rule, or outside)."""
        if self.pixels:
            row, col = y * 2, x
        else:
            col, in_rule_x = _index(x // self.cell_width, picture.box)
            row, in_rule_y = _index(y, picture.box)
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


def choose_layout(picture: Picture, width: int, height: int) -> GridLayout:
    """The roomiest layout that fits; pixels (or tight) when nothing does."""
    candidates = (ROOMY, TIGHT, PIXELS) if picture.tiles else (ROOMY, TIGHT)
    for layout in candidates:
        w, h = layout.size(picture)
        if w <= width and h <= height:
            return layout
    return candidates[-1]


@dataclass(frozen=True)
class Ink:
    """The styles a drawing needs besides the cells' own."""

    base: Style = Style()  # the background the grid sits on
    rule: Style = Style(dim=True)
    cursor: Style = Style(reverse=True)
    mono: bool = False  # colours are off: draw tiles' `mono` glyphs


def draw(picture: Picture, layout: GridLayout, ink: Ink = Ink(),
         cursor: tuple[int, int] | None = None) -> list[list[Segment]]:
    """The picture as lines of segments."""
    if not picture.cells:
        return []
    if layout.pixels:
        return _pixel_lines(picture, ink, cursor)
    return _cell_lines(picture, layout.cell_width, ink, cursor)


def _cell_lines(picture: Picture, cell_width: int, ink: Ink, cursor) -> list[list[Segment]]:
    rule = ink.base + ink.rule
    box = picture.box
    lines = []
    for r, row in enumerate(picture.cells):
        if box and r and r % box == 0:
            lines.append([Segment(_rule_text(picture, cell_width), rule)])
        segments: list[Segment] = []
        for c, cell in enumerate(row):
            if box and c and c % box == 0:
                segments.append(Segment(" │"[-cell_width:], rule))
            style = ink.base + cell.style
            if (r, c) == cursor:
                style += ink.cursor
            segments.append(Segment(_cell_text(cell, cell_width, picture.tiles, ink.mono), style))
        if cell_width == 2 and not picture.tiles:
            segments.append(Segment(" ", ink.base))
        lines.append(segments)
    return lines


def _rule_text(picture: Picture, cell_width: int) -> str:
    parts = []
    for c in range(picture.cols):
        if c and c % picture.box == 0:
            parts.append("─" * (cell_width - 1) + "┼")
        parts.append("─" * cell_width)
    if cell_width == 2 and not picture.tiles:
        parts.append("─")
    return "".join(parts)


def _pixel_lines(picture: Picture, ink: Ink, cursor) -> list[list[Segment]]:
    lines = []
    for top_row in range(0, picture.rows, 2):
        segments = []
        for c in range(picture.cols):
            top = picture.cells[top_row][c].style.bgcolor
            bottom = picture.cells[top_row + 1][c].style.bgcolor if top_row + 1 < picture.rows else None
            if cursor == (top_row, c):
                top = ink.cursor.bgcolor
            elif cursor == (top_row + 1, c):
                bottom = ink.cursor.bgcolor
            segments.append(_half_block(top, bottom, ink.base))
        lines.append(segments)
    return lines


def _cell_text(cell: Cell, width: int, tiles: bool, mono: bool) -> str:
    glyph = cell.mono if mono and cell.mono is not None else cell.glyph
    if tiles and glyph in BLOCKS:
        return glyph * width
    return glyph.rjust(width)


def _half_block(top, bottom, base: Style) -> Segment:
    if top is None and bottom is None:
        return Segment(" ", base)
    if top is None:
        return Segment("▄", base + Style(color=bottom))
    return Segment("▀", base + Style(color=top, bgcolor=bottom))
