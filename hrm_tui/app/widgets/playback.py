"""`PlaybackBar`: one line with play state, position, a clickable scrub track, speed and modes."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from hrm_tui.app import palette


@dataclass(frozen=True)
class PlaybackState:
    position: int = 0  # frame index
    frames: int = 0  # frames traced so far
    label: str = "no solve yet"  # where the position is, e.g. "segment 3/16"
    halt_frame: int = -1  # frame index where ACT halts, -1 if it has not
    playing: bool = False
    running: bool = False  # the model is still producing frames
    speed: float = 4.0
    stop_at_halt: bool = True
    max_segments: int = 16
    fine: bool = False


class PlaybackBar(Widget):
    DEFAULT_CSS = """
    PlaybackBar {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    """

    state: reactive[PlaybackState] = reactive(PlaybackState, always_update=True)

    @dataclass
    class Seek(Message):
        position: int

    def _parts(self) -> tuple[Text, Text]:
        s = self.state
        left = Text()
        left.append("▶ " if s.playing else "❚❚", style="bold")
        left.append(f" {s.label} ")
        right = Text()
        right.append(f" {s.speed:g}/s", style="bold")
        right.append(" · ")
        right.append("stop at halt" if s.stop_at_halt else f"run all {s.max_segments}")
        if s.fine:
            right.append(" · inner steps")
        if s.running:
            right.append(" · thinking…", style="italic")
        return left, right

    def _track_span(self) -> tuple[int, int]:
        left, right = self._parts()
        start = left.cell_len
        return start, max(self.content_size.width - right.cell_len - start, 0)

    def render(self) -> Text:
        s = self.state
        left, right = self._parts()
        start, width = self._track_span()
        track = Text()
        if width > 0:
            total = max(s.frames, 1)
            filled = round((s.position + 1) / total * width) if s.frames else 0
            halt_x = int(s.halt_frame / total * width) if s.halt_frame >= 0 else -1
            for x in range(width):
                if x == halt_x:
                    track.append("┃", style=palette.HALT_MARK)
                elif x == filled - 1:
                    track.append("●", style="bold")
                elif x < filled:
                    track.append("━", style="bold")
                else:
                    track.append("─", style="dim")
        return Text.assemble(left, track, right)

    def on_click(self, event: events.Click) -> None:
        start, width = self._track_span()
        x = event.offset.x - self.gutter.left - start
        if width <= 0 or not 0 <= x < width or not self.state.frames:
            return
        self.post_message(self.Seek(min(int(x / width * self.state.frames), self.state.frames - 1)))
