"""Random input to the app (issue #24): the app must stay up whatever a person presses.

A seeded stream of keys (every binding of the app, its screens, editors, dialogs and the
command palette, and printable characters), typed paths, pastes, mouse clicks, drags and
wheel turns, terminal resizes and pauses goes to `HRMApp` through Pilot, across the three
puzzle screens. After every event the app must still run with no unhandled exception. An
app that quits on purpose (the palette's "Quit" command) is started again and counted.

`make test` sends SHORT_EVENTS events for each of SHORT_SEEDS. The long run is opt-in:

    HRM_FUZZ_EVENTS=10000 HRM_FUZZ_SEED=1 .venv/bin/python -m pytest -s tests/test_app_fuzz.py -k random

A failure prints the seed, the index of the event and the events before it; the same
HRM_FUZZ_SEED and HRM_FUZZ_EVENTS replay the stream (worker threads aside, which may land
at other moments).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import string
import time
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from textual import events
from textual.errors import NoWidget
from test_app_support import (  # noqa: F401 - fixtures
    MAZE, NEWSPAPER, SOLUTION, TASK, bad_files, make_app, notifications, pilot_test, tiny_weights,
)

SHORT_SEEDS = (3, 6)  # between them: all three screens, solves, the palette and the pickers
SHORT_EVENTS = 400
HISTORY = 30  # events printed before a failure

# Keys a person can press, weighted by repetition: bindings of the app, the puzzle screens,
# the editors (Sudoku, maze, ARC), the dialogs, Textual's Input / OptionList / palette. Not
# Ctrl+Q: quitting is no crash (the palette's Quit command still quits; the app is restarted).
BINDING_KEYS = (
    "f1 f2 f3 f3 f4 f4 question_mark ctrl+p enter enter enter space tab shift+tab "
    "escape escape escape escape escape escape "
    "left_square_bracket right_square_bracket home end pageup pagedown plus minus "
    "i a v n o p c w m r t e A b u ctrl+z ctrl+s ctrl+c ctrl+u ctrl+a ctrl+e ctrl+k "
    "x s g number_sign full_stop delete backspace "
    "shift+up shift+down shift+left shift+right ctrl+home ctrl+end shift+home shift+end "
    "up down left right up down left right h j k l"
).split() + [str(d) for d in range(10)]
PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "
SIZES = ((80, 24), (100, 32), (120, 40), (60, 16), (80, 4), (40, 8), (200, 50), (24, 3))
WAITS = (0.02, 0.1, 0.3, 0.8)

# What the event kinds weigh; "key" draws from BINDING_KEYS.
KIND_WEIGHTS = {"key": 56, "char": 10, "path": 4, "paste": 3, "click": 12, "drag": 3,
                "scroll": 3, "double": 1, "resize": 2, "wait": 6}


def fuzz_paths(root: Path, weights: dict[str, Path]) -> list[str]:
    """Paths typed into the open / weights / record dialogs: puzzle files good and bad (written
    into `root`), weights of every kind, a directory without any, names no file system takes."""
    good = {"one.txt": f"{NEWSPAPER}\n", "two.txt": f"{NEWSPAPER},{SOLUTION}\n{SOLUTION}\n",
            "maze.txt": MAZE, "mazes.txt": f"{MAZE}\n{MAZE}", "task.json": json.dumps(TASK)}
    for name, text in good.items():
        (root / name).write_text(text)
    (root / "empty-dir").mkdir()
    files = [root / name for name in good] + list(bad_files(root).values()) + [root / "empty-dir"]
    return [str(path) for path in files + list(weights.values())] + [
        "~nobody-at-all/x.svg", "out.cast", "out.svg", "/", "/dev/null", "\x7f", "9" * 300]


class EventStream:
    """Random events from a seed; each event is a tuple of plain values, printable to replay."""

    def __init__(self, seed: int, paths: list[str]) -> None:
        self.rng = random.Random(seed)
        self.paths = paths
        self.kinds, self.weights = zip(*KIND_WEIGHTS.items())

    def next(self, size: tuple[int, int]) -> tuple:
        rng = self.rng
        kind = rng.choices(self.kinds, self.weights)[0]
        width, height = size
        point = (rng.randrange(width), rng.randrange(height))
        if kind == "key":
            return ("key", rng.choice(BINDING_KEYS))
        if kind == "char":
            return ("key", rng.choice(PRINTABLE))
        if kind == "path":
            return ("path", rng.choice(self.paths))
        if kind == "paste":
            return ("paste", rng.choice(self._pastes()))
        if kind in ("click", "double", "scroll"):
            return (kind, *point)
        if kind == "drag":
            return ("drag", *point, rng.randrange(width), rng.randrange(height))
        if kind == "resize":
            return ("resize", *rng.choice(SIZES))
        return ("wait", rng.choice(WAITS))

    def _pastes(self) -> tuple[str, ...]:
        rng = self.rng
        junk = "".join(rng.choice(PRINTABLE + "\n\t\x00é█") for _ in range(rng.randrange(1, 400)))
        return (NEWSPAPER, f"{NEWSPAPER},{SOLUTION}", "#####\n#S G#\n#####", json.dumps(TASK),
                "12\n34", "[[1, 2], [3]]", junk, "9" * 20_000, "")


async def send(pilot, event: tuple) -> bool:
    """Deliver one event the way a terminal would; False when Pilot could not aim a mouse
    event (it looks up the widget under the pointer first, and a screen mid-layout may have
    none there, which the app itself handles)."""
    try:
        await _send(pilot, *event)
    except NoWidget:
        return False
    return True


async def _send(pilot, kind: str, *args) -> None:
    if kind == "key":
        await pilot.press(*args)
    elif kind == "path":  # clear an input, type a path, press Enter
        await pilot.press("ctrl+u", *args[0], "enter")
    elif kind == "paste":
        pilot.app.post_message(events.Paste(args[0]))
        await pilot.pause()
    elif kind == "click":
        await pilot.click(offset=tuple(args))
    elif kind == "double":
        await pilot.click(offset=tuple(args), times=2)
    elif kind == "drag":
        await pilot.mouse_down(offset=tuple(args[:2]))
        await pilot.hover(offset=tuple(args[2:]))
        await pilot.mouse_up(offset=tuple(args[2:]))
    elif kind == "scroll":  # Pilot has no wheel helper; this is how its own clicks are posted
        await pilot._post_mouse_events([events.MouseScrollDown if args[0] % 2 else events.MouseScrollUp],
                                       offset=tuple(args))
    elif kind == "resize":
        await pilot.resize_terminal(*args)
    else:
        await pilot.pause(args[0])


@dataclass
class FuzzReport:
    seed: int
    events: int = 0
    starts: int = 0
    kinds: Counter = field(default_factory=Counter)
    screens: Counter = field(default_factory=Counter)
    missed: int = 0  # mouse events Pilot could not aim
    work: Counter = field(default_factory=Counter)  # what the app did: solves, loads, notices
    seconds: float = 0.0


async def fuzz_app(seed: int, count: int, weights: dict[str, Path], paths: list[str]) -> FuzzReport:
    """Send `count` random events; raise AssertionError naming the seed and the events that
    led to an unhandled exception (or a hang Pilot gives up on)."""
    stream = EventStream(seed, paths)
    report = FuzzReport(seed)
    recent: deque[tuple] = deque(maxlen=HISTORY)
    started = time.perf_counter()
    while report.events < count:
        kind = random.Random(seed + report.starts).choice(("sudoku", "maze", "arc"))
        app = make_app(kind, weights)
        report.starts += 1
        try:
            async with app.run_test(size=(80, 24), message_hook=partial(count_work, report.work)) as pilot:
                await pilot.pause()
                while report.events < count and app.return_code is None:
                    event = stream.next(app.size)
                    recent.append(event)
                    report.events += 1
                    report.kinds[event[0]] += 1
                    report.screens[type(app.screen).__name__] += 1
                    report.missed += not await send(pilot, event)
                    if app._exception is not None:
                        break
                if app.return_code is None:
                    await pilot.press("escape", "escape", "escape")  # stop an adaptation, close dialogs
                await app.workers.wait_for_complete()  # no thread left running into the next test
                await pilot.pause(0.2)  # keys still queued when the app shuts down would find no screen
        except Exception as exc:  # noqa: BLE001 - any escape is the failure this test looks for
            first = report.events - len(recent) + 1
            history = "\n".join(f"  {first + i}: {clip(repr(e))}" for i, e in enumerate(recent))
            trace = "\n".join(clip(line) for line in "".join(traceback.format_exception(exc)).splitlines())
            raise AssertionError(
                f"the app crashed: seed {seed}, event {report.events} of {count} "
                f"(replay: HRM_FUZZ_SEED={seed} HRM_FUZZ_EVENTS={report.events})\n"
                f"last events:\n{history}\n{trace}") from None
    report.seconds = time.perf_counter() - started
    return report


WORK = {"SolveFinished": "solves finished", "SolveFailed": "solves failed", "SegmentTraced": "segments traced",
        "Notify": "notices"}


def count_work(counts: Counter, message) -> None:
    """Pilot's message hook: tally the work the events set off (proof they reach solving)."""
    name = WORK.get(type(message).__name__)
    if name:
        counts[name] += 1


def clip(line: str, width: int = 300) -> str:
    return line if len(line) <= width else f"{line[:width]}… ({len(line):,} characters)"


def _seeds() -> list[int]:
    chosen = os.environ.get("HRM_FUZZ_SEED", "")
    return [int(seed) for seed in chosen.split(",") if seed.strip()] or list(SHORT_SEEDS)


@pytest.fixture
def keys_do_not_wait(monkeypatch):
    """Pilot waits for an idle CPU after every key (at least 40 ms, up to a second while a
    worker thread computes). A person's keys do not wait, and racing the workers is part of
    the test; the screen still handles each event before the next is sent."""
    async def next_turn(*_args, **_kwargs) -> None:
        await asyncio.sleep(0)
    monkeypatch.setattr("textual.app.wait_for_idle", next_turn)
    monkeypatch.setattr("textual.pilot.wait_for_idle", next_turn)


@pytest.mark.parametrize("seed", _seeds())
@pilot_test
async def test_random_input_never_crashes_the_app(seed, tiny_weights, tmp_path, monkeypatch, keys_do_not_wait):
    monkeypatch.chdir(tmp_path)  # dialogs start here; recordings land here
    count = int(os.environ.get("HRM_FUZZ_EVENTS", SHORT_EVENTS))
    report = await fuzz_app(seed, count, tiny_weights, fuzz_paths(tmp_path, tiny_weights))
    print(f"\nfuzz seed {seed}: {report.events} events in {report.seconds:.1f} s, {report.starts} app starts, {report.missed} mouse events not aimed; "
          f"kinds {dict(report.kinds)}; screens {dict(report.screens)}; work {dict(report.work)}")
    assert report.events == count


# -- crashes the random input found, replayed ---------------------------------------------------

@pytest.mark.parametrize("rows", [4, 24])
@pilot_test
async def test_palette_page_keys(rows, tiny_weights):
    """With 4 rows the palette's list has no height and Textual 8.2.8 exits with KeyError: 0
    (hrm_tui.app.textual_guards); with room, the keys still page."""
    app = make_app("sudoku", tiny_weights)
    async with app.run_test(size=(80, rows)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press("pagedown")
        highlighted = app.screen.query_one("CommandList").highlighted
        await pilot.press("pageup")
        await pilot.pause()
        assert app.is_running and app._exception is None
        assert rows < 10 or highlighted > 0


@pilot_test
async def test_copy_a_selection_the_text_has_shrunk_below(tiny_weights):
    """Textual 8.2.8 exits with IndexError when Ctrl+C copies a selection that starts on the
    line just past a widget's text (hrm_tui.app.textual_guards); the fuzzer met it on the
    status panel after the puzzle changed."""
    app = make_app("sudoku", tiny_weights)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        status = app.screen.query_one("#status")
        status.update("one\ntwo\nthree")
        await pilot.pause()
        x, y = status.content_region.x, status.content_region.y + 2
        await pilot.mouse_down(offset=(x, y))
        await pilot.hover(offset=(x + 3, y))
        await pilot.mouse_up(offset=(x + 3, y))
        status.update("one\ntwo")
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running and app._exception is None


@pilot_test
async def test_click_on_an_option_the_filter_just_removed(tiny_weights, tmp_path):
    """Textual 8.2.8 exits with IndexError when a click lands on an option number the list no
    longer has (hrm_tui.app.textual_guards); the fuzzer pasted into a picker's filter and
    clicked before the list was drawn again. The click is replayed with the stale number."""
    from rich.style import Style

    path = tmp_path / "many.txt"
    path.write_text(f"{NEWSPAPER}\n" * 20)
    app = make_app("sudoku", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        app.screen.open_checked(path)
        await pilot.pause()
        options = app.screen.query_one("OptionList")
        app.screen.query_one("Input").value = "no such puzzle"
        await pilot.pause()
        assert options.option_count == 0
        options.post_message(events.Click(options, 2, 5, 0, 0, 1, False, False, False, style=Style(meta={"option": 5})))
        await pilot.pause()
        assert app.is_running and app._exception is None
        app.screen.query_one("Input").value = ""
        await pilot.pause()
        await pilot.click(options, offset=(4, 2))  # a click on a real option still picks it
        await pilot.pause()
        assert notifications(app)[-1].endswith("of 20")


@pytest.mark.parametrize("width", [12, 24, 40])
@pilot_test
async def test_halt_plot_narrower_than_its_segments(width, tiny_weights):
    """The fuzzer shrank the terminal after a solve that halted at its last segment: the
    halting column lay past the plot's edge and drawing it raised IndexError."""
    from hrm_tui.app.trajectory import SegmentQ
    from hrm_tui.app.widgets.halt_plot import HaltPlot, PlotData

    app = make_app("sudoku", tiny_weights)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        segments = tuple(SegmentQ(n, 0.1, 0.9, -2.0, 2.0, n == 16) for n in range(1, 17))
        app.screen.query_one(HaltPlot).data = PlotData(segments, 16, halted_at=16, current=16)
        await pilot.pause()
        assert app.is_running and app._exception is None


@pilot_test
async def test_a_dialog_closed_before_it_mounts(tiny_weights):
    """The fuzzer pressed n, Esc and F4 in a row: the picker was dismissed before it mounted,
    and focusing its list in on_mount raised NoMatches. Replayed as a push and a pop in one
    turn of the event loop."""
    app = make_app("maze", tiny_weights)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        app.screen.action_new()
        app.pop_screen()
        await pilot.pause()
        assert app.is_running and app._exception is None
