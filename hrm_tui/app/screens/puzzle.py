"""`PuzzleScreen`: enter a puzzle, solve it in a worker, play the trace back.

One screen per puzzle kind (the app's modes); subclasses supply the editor and the ways to
get a puzzle (new, open, paste). This base owns the model for its kind, the solve worker,
the trajectory and the playback state, and draws the H / L decodes, the Q plot, the status
panel and the playback bar from them.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from hrm_tui.app import palette
from hrm_tui.app.kinds import KINDS, Picture
from hrm_tui.app.messages import SegmentTraced, SolveFailed, SolveFinished
from hrm_tui.app.screens.dialogs import MarkdownScreen, PathScreen, PromptScreen, TextScreen, reason, shorten
from hrm_tui.app.solver import SolveRequest, run_trace
from hrm_tui.app.textual_guards import SelectionGuard
from hrm_tui.app.trajectory import Frame, Trajectory
from hrm_tui.app.weights import LoadedModel
from hrm_tui.app.widgets.editors import GridEditor
from hrm_tui.app.widgets.grid import GridView
from hrm_tui.app.widgets.halt_plot import HaltPlot, PlotData
from hrm_tui.app.widgets.playback import PlaybackBar, PlaybackState
from hrm_tui.app.widgets.top_bar import TopBar
from hrm_tui.errors import UserError
from puzzles.errors import PuzzleError

MAX_OPEN_BYTES = 2**20  # puzzle files the open dialog reads (about 12,900 Sudoku lines)
SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)  # frames per second
DEFAULT_SPEED = 3
_COMPILED_SHAPES: set[tuple[str, tuple[int, ...]]] = set()  # (model config, input shape) solved before


def ghost(picture: Picture) -> Picture:
    """A picture drawn faintly: what the decode panels show before the first solve."""
    from rich.style import Style

    faint = Style(dim=True)
    return Picture(tuple(tuple(cell._replace(style=cell.style + faint) for cell in row)
                         for row in picture.cells), picture.box, picture.tiles)


class PuzzleScreen(SelectionGuard, Screen):
    KIND: ClassVar[str]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS = [
        Binding("enter", "solve", "Solve", id="solve",
                tooltip="Run the model on the puzzle, one ACT segment at a time"),
        Binding("space", "play_pause", "Play/Pause", id="play", tooltip="Play or pause the trace"),
        Binding("right_square_bracket", "step(1)", "Step", key_display="]", id="step",
                tooltip="One frame forward"),
        Binding("left_square_bracket", "step(-1)", "Back", key_display="[", id="back",
                tooltip="One frame back"),
        Binding("home", "seek('start')", "First frame", show=False, id="first", tooltip="Go to the first segment"),
        Binding("end", "seek('end')", "Last frame", show=False, id="last", tooltip="Go to the last segment"),
        Binding("plus,equals_sign", "speed(1)", "Faster", show=False, key_display="+", id="faster",
                tooltip="Play more frames per second"),
        Binding("minus", "speed(-1)", "Slower", show=False, key_display="-", id="slower",
                tooltip="Play fewer frames per second"),
        Binding("i", "toggle_inner", "Inner steps", show=False, id="inner",
                tooltip="Step through every L and H update inside a segment, or by whole segments"),
        Binding("a", "toggle_halt_mode", "Halt mode", show=False, id="halt-mode",
                tooltip="Stop where ACT halts, or run to the maximum number of segments"),
        Binding("v", "cycle_view", "H/L view", show=False, id="view",
                tooltip="Show both decodes, only H, or only L"),
        Binding("escape", "stop", "Stop", show=False, id="stop", tooltip="Stop a running solve; pause playback"),
        Binding("less_than_sign", "other_view(-1)", "Previous view", show=False, key_display="<", id="prev-view",
                tooltip="Show the symmetric view tried before this one"),
        Binding("greater_than_sign", "other_view(1)", "Next view", show=False, key_display=">", id="next-view",
                tooltip="Show the symmetric view tried after this one"),
        Binding("n", "new", "New", id="new", tooltip="A new puzzle from the generator (or a blank one)"),
        Binding("o", "open", "Open", id="open", tooltip="Load a puzzle file"),
        Binding("p", "paste", "Paste", show=False, id="paste", tooltip="Type or paste a puzzle as text"),
        Binding("c", "clear", "Clear", show=False, id="clear", tooltip="Start from an empty grid"),
        Binding("w", "weights", "Weights", show=False, id="weights",
                tooltip="Choose the weights: shipped, any directory, or a training run"),
        Binding("t", "training", "Training", show=False, id="training",
                tooltip="Watch a training run's curves while hrm train writes it; s solves with its newest checkpoint"),
        Binding("m", "model_info", "Model card", show=False, id="model",
                tooltip="The loaded model's size, settings and card"),
        Binding("r", "record", "Record", show=False, id="record",
                tooltip="Export this solve as an animated SVG or an asciinema recording"),
    ]

    position: reactive[int] = reactive(0, init=False)
    playing: reactive[bool] = reactive(False, init=False)
    fine: reactive[bool] = reactive(False, init=False)
    speed_index: reactive[int] = reactive(DEFAULT_SPEED, init=False)
    stop_at_halt: reactive[bool] = reactive(True, init=False)
    view: reactive[str] = reactive("both", init=False)  # "both", "H" or "L"

    def __init__(self, weights_dir: Path | None = None) -> None:
        super().__init__()
        self.kind = KINDS[self.KIND]
        self.weights_dir = weights_dir
        self.loaded: LoadedModel | None = None
        self.load_error: str | None = None
        self.trajectory: Trajectory | None = None  # the run on screen
        self.view_runs: list[Trajectory] = []  # one run per symmetric view the solve tried
        self.views = None  # the solve's hrm_tui.solving.ViewPlan, when it searches views
        self.chosen_run: Trajectory | None = None  # the view whose answer counts, when all views ran
        self.solved_puzzle = None  # the puzzle the trajectory belongs to
        self.extra = None  # what the solve's follow-up produced (ARC: voted attempts)
        self.solve_id = 0
        self.running = False
        self.compiling = False
        self._solve_when_loaded = False
        self._timer: Timer | None = None
        self._thread_callbacks: dict[Worker, tuple[Callable, Callable]] = {}

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TopBar(self.KIND)
        yield from self.compose_task()
        with Horizontal(id="boards"):
            editor = self.make_editor()
            editor.id = "editor"
            editor.add_class("panel")
            editor.border_title = "Puzzle"
            yield editor
            yield GridView(id="h-grid", classes="panel decode")
            yield GridView(id="l-grid", classes="panel decode")
        with Horizontal(id="lower"):
            yield HaltPlot(id="plot", classes="panel")
            yield Static(id="status", classes="panel")
        yield PlaybackBar(id="playback")
        yield Footer()

    def compose_task(self) -> ComposeResult:
        """Anything above the boards (the ARC screen shows the demonstration pairs)."""
        yield from ()

    def make_editor(self) -> GridEditor:
        raise NotImplementedError

    @property
    def editor(self) -> GridEditor:
        return self.query_one("#editor", GridEditor)

    def on_mount(self) -> None:
        self.query_one("#h-grid").border_title = "H · answer"
        self.query_one("#l-grid").border_title = "L · working"
        plot = self.query_one(HaltPlot)
        plot.border_title = f"Q [{palette.HALT.color.name}]● halt[/] [{palette.CONTINUE.color.name}]○ continue[/]"
        self.query_one("#status").border_title = "Status"
        if self.KIND != "sudoku" and self.app.size.width < 100:
            self.view = "H"
        self._apply_view()
        self._timer = self.set_interval(1 / SPEEDS[self.speed_index], self._tick, pause=True)
        self._refresh_all()
        self.load_model(self.weights_dir)
        self.editor.focus()

    # -- background work ---------------------------------------------------------------------
    def in_thread(self, work: Callable[[], object], group: str, done: Callable[[object], None],
                  failed: Callable[[BaseException], None] | None = None) -> None:
        """Run `work` in a thread worker (one per group; a new one cancels the old) and call
        `done(result)` or `failed(error)` on the UI thread. Nothing raised escapes to Textual."""
        worker = self.run_worker(work, name=group, group=group, thread=True, exclusive=True,
                                 exit_on_error=False)
        self._thread_callbacks[worker] = (done, failed or partial(self._report_failure, group))

    def _report_failure(self, group: str, error: BaseException) -> None:
        message = str(error) if isinstance(error, (UserError, PuzzleError)) else f"{type(error).__name__}: {error}"
        self.notify(message, title=f"{group.capitalize()} failed", severity="error", timeout=10)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        done, failed = self._thread_callbacks.pop(event.worker, (None, None))
        if event.state == WorkerState.SUCCESS and done is not None:
            done(event.worker.result)
        elif event.state == WorkerState.ERROR and failed is not None:
            failed(event.worker.error)

    # -- the model ------------------------------------------------------------------------------
    def load_model(self, directory: Path | None) -> None:
        """Load weights in a thread; a missing model is a notification, never an error."""
        from hrm_tui.app import weights

        self.weights_dir = directory
        self.loaded, self.load_error = None, None
        self._set_model_label("loading weights…")
        self.in_thread(partial(weights.load, self.KIND, directory), "load", self._model_loaded,
                       self._model_failed)

    def _set_model_label(self, label: str) -> None:
        self.query_one(TopBar).model_label = label

    def _model_loaded(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self._set_model_label(loaded.summary())
        self._refresh_all()
        if self._solve_when_loaded:
            self._solve_when_loaded = False
            self.action_solve()

    def _model_failed(self, error: BaseException) -> None:
        self.load_error = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
        self._solve_when_loaded = False
        self._set_model_label("no model (w: choose weights)")
        self._refresh_all()
        self.notify(f"{self.load_error}\nYou can still enter puzzles; press w to choose weights.",
                    title="No model", severity="warning", timeout=10)

    # -- solving ----------------------------------------------------------------------------------
    def action_solve(self) -> None:
        if self.loaded is None:
            if self.load_error is None:
                self._solve_when_loaded = True
                self.notify("Loading the model; the solve starts when it is ready.", timeout=3)
            else:
                self.notify(f"{self.load_error}\nPress w to choose a weights directory.",
                            title="No model", severity="error", timeout=8)
            return
        puzzle = self.editor.puzzle
        try:
            model = self.kind.fit_model(puzzle, self.model_to_solve())
            tokens, puzzle_id = self.kind.model_input(puzzle, model.config)
        except PuzzleError as exc:
            self.notify(str(exc), title="Cannot solve this yet", severity="error", timeout=8)
            return
        self.solve_id += 1
        # MLX compiles kernels on the first segment of each new model and input shape (20-50 s
        # on a slow CPU); say so, or the first solve looks hung.
        shape = (repr(model.config), tokens.shape)
        self.compiling = shape not in _COMPILED_SHAPES
        _COMPILED_SHAPES.add(shape)
        config = self.loaded.config
        self.views = self.solve_views()
        searching = self.views is not None and self.views.views > 1
        self.trajectory = Trajectory(config.halt_max_steps, answer_at_halt=not searching)
        self.view_runs = [self.trajectory]
        self.chosen_run = None
        self.solved_puzzle = puzzle
        self.running = True
        self.extra = None
        request = SolveRequest(self.solve_id, model, tokens, puzzle_id,
                               config.halt_max_steps, self.stop_at_halt, self.follow_up(puzzle), self.views,
                               self.kind.name, self.kind.view_grid(puzzle) if searching else None)
        self.in_thread(partial(run_trace, self, request), "solve", lambda _: None, self._solve_crashed)
        self.set_reactive(PuzzleScreen.position, 0)
        self.playing = True
        self._refresh_all()

    @on(SegmentTraced)
    def _segment_traced(self, message: SegmentTraced) -> None:
        if message.solve_id != self.solve_id or self.trajectory is None:
            return
        self._run_of_view(message.view).add(message.record)
        self._refresh_all()

    def _run_of_view(self, view: int) -> Trajectory:
        """The run of a view; a new view's run is shown at once if the newest run was on screen."""
        last = self.view_runs[-1]
        if last.view == view:
            return last
        last.finished = True
        run = Trajectory(last.max_segments, view=view, answer_at_halt=last.answer_at_halt)
        self.view_runs.append(run)
        if self.trajectory is last:
            self.trajectory = run
            self.set_reactive(PuzzleScreen.position, 0)
        return run

    def model_to_solve(self):
        """The model a solve runs (ARC: the one test-time training adapted to the task)."""
        return self.loaded.model

    def solve_views(self):
        """The symmetric views a solve tries (a `hrm_tui.solving.ViewPlan`), or None: one run."""
        return None

    def action_other_view(self, delta: int) -> None:
        """Show the run of the view tried before or after the one on screen."""
        if len(self.view_runs) < 2 or self.trajectory is None:
            self.notify("Only one view was tried: the first run's answer followed the rules, or no "
                        "views were searched.", timeout=3)
            return
        index = max(0, min(len(self.view_runs) - 1, self.view_runs.index(self.trajectory) + delta))
        self.playing = False
        self.trajectory = self.view_runs[index]
        self.position = max(len(self.frames) - 1, 0)
        self._refresh_all()

    def follow_up(self, puzzle) -> Callable[[], object] | None:
        """Work for the solver thread after the trace; its result becomes `self.extra`."""
        return None

    @on(SolveFinished)
    def _solve_finished(self, message: SolveFinished) -> None:
        if message.solve_id == self.solve_id:
            self.extra = message.extra
            self._solve_ended()
            self._show_best_view()

    def _show_best_view(self) -> None:
        """When every view ran (mazes: a route that follows the rules may not be the shortest),
        show the run whose answer `hrm solve` takes (`hrm_tui.solving.best_view`)."""
        from hrm_tui.solving import PuzzleItem, best_view, decode_prediction
        from puzzles.views import FINAL_WHEN_VALID

        self.chosen_run = None
        if len(self.view_runs) < 2 or FINAL_WHEN_VALID.get(self.kind.name, True):
            return
        runs = [run for run in self.view_runs if run.answer() is not None]
        item = PuzzleItem(self.kind.view_grid(self.solved_puzzle))
        answers = [decode_prediction(self.kind.name, run.answer().h_tokens, item) for run in runs]
        self.chosen_run = runs[best_view(self.kind.name, item.puzzle, answers)] if runs else None
        if self.chosen_run is not None:
            self.playing = False
            self.trajectory = self.chosen_run
            self.position = max(len(self.frames) - 1, 0)
            self._refresh_all()

    def _solve_crashed(self, error: BaseException) -> None:
        self._report_failure("solve", error)
        self._solve_ended()

    @on(SolveFailed)
    def _solve_failed(self, message: SolveFailed) -> None:
        if message.solve_id != self.solve_id:
            return
        self.notify(message.error, title="The solve failed", severity="error", timeout=10)
        self._solve_ended()

    def _solve_ended(self) -> None:
        self.running = False
        for run in self.view_runs:
            run.finished = True
        self._refresh_all()

    def action_stop(self) -> None:
        """Esc: stop the running solve, keeping what was traced; else pause."""
        if self.running:
            self.workers.cancel_group(self, "solve")
            self.solve_id += 1  # drop anything still in flight
            self._solve_ended()
            self.notify("Stopped; the segments traced so far stay available.", timeout=3)
        self.playing = False

    # -- playback -------------------------------------------------------------------------------
    @property
    def frames(self) -> list[Frame]:
        return self.trajectory.frames(self.fine) if self.trajectory else []

    def _tick(self) -> None:
        if self.position < len(self.frames) - 1:
            self.position += 1
        elif not self.running:
            self.playing = False

    def watch_playing(self, playing: bool) -> None:
        if self._timer is not None:
            if playing:
                self._timer.reset()  # a full interval before the next frame, not an overdue tick
                self._timer.resume()
            else:
                self._timer.pause()
        self._refresh_playback()

    def watch_position(self) -> None:
        self._refresh_all()

    def watch_speed_index(self, index: int) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(1 / SPEEDS[index], self._tick, pause=not self.playing)
        self._refresh_playback()

    def watch_fine(self) -> None:
        self._refresh_all()

    def watch_stop_at_halt(self) -> None:
        self._refresh_playback()

    def watch_view(self) -> None:
        self._apply_view()

    def action_play_pause(self) -> None:
        if not self.frames:
            self.notify("Nothing to play yet: press Enter to solve.", timeout=3)
            return
        if not self.playing and self.position >= len(self.frames) - 1 and not self.running:
            self.position = 0  # replay from the start
        self.playing = not self.playing

    def action_step(self, delta: int) -> None:
        self.playing = False
        if self.frames:
            self.position = max(0, min(len(self.frames) - 1, self.position + delta))

    def action_seek(self, where: str) -> None:
        self.playing = False
        if self.frames:
            self.position = 0 if where == "start" else len(self.frames) - 1

    def action_speed(self, delta: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + delta))

    def action_toggle_inner(self) -> None:
        frames = self.frames
        if frames:
            frame = frames[min(self.position, len(frames) - 1)]
            index = self.trajectory.index_of(frame.segment, frame.update, not self.fine)
            self.set_reactive(PuzzleScreen.position, index)
        self.fine = not self.fine
        self.notify("Stepping through every L and H update" if self.fine else "Stepping by ACT segment",
                    timeout=2)

    def action_toggle_halt_mode(self) -> None:
        self.stop_at_halt = not self.stop_at_halt
        limit = self.loaded.config.halt_max_steps if self.loaded else "max"
        self.notify("Stopping where ACT halts" if self.stop_at_halt else f"Running all {limit} segments",
                    timeout=2)
        if self.trajectory is not None and self.solved_puzzle is self.editor.puzzle:
            self.action_solve()

    def action_cycle_view(self) -> None:
        self.view = {"both": "H", "H": "L", "L": "both"}[self.view]

    def _apply_view(self) -> None:
        self.query_one("#h-grid").display = self.view in ("both", "H")
        self.query_one("#l-grid").display = self.view in ("both", "L")

    @on(PlaybackBar.Seek)
    def _seek(self, message: PlaybackBar.Seek) -> None:
        self.playing = False
        self.position = message.position

    @on(HaltPlot.SegmentSelected)
    def _segment_selected(self, message: HaltPlot.SegmentSelected) -> None:
        if self.trajectory is not None:
            self.playing = False
            self.position = self.trajectory.index_of(message.segment, 0, self.fine)

    # -- drawing --------------------------------------------------------------------------------
    def current_frame(self) -> tuple[Frame | None, Frame | None]:
        frames = self.frames
        if not frames:
            return None, None
        index = min(self.position, len(frames) - 1)
        return frames[index], frames[index - 1] if index else None

    def _refresh_all(self) -> None:
        if not self.is_mounted:
            return
        frame, previous = self.current_frame()
        puzzle = self.solved_puzzle if frame is not None else self.editor.puzzle
        h_grid, l_grid = self.query_one("#h-grid", GridView), self.query_one("#l-grid", GridView)
        if frame is None:
            h_grid.picture = l_grid.picture = ghost(self.kind.input_picture(puzzle))
            h_grid.border_subtitle = l_grid.border_subtitle = "Enter solves" if self.trajectory is None else "…"
        else:
            h_grid.picture = self.kind.picture(puzzle, frame.h_tokens, frame.h_confidence,
                                               previous.h_tokens if previous else None)
            l_grid.picture = self.kind.picture(puzzle, frame.l_tokens, frame.l_confidence,
                                               previous.l_tokens if previous else None)
            h_grid.border_subtitle = l_grid.border_subtitle = self._frame_label(frame, short=True)
            if frame.level in ("L", "H"):
                active, other = (l_grid, h_grid) if frame.level == "L" else (h_grid, l_grid)
                active.border_subtitle = f"{frame.level} update {frame.update}"
        self._refresh_plot(frame)
        self.query_one("#status", Static).update(self.status_text(frame))
        self._refresh_playback()

    def _refresh_plot(self, frame: Frame | None) -> None:
        traj = self.trajectory
        max_segments = traj.max_segments if traj else (self.loaded.config.halt_max_steps if self.loaded else 16)
        plot = self.query_one(HaltPlot)
        plot.data = PlotData(tuple(traj.segments) if traj else (), max_segments,
                             traj.halted_at if traj else 0, frame.segment if frame else 0)
        plot.border_subtitle = f"ACT halts at {traj.halted_at}" if traj and traj.halted_at else ""

    def _segments_total(self) -> int:
        traj = self.trajectory
        if traj is None:
            return 0
        return len(traj.coarse) if traj.finished else traj.max_segments

    def _frame_label(self, frame: Frame, short: bool = False) -> str:
        label = f"seg {frame.segment}/{self._segments_total()}" if short else \
            f"segment {frame.segment} of {self._segments_total()}"
        if self.fine and self.trajectory is not None:
            updates = self.trajectory.updates_per_segment
            label += " · end" if frame.is_segment_end else f" · {frame.level} {frame.update}/{updates}"
        return label

    def _waiting_label(self) -> str:
        return "thinking… (first solve: compiling, up to a minute)" if self.compiling else "thinking…"

    def _refresh_playback(self) -> None:
        if not self.is_mounted:
            return
        frames = self.frames
        frame, _ = self.current_frame()
        traj = self.trajectory
        halt_frame = -1
        if traj is not None and traj.halted_at:
            halt_frame = traj.index_of(traj.halted_at, 0, self.fine)
        self.query_one(PlaybackBar).state = PlaybackState(
            position=min(self.position, max(len(frames) - 1, 0)), frames=len(frames),
            label=self._frame_label(frame) if frame else (self._waiting_label() if self.running else "no solve yet"),
            halt_frame=halt_frame, playing=self.playing, running=self.running,
            speed=SPEEDS[self.speed_index], stop_at_halt=self.stop_at_halt,
            max_segments=traj.max_segments if traj else (self.loaded.config.halt_max_steps if self.loaded else 16),
            fine=self.fine)

    def status_text(self, frame: Frame | None) -> Text:
        """The status panel: where we are, the halting decision, and the verdicts."""
        traj = self.trajectory
        text = Text()
        if traj is None or frame is None:
            if self.loaded is None:
                text.append("No model loaded.\n" if self.load_error else "Loading the model…\n")
                if self.load_error:
                    text.append("w chooses weights.\n", style="dim")
            text.append("Enter solves. ? shows every key.", style="dim")
            return text
        # Most important first: short terminals show only the first lines.
        if self.views is not None and self.views.views > 1:
            self._append_view_line(text, traj)
        answer = traj.answer()
        at_answer = traj.finished and answer is frame
        if traj.finished and answer is not None:
            self._append_verdict(text, f"Answer (segment {answer.segment})",
                                 self.kind.verdict(self.solved_puzzle, answer.h_tokens))
        if frame.h_tokens is not None and not at_answer:
            self._append_verdict(text, f"H at {frame.segment}", self.kind.verdict(self.solved_puzzle, frame.h_tokens))
        q = traj.segments[frame.segment - 1]
        margin = q.q_halt_logit - q.q_continue_logit  # what decides: probabilities near 1 hide it
        text.append(f"q_halt {q.q_halt:.3f}, q_cont {q.q_continue:.3f}, margin {margin:+.2f} → ")
        text.append("halt" if q.would_halt else "continue", style="bold")
        if q.would_halt and q.q_halt <= q.q_continue:
            text.append(" (last segment)")
        text.append("\n")
        if traj.halted_at:
            text.append(f"ACT halted at segment {traj.halted_at}\n", style=palette.HALT)
        elif traj.finished and not traj.answer_at_halt and answer is not None and \
                self.kind.verdict(self.solved_puzzle, answer.h_tokens).ok:
            text.append(f"Stopped at segment {len(traj.coarse)}: the answer follows the rules\n")
        elif traj.finished:
            text.append(f"ACT did not halt in {len(traj.coarse)} segments\n")
        if self.solved_puzzle is not self.editor.puzzle:
            text.append("Puzzle edited since; Enter solves again.\n", style="italic")
        text.rstrip()
        return text

    def _append_view_line(self, text: Text, run: Trajectory) -> None:
        """Which view of how many is on screen, and what became of it."""
        text.append(f"View {run.view + 1} of {self.views.views}", style="bold")
        if self.running and run is self.view_runs[-1]:
            text.append(": running")
        else:
            last = run.coarse[-1] if run.coarse else None
            ok = last is not None and self.kind.verdict(self.solved_puzzle, last.h_tokens).ok
            text.append(": answered by the rules" if ok else ": no answer by the rules",
                        style=palette.OK if ok else palette.FAIL)
            if run is self.chosen_run:
                text.append(" · the answer: fewest steps of the routes that follow the rules"
                            if ok else " · no view's route follows the rules")
        if len(self.view_runs) > 1:
            text.append(f" · < > step through the {len(self.view_runs)} tried", style="dim")
        text.append("\n")

    def _append_verdict(self, text: Text, what: str, verdict) -> None:
        checkable = self.kind.checkable(self.solved_puzzle)
        mark, style = ("✓", palette.OK) if verdict.ok else (("✗", palette.FAIL) if checkable else ("?", None))
        text.append(f"{what}: ")
        text.append(f"{mark} ", style=style)
        text.append(f"{verdict.message}\n")

    # -- puzzles in and out ---------------------------------------------------------------------
    @on(GridEditor.Changed)
    def _edited(self) -> None:
        if self.trajectory is None:
            self._refresh_all()
        else:
            self.query_one("#status", Static).update(self.status_text(self.current_frame()[0]))

    def load_puzzle(self, puzzle, message: str | None = None) -> None:
        """Put a new puzzle into the editor (undoable) and say where it came from."""
        self.editor.load(puzzle)
        self.editor.focus()
        if message:
            self.notify(message, timeout=4)

    def action_new(self) -> None:
        raise NotImplementedError

    def generate(self, make: Callable[[], tuple[object, str | None]], what: str) -> None:
        """Run `make() -> (puzzle, message)` in a thread (generators can take seconds)."""
        self.notify(f"Making {what}…", timeout=2)
        self.in_thread(make, "generate", lambda result: self.load_puzzle(*result))

    def action_clear(self) -> None:
        raise NotImplementedError

    def open_path(self, path: Path) -> None:
        raise NotImplementedError

    def load_text(self, text: str) -> None:
        raise NotImplementedError

    def action_open(self) -> None:
        def opened(path: Path | None) -> None:
            if path is not None:
                self.open_checked(path)
        self.app.push_screen(PathScreen(f"Open a {self.kind.title} file", Path.cwd(), hint=self.open_hint),
                             opened)

    def open_checked(self, path: Path) -> None:
        """Open a puzzle file; whatever is wrong with it is a notice, and the puzzle on screen
        stays. The CLI's front door (file type, encoding) after a size limit of the app's own:
        files are parsed on the UI thread, and a picker of more puzzles than fit in
        MAX_OPEN_BYTES is no use to a person (`hrm solve --file` takes batches)."""
        from hrm_tui.solving import check_input_file

        try:
            size = path.stat().st_size
            if size > MAX_OPEN_BYTES:
                raise UserError(f"{path.name} is {size / 2**20:,.1f} MiB; the app opens puzzle files up to "
                                f"{MAX_OPEN_BYTES // 2**20} MiB (hrm solve --file reads larger batches)")
            self.open_path(check_input_file(path))
        except (PuzzleError, UserError) as exc:
            self.notify(str(exc), title="Cannot open", severity="error", timeout=8)
        except OSError as exc:  # gone or unreadable since it was chosen
            self.notify(f"{path}: {reason(exc)}", title="Cannot open", severity="error", timeout=8)

    open_hint = ""
    paste_hint = ""

    def action_paste(self) -> None:
        def pasted(text: str | None) -> None:
            if text and text.strip():
                self._load_text_safely(text)
        self.app.push_screen(TextScreen(f"Paste a {self.kind.title} puzzle", self.paste_hint), pasted)

    def on_paste(self, event) -> None:
        """A bracketed paste anywhere on the screen (outside a text input) loads a puzzle."""
        event.stop()
        self._load_text_safely(event.text)

    def _load_text_safely(self, text: str) -> None:
        try:
            self.load_text(text)
        except PuzzleError as exc:
            self.notify(str(exc), title="Not a puzzle", severity="error", timeout=8)

    def action_weights(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is None:
                return
            self.load_model(None if path == Path() else path)
        self.app.push_screen(PathScreen(
            f"Weights for {self.kind.title}", Path.cwd(), directories=True, default_label="Shipped default",
            hint="A weights directory (config.json + model.safetensors), a training run, or a checkpoint."),
            chosen)

    def action_training(self) -> None:
        """The training view of the run the loaded model comes from, or of a run to pick."""
        run = self._training_run()
        if run is not None:
            self._watch_run(run)
            return

        def chosen(path: Path | None) -> None:
            if path is not None and path != Path():
                self._watch_run(path)
        self.app.push_screen(PathScreen(
            f"Training run to watch ({self.kind.title})", Path.cwd(), directories=True,
            hint=f"A run directory of `hrm train {self.KIND}` (log.jsonl, checkpoints/)."), chosen)

    def _training_run(self) -> Path | None:
        """The run directory behind the loaded model, when it came from one."""
        for candidate in (self.weights_dir, self.loaded.source if self.loaded else None):
            if candidate is None:
                continue
            candidate = Path(candidate)
            if candidate.parent.name == "checkpoints":
                candidate = candidate.parent.parent
            if (candidate / "log.jsonl").is_file():
                return candidate
        return None

    def _watch_run(self, run: Path) -> None:
        from hrm_tui.app.screens.training import TrainingScreen

        def closed(answer: str | None) -> None:
            if answer == "solve":  # the newest checkpoint, then the puzzle on screen
                self._solve_when_loaded = True
                self.load_model(run)
        self.app.push_screen(TrainingScreen(run), closed)

    def action_model_info(self) -> None:
        from hrm_tui.app.screens.info import model_markdown

        self.app.push_screen(MarkdownScreen("Model", model_markdown(self.KIND, self.loaded, self.load_error)))

    def action_record(self) -> None:
        if self.trajectory is None or not self.trajectory.records:
            self.notify("Solve a puzzle first; the recording replays its segments.", timeout=4)
            return

        def chosen(name: str | None) -> None:
            if name:
                self._write_recording(name)
        self.app.push_screen(PromptScreen(
            "Export this solve as an animation", f"hrm-{self.KIND}.svg",
            hint=".svg: animated picture for browsers and READMEs · .cast: asciinema recording"), chosen)

    def _write_recording(self, name: str) -> None:
        from hrm_tui.recording import record

        try:
            written = record(self.trajectory.records, self.KIND, self.solved_puzzle, Path(name).expanduser())
        except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: ~nobody has no home
            message = f"{shorten(name)}: {reason(exc)}" if isinstance(exc, OSError) else str(exc)
            self.notify(message, title="Recording failed", severity="error", timeout=8)
            return
        self.notify(f"Wrote {written}", title="Recording saved", timeout=6)
