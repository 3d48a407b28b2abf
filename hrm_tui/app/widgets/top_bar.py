"""`TopBar`: the puzzle kinds as clickable tabs, and which weights are loaded."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

TABS = (("sudoku", "Sudoku", "F2"), ("maze", "Maze", "F3"), ("arc", "ARC", "F4"))


class TopBar(Widget):
    DEFAULT_CSS = """
    TopBar {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    model_label: reactive[str] = reactive("")

    @dataclass
    class KindSelected(Message):
        kind: str

    def __init__(self, active: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = active

    def _tab_spans(self) -> list[tuple[int, int, str]]:
        spans, x = [], len(" HRM ")
        for kind, title, key in TABS:
            width = len(f"  {title} {key} ")  # as drawn by render()
            spans.append((x, x + width, kind))
            x += width
        return spans

    def render(self) -> Text:
        text = Text(" HRM ", style="bold reverse")
        for kind, title, key in TABS:
            active = kind == self.active
            text.append(" ")
            text.append(f" {title} ", style="bold reverse" if active else "")
            text.append(f"{key} ", style="dim")
        label = Text(self.model_label, style="italic", overflow="ellipsis", no_wrap=True)
        room = self.content_size.width - text.cell_len - 2
        if room > 8:
            label.truncate(room, overflow="ellipsis")
            text.append(" " * max(room - label.cell_len, 0) + " ")
            text.append_text(label)
        return text

    def on_click(self, event: events.Click) -> None:
        x = event.offset.x - self.gutter.left
        for start, end, kind in self._tab_spans():
            if start <= x < end and kind != self.active:
                self.post_message(self.KindSelected(kind))
