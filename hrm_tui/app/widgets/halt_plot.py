"""`HaltPlot`: Q-halt and Q-continue (as probabilities) over segments, Line API.

ACT halts at the first segment where q_halt > q_continue; that column is drawn as a dashed
rule, and the segment on screen is highlighted. Clicking a column selects that segment.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from hrm_tui.app import palette
from hrm_tui.app.trajectory import SegmentQ

GUTTER = 4  # "1.0┤"


@dataclass(frozen=True)
class PlotData:
    segments: tuple[SegmentQ, ...] = ()
    max_segments: int = 16
    halted_at: int = 0
    current: int = 0  # segment on screen, 0 for none


class HaltPlot(Widget):
    COMPONENT_CLASSES = {"halt-plot--axis", "halt-plot--current"}
    DEFAULT_CSS = """
    HaltPlot {
        height: 7;
    }
    HaltPlot > .halt-plot--axis {
        color: $foreground 50%;
    }
    HaltPlot > .halt-plot--current {
        background: $primary 35%;
        text-style: bold;
    }
    """

    data: reactive[PlotData] = reactive(PlotData, always_update=True)

    @dataclass
    class SegmentSelected(Message):
        segment: int

    def _column_width(self) -> int:
        room = max(self.content_size.width - GUTTER, 1)
        return max(1, min(4, room // max(self.data.max_segments, 1)))

    def _x(self, segment: int) -> int:
        width = self._column_width()
        return GUTTER + (segment - 1) * width + width // 2

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        data = self.data
        base = self.rich_style
        axis = base + self.get_component_rich_style("halt-plot--axis", partial=True)
        current = self.get_component_rich_style("halt-plot--current")
        plot_rows = max(height - 1, 2)
        col_w = self._column_width()
        chars = [" "] * width
        styles = [base] * width

        def put(x: int, char: str, style: Style) -> None:
            if 0 <= x < width:
                chars[x], styles[x] = char, style

        def style_at(x: int) -> Style:  # columns of late segments fall off a narrow plot
            return styles[x] if 0 <= x < width else base

        # columns: highlight the current segment, dashed rule where ACT halts
        for seg in range(1, data.max_segments + 1):
            left = GUTTER + (seg - 1) * col_w
            if seg == data.current and y < plot_rows:
                for x in range(left, min(left + col_w, width)):
                    styles[x] = base + current
            if seg == data.halted_at and y < plot_rows:
                put(self._x(seg), "┊", style_at(self._x(seg)) + palette.HALT_MARK)
        if y < plot_rows:
            label = {0: "1.0┤", plot_rows - 1: "  0┤"}.get(y, "0.5┤" if y == (plot_rows - 1) // 2 else "   │")
            for x, ch in enumerate(label):
                put(x, ch, axis)
            for q in data.segments:
                halt_row = round((1 - q.q_halt) * (plot_rows - 1))
                cont_row = round((1 - q.q_continue) * (plot_rows - 1))
                x = self._x(q.segment)
                keep = style_at(x)
                if halt_row == y and cont_row == y:
                    put(x, "◉", keep + palette.HALT)
                elif halt_row == y:
                    put(x, "●", keep + palette.HALT)
                elif cont_row == y:
                    put(x, "○", keep + palette.CONTINUE)
        elif y == plot_rows:
            for x, ch in enumerate("   └"):
                put(x, ch, axis)
            for x in range(GUTTER, width):
                put(x, "─", axis)
            step = 1 if col_w >= 3 else (2 if col_w == 2 else 5)
            for seg in range(1, data.max_segments + 1):
                if seg == 1 or seg % step == 0 or seg == data.halted_at:
                    text = str(seg)
                    style = axis + palette.HALT if seg == data.halted_at else axis
                    if seg == data.current:
                        style += current
                    start = self._x(seg) - (len(text) - 1)
                    for i, ch in enumerate(text):
                        put(start + i, ch, style)
        segments = [Segment(ch, st) for ch, st in zip(chars, styles)]
        return Strip(segments, width).simplify()

    def on_click(self, event: events.Click) -> None:
        x = event.offset.x - self.gutter.left - GUTTER
        if x < 0:
            return
        segment = x // self._column_width() + 1
        if 1 <= segment <= len(self.data.segments):
            self.post_message(self.SegmentSelected(segment))
