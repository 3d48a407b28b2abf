"""Recordings of a solve: animated SVG and asciinema v2, from a tiny model's trace."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from test_app_support import NEWSPAPER, tiny_weights  # noqa: F401

from hrm_tui.recording import as_puzzle, record


@pytest.fixture(scope="module")
def sudoku_records(tiny_weights):
    from models.act import trace
    from models.checkpoint import load_weights
    from puzzles import sudoku

    model = load_weights(tiny_weights["sudoku"])
    return list(trace(model, sudoku.encode(sudoku.parse(NEWSPAPER))[None], inner_cycles=True))


def test_svg_has_one_animated_frame_per_segment(sudoku_records, tmp_path):
    path = record(sudoku_records, "sudoku", NEWSPAPER, tmp_path / "solve.svg")
    svg = path.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert svg.count("<g ") == len(sudoku_records) == 4
    assert svg.count('attributeName="visibility"') == 4
    assert "segment 4 of 4" in svg.replace("&#160;", " ")
    for key_times in re.findall(r'keyTimes="([^"]+)"', svg):
        times = [float(t) for t in key_times.split(";")]
        assert times == sorted(times) and 0 <= times[0] and times[-1] <= 1


def test_cast_is_asciinema_v2(sudoku_records, tmp_path):
    path = record(sudoku_records, "sudoku", NEWSPAPER, tmp_path / "solve.cast")
    header, *events = [json.loads(line) for line in path.read_text().splitlines()]
    assert header["version"] == 2 and header["width"] >= 60 and header["height"] >= 15
    assert len(events) == 5 and all(kind == "o" for _, kind, _ in events)
    times = [t for t, _, _ in events]
    assert times == sorted(times) and times[0] == 0
    assert "\x1b[2J" in events[0][2] and "segment 1 of 4" in events[0][2]


def test_maze_and_arc_record_too(tiny_weights, tmp_path):
    from models.act import trace
    from models.checkpoint import load_weights
    from puzzles import maze
    from puzzles.arc.tokens import encode_grid

    grid, _ = maze.generate(np.random.default_rng(0), 7, 7)
    records = list(trace(load_weights(tiny_weights["maze"]), maze.encode(grid, 11)[None], max_segments=2))
    assert record(records, "maze", maze.format_maze(grid), tmp_path / "m.svg").stat().st_size > 1000
    arc_grid = np.array([[1, 2], [3, 4]], np.uint8)
    records = list(trace(load_weights(tiny_weights["arc"]), encode_grid(arc_grid)[None], max_segments=2))
    assert record(records, "arc", arc_grid, tmp_path / "a.cast").read_text().count("\n") == 4


def test_bad_requests_are_value_errors(sudoku_records, tmp_path):
    with pytest.raises(ValueError, match="use a .svg or .cast"):
        record(sudoku_records, "sudoku", NEWSPAPER, tmp_path / "solve.gif")
    with pytest.raises(ValueError, match="no segments"):
        record([], "sudoku", NEWSPAPER, tmp_path / "solve.svg")
    with pytest.raises(ValueError, match="unknown puzzle kind"):
        as_puzzle("chess", "e4")
