"""Export a solve as an animation people can play without hrm-tui.

`record(records, kind, puzzle, path)` writes one frame per ACT segment, drawn with the app's
own pictures (`hrm_tui.app.kinds`): the puzzle, the H and L decodes, the Q values and the
verdict. The format follows the file name:

- `.svg`: an animated SVG (SMIL), which browsers and GitHub READMEs play as an image;
- `.cast`: an asciinema v2 recording (`asciinema play FILE`, or the web player).

Textual-free: rich draws the ANSI text and the SVG is written by hand.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Sequence

import numpy as np
from rich.color import Color
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from hrm_tui.app import palette
from hrm_tui.app.drawing import ROOMY, draw
from hrm_tui.app.kinds import KINDS, ArcPuzzle, MazePuzzle, Picture, SudokuPuzzle
from hrm_tui.app.trajectory import Trajectory

FORMATS = (".svg", ".cast")
SECONDS_PER_SEGMENT = 0.8
HOLD_SECONDS = 3.0  # the halting segment and the last frame stay up this long
GAP = 3  # columns between panels
FOREGROUND, BACKGROUND = "#d0d0d0", "#1e1e1e"
CHAR_W, LINE_H, FONT_SIZE, MARGIN = 8.4, 17.0, 14, 10.0

Line = list[Segment]


@dataclass(frozen=True)
class Frame:
    lines: list[Line]
    seconds: float


def record(records: Sequence, kind: str, puzzle, path: Path | str, *, row: int = 0,
           seconds_per_segment: float = SECONDS_PER_SEGMENT) -> Path:
    """Write the animation of `records` (`models.act.SegmentRecord`s of one solve) to `path`.

    `puzzle` is the input: the app's puzzle value, or plain data (a Sudoku line or board, a
    maze's text or grid, an ARC grid). `row` picks the batch row of the records.
    """
    path = Path(path)
    if path.suffix not in FORMATS:
        raise ValueError(f"cannot record to {path.name}: use a .svg or .cast file name")
    if not records:
        raise ValueError("nothing to record: the trace has no segments")
    frames = render_frames(records, kind, as_puzzle(kind, puzzle), row, seconds_per_segment)
    text = write_svg(frames) if path.suffix == ".svg" else write_cast(frames, title=f"hrm {kind}")
    path.write_text(text, encoding="utf-8")
    return path


def as_puzzle(kind: str, value):
    """The app's puzzle value for plain input data."""
    if kind not in KINDS:
        raise ValueError(f"unknown puzzle kind {kind!r}; choose one of {', '.join(KINDS)}")
    if isinstance(value, (SudokuPuzzle, MazePuzzle, ArcPuzzle)):
        return value
    if kind == "sudoku":
        from puzzles import sudoku

        board = sudoku.parse(value) if isinstance(value, str) else sudoku.as_board(value)
        return SudokuPuzzle.from_board(board)
    if kind == "maze":
        from puzzles import maze

        return MazePuzzle(maze.parse(value) if isinstance(value, str) else np.asarray(value, np.uint8))
    from puzzles.arc.task import ArcTask, Pair

    grid = np.asarray(value, np.uint8)
    return ArcPuzzle(ArcTask("input", (), (Pair(grid, None),)), 0, grid)


# -- frames -------------------------------------------------------------------------------------

def render_frames(records: Sequence, kind: str, puzzle, row: int = 0,
                  seconds_per_segment: float = SECONDS_PER_SEGMENT) -> list[Frame]:
    board = KINDS[kind]
    trajectory = Trajectory(len(records), row=row)
    for rec in records:
        trajectory.add(rec)
    trajectory.finished = True
    total = len(trajectory.coarse)
    frames = []
    for i, frame in enumerate(trajectory.coarse):
        previous = trajectory.coarse[i - 1] if i else None
        panels = [
            ("Puzzle", board.input_picture(puzzle)),
            ("H · answer", board.picture(puzzle, frame.h_tokens, frame.h_confidence,
                                         previous.h_tokens if previous else None)),
            ("L · working", board.picture(puzzle, frame.l_tokens, frame.l_confidence,
                                          previous.l_tokens if previous else None)),
        ]
        q = trajectory.segments[i]
        header = Text.assemble(("hrm", "bold"), f" · {board.title} · segment {frame.segment} of {total}")
        if trajectory.halted_at:
            header.append(f" · ACT halts at {trajectory.halted_at}", style=palette.HALT)
        decision = Text.assemble(
            ("● ", palette.HALT), f"q_halt {q.q_halt:.2f}   ", ("○ ", palette.CONTINUE),
            f"q_continue {q.q_continue:.2f}   → ", ("halt" if q.would_halt else "continue", "bold"))
        verdict = board.verdict(puzzle, frame.h_tokens)
        checkable = board.checkable(puzzle)
        mark = ("✓", palette.OK) if verdict.ok else (("✗", palette.FAIL) if checkable else ("?", Style()))
        outcome = Text.assemble("H: ", (mark[0] + " ", mark[1]), verdict.message)
        lines = [_text_line(header), []] + _side_by_side(panels) + [[], _text_line(decision), _text_line(outcome)]
        hold = frame.segment == trajectory.halted_at or i == total - 1
        frames.append(Frame(lines, HOLD_SECONDS if hold else seconds_per_segment))
    return frames


def _text_line(text: Text) -> Line:
    return [Segment(span_text, style) for span_text, style in _spans(text)]


def _spans(text: Text):
    for segment in text.render(Console(width=10_000, color_system=None)):
        if segment.text != "\n":
            yield segment.text, segment.style or Style()


def _side_by_side(panels: list[tuple[str, Picture]]) -> list[Line]:
    drawn = [(title, draw(picture, ROOMY)) for title, picture in panels]
    widths = [max(len(title), max((sum(s.cell_length for s in line) for line in lines), default=0))
              for title, lines in drawn]
    height = max(len(lines) for _, lines in drawn) + 1
    out: list[Line] = []
    for y in range(height):
        line: Line = []
        for (title, lines), width in zip(drawn, widths):
            if y == 0:
                cells = [Segment(title, Style(bold=True))]
            else:
                cells = lines[y - 1] if y - 1 < len(lines) else []
            used = sum(s.cell_length for s in cells)
            line += cells + [Segment(" " * (width - used + GAP))]
        out.append(line)
    return out


# -- writers ------------------------------------------------------------------------------------

def _size(frames: list[Frame]) -> tuple[int, int]:
    width = max(sum(s.cell_length for s in line) for frame in frames for line in frame.lines)
    height = max(len(frame.lines) for frame in frames)
    return width, height


def write_cast(frames: list[Frame], title: str = "hrm") -> str:
    """asciinema v2: a JSON header line, then one [time, "o", text] event per frame."""
    width, height = _size(frames)
    header = {"version": 2, "width": width, "height": height, "title": title,
              "env": {"TERM": "xterm-256color"}}
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor",
                      width=width, legacy_windows=False)
    events, clock = [], 0.0
    for frame in frames:
        with console.capture() as capture:
            for line in frame.lines:
                console.print(Text.assemble(*[(s.text, s.style) for s in line]), end="\n", crop=True)
        screen = "\x1b[2J\x1b[H" + capture.get().replace("\n", "\r\n")
        events.append([round(clock, 3), "o", screen])
        clock += frame.seconds
    events.append([round(clock, 3), "o", ""])  # keeps the last frame up for its time
    return "\n".join(json.dumps(item, ensure_ascii=False) for item in [header, *events]) + "\n"


def write_svg(frames: list[Frame]) -> str:
    """An SVG whose frames take turns being visible (discrete SMIL animation, looping)."""
    width, height = _size(frames)
    total = sum(frame.seconds for frame in frames)
    w, h = width * CHAR_W + 2 * MARGIN, height * LINE_H + 2 * MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.1f} {h:.1f}">',
        "<style>text{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;"
        f"font-size:{FONT_SIZE}px;white-space:pre}}</style>",
        f'<rect width="100%" height="100%" fill="{BACKGROUND}" rx="6"/>',
    ]
    start = 0.0
    for i, frame in enumerate(frames):
        begin, end = start / total, (start + frame.seconds) / total
        start += frame.seconds
        if len(frames) == 1:
            animate = ""
        elif i == len(frames) - 1:
            animate = _animate("hidden;visible", f"0;{begin:.4f}", total)
        elif i == 0:
            animate = _animate("visible;hidden", f"0;{end:.4f}", total)
        else:
            animate = _animate("hidden;visible;hidden", f"0;{begin:.4f};{end:.4f}", total)
        visibility = "visible" if i == 0 else "hidden"
        parts.append(f'<g visibility="{visibility}">{animate}')
        for y, line in enumerate(frame.lines):
            parts.extend(_svg_line(line, y))
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _animate(values: str, key_times: str, total: float) -> str:
    return (f'<animate attributeName="visibility" values="{values}" keyTimes="{key_times}" '
            f'dur="{total:.2f}s" calcMode="discrete" repeatCount="indefinite"/>')


def _hex(color: Color | None, default: str) -> str:
    return color.get_truecolor().hex if color is not None else default


def _svg_line(line: Line, y: int) -> list[str]:
    out, x = [], 0
    top = MARGIN + y * LINE_H
    for segment in line:
        style = segment.style or Style()
        length = segment.cell_length
        fg, bg = _hex(style.color, FOREGROUND), _hex(style.bgcolor, None) if style.bgcolor else None
        if style.reverse:
            fg, bg = bg or BACKGROUND, fg
        left = MARGIN + x * CHAR_W
        if bg:
            out.append(f'<rect x="{left:.1f}" y="{top:.1f}" width="{length * CHAR_W:.1f}" '
                       f'height="{LINE_H:.1f}" fill="{bg}"/>')
        if segment.text.strip():
            attrs = [f'x="{left:.1f}"', f'y="{top + LINE_H * 0.75:.1f}"', f'fill="{fg}"',
                     f'textLength="{length * CHAR_W:.1f}"', 'lengthAdjust="spacingAndGlyphs"']
            if style.bold:
                attrs.append('font-weight="bold"')
            if style.dim:
                attrs.append('opacity="0.55"')
            if style.underline:
                attrs.append('text-decoration="underline"')
            out.append(f"<text {' '.join(attrs)}>{escape(segment.text)}</text>")
        x += length
    return out
