"""Colours and text attributes of grid cells, shared by the app and the recorder.

Every look is a rich `Style` so the same table drives Textual strips, asciinema frames and
SVG. Marks that carry meaning (conflict, changed, low confidence) also use an attribute
(reverse, underline, dim), so they survive NO_COLOR, where Textual drops the colours.
"""

from __future__ import annotations

from rich.style import Style

# The ARC-AGI palette as the official viewer draws it, colour 0 to 9.
ARC_COLOURS = (
    "#000000", "#0074d9", "#ff4136", "#2ecc40", "#ffdc00",
    "#aaaaaa", "#f012be", "#ff851b", "#7fdbff", "#870c25",
)

GIVEN = Style(bold=True)
USER = Style(color="#5fafff", bold=True, italic=True)
BLANK = Style(dim=True)
PREDICTED = Style(color="#87d7af")
ECHO = Style(dim=True)  # a given repeated in a decoded grid
CONFLICT = Style(color="#ffffff", bgcolor="#af0000", bold=True, reverse=False)
WRONG = Style(color="#ff5f5f", bold=True, underline=True)
CHANGED = Style(color="#ffd75f", bold=True, underline=True)
LOW_CONFIDENCE = Style(dim=True)

WALL = Style(bgcolor="#6c6c6c")
OPEN = Style()
START = Style(color="#000000", bgcolor="#5fd75f", bold=True)
GOAL = Style(color="#000000", bgcolor="#ff5f5f", bold=True)
PATH = Style(color="#000000", bgcolor="#ffd75f")
PAD = Style(color="#585858", dim=True)
CHANGED_TILE = Style(underline=True, bold=True)

HALT = Style(color="#ff5f87", bold=True)
CONTINUE = Style(color="#5fafff", bold=True)
HALT_MARK = Style(color="#ff5f87")
OK = Style(color="#5fd75f", bold=True)
FAIL = Style(color="#ff5f5f", bold=True)


MARK_ON_TILE = Style(color="#808080")  # glyphs drawn on colour tiles (changed, unsure)


def arc(colour: int) -> Style:
    """A solid tile of ARC colour 0-9 (a glyph on black shows dark grey)."""
    return Style(bgcolor=ARC_COLOURS[colour], color="#4e4e4e")
