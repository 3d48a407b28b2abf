"""Solving puzzles with a loaded model: read inputs, run ACT, check answers against the rules.

Shared by `hrm solve` (single and batch) and `hrm eval`; the app has its own worker but the
same model calls. Output records follow the batch contract in docs/cli.md.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hrm_tui.errors import UserError

MAX_INPUT_BYTES = 64 * 1024 * 1024  # refuse larger --file inputs without reading them


@dataclass
class PuzzleItem:
    puzzle: np.ndarray
    solution: np.ndarray | None = None


def check_input_file(path: Path) -> Path:
    """A puzzle file the parsers can read: an existing regular file, non-empty, at most
    MAX_INPUT_BYTES (decided from its size, before reading a byte), and UTF-8 text.

    Every other case is a one-line UserError naming the problem, so devices and pipes
    never block, huge files never fill memory, and binary junk or UTF-16/latin-1 text is
    reported as an encoding problem rather than as bad puzzle characters."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path} is a directory, not a puzzle file")
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path} is not a regular file (a device, pipe or socket); save the puzzles to a file")
    if info.st_size > MAX_INPUT_BYTES:
        raise UserError(f"{path} is {info.st_size / 2**20:,.0f} MiB; the limit is {MAX_INPUT_BYTES // 2**20} MiB")
    if info.st_size == 0:
        raise UserError(f"{path} is empty")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    _check_utf8(path, data)
    return path


_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def _check_utf8(path: Path, data: bytes) -> None:
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise UserError(f"{path} is {name} text; save it as UTF-8")
    if b"\x00" in data:
        raise UserError(f"{path} contains NUL bytes: a binary file or UTF-16 text, not UTF-8 puzzle text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(f"{path} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {column} "
                        "(latin-1 or another encoding?); save it as UTF-8") from None


def check_output_file(path: Path, option: str) -> Path:
    """Fail before any work when an output file (--json, --record) cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{option} {path} is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise UserError(f"{option} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UserError(f"{option} {path}: directory {parent} is not writable")
    return path


def read_items(kind: str, path: Path) -> list[PuzzleItem]:
    from puzzles import maze, sudoku

    path = check_input_file(path)
    if kind == "sudoku":
        items = [PuzzleItem(p, s) for p, s in sudoku.read_file(path)]
    elif kind == "maze":
        items = [PuzzleItem(m) for m in maze.read_file(path)]
    else:
        raise UserError(f"reading {kind} files is not supported here")
    if not items:
        raise UserError(f"{path} holds no puzzles")
    return items


def validate_item(kind: str, item: PuzzleItem, where: str) -> None:
    """Reject puzzles the rules already break: contradictory or unsolvable Sudoku givens
    (searched within the solver's guess budget), mazes without a path or too big for the
    canvas."""
    from puzzles import maze, sudoku
    from puzzles.errors import PuzzleError

    try:
        if kind == "sudoku":
            sudoku.validate(item.puzzle)
            if not _solvable(item.puzzle):
                raise PuzzleError("the givens admit no solution")
        elif kind == "maze":
            height, width = item.puzzle.shape
            if max(height, width) > maze.CANVAS:
                raise PuzzleError(f"maze is {height}x{width}; the model's canvas is {maze.CANVAS}x{maze.CANVAS}")
            maze.check_reachable(item.puzzle)
    except PuzzleError as exc:
        raise UserError(f"{where}: {exc}") from None


def _solvable(board: np.ndarray) -> bool:
    """False only when the search proves the givens have no solution; True when it finds one
    or exhausts `sudoku.MAX_GUESSES` (about a second; no real puzzle comes near it), in which
    case the model still gets the puzzle and the verdict on its answer names a broken rule."""
    from puzzles import sudoku
    from puzzles.errors import SearchBudgetExceeded

    try:
        return sudoku.solve(board) is not None
    except SearchBudgetExceeded:
        return True


def model_for_items(kind: str, model, items: list[PuzzleItem]):
    """The model to run on `items`: a size-free maze model (2-D RoPE) moves to a canvas as
    large as the largest maze when they do not fit the canvas it was trained on."""
    from models.hrm import on_grid, size_free

    if kind != "maze" or not items or not size_free(model.config):
        return model
    side = max(max(item.puzzle.shape) for item in items)
    return on_grid(model, side, side) if side > model.config.grid_shape[0] else model


def encode_items(kind: str, items: list[PuzzleItem], seq_len: int | None = None) -> np.ndarray:
    """Tokens for a model whose sequence is `seq_len` long (mazes: a square canvas of that
    area, so models trained on smaller canvases work too)."""
    from puzzles.errors import PuzzleError
    from puzzles.kinds import get_kind

    if kind == "maze" and seq_len is not None:
        from puzzles import maze

        canvas = math.isqrt(seq_len)
        try:
            return np.stack([maze.encode(item.puzzle, canvas) for item in items]).astype(np.int32)
        except PuzzleError as exc:
            raise UserError(f"{exc} of this model") from None
    spec = get_kind(kind)
    return np.stack([spec.encode(item.puzzle) for item in items]).astype(np.int32)


def decode_prediction(kind: str, tokens: np.ndarray, item: PuzzleItem) -> np.ndarray:
    from puzzles.kinds import get_kind

    if kind == "maze":
        from puzzles import maze

        return maze.decode(tokens, shape=item.puzzle.shape, canvas=math.isqrt(tokens.size))
    return get_kind(kind).decode(tokens)


def verify(kind: str, item: PuzzleItem, prediction: np.ndarray):
    from puzzles.kinds import get_kind

    return get_kind(kind).verify(item.puzzle, prediction)


def run_model(model, tokens: np.ndarray, max_segments: int | None, stop_at_halt: bool,
              batch_size: int | None = None, on_progress: Callable[[int], None] | None = None, settled=None,
              still_below: float | None = None):
    """Final tokens, segments used and ACT's halting segment for every row. Puzzles stream
    through `batch_size` slots (default `models.act.rows_per_pass`); a slot whose puzzle is
    done takes the next one."""
    from models.act import rows_per_pass, solve_dynamic
    from models.backend import fit_blas_threads

    batch_size = batch_size or rows_per_pass(model.config)
    fit_blas_threads(min(batch_size, len(tokens)) * tokens.shape[-1])
    return solve_dynamic(model, tokens, slots=batch_size, max_segments=max_segments,
                         stop_at_halt=stop_at_halt, on_progress=on_progress, settled=settled,
                         still_below=still_below)


# Views tried per puzzle unless --views says otherwise: a Sudoku answer is checked by the
# rules, so views cost only for puzzles the first run gets wrong; see the cards for figures.
DEFAULT_VIEWS = {"sudoku": 64, "maze": 8}
# Views answered together per round, and the segments of rounds after the first (None: all).
DEFAULT_ROUNDS = {"sudoku": (1, None), "maze": (8, None)}
# A maze route that follows the rules may still not be the shortest, so every maze view runs
# (N views cost N runs). With weights/maze, 8 views take 15x15 mazes from 48% to 72% exact
# (docs/views.md), while on 30x30 mazes, at about 9 s per run, no view was exact (the model
# before): by default a maze of more than 400 cells gets one run (--views-max-cells).
DEFAULT_VIEWS_MAX_CELLS = {"sudoku": 0, "maze": 400}


@dataclass(frozen=True)
class ViewPlan:
    """How a puzzle's symmetric views are tried: up to `views` of them, `per_round` at a time
    in one batch, rounds after the first running at most `extra_segments` segments."""

    views: int = 1
    per_round: int = 1
    extra_segments: int | None = None
    max_cells: int = 0  # views beyond the first only for puzzles of at most this many cells (0: all)

    @classmethod
    def of(cls, views: "ViewPlan | int") -> "ViewPlan":
        """A plan, or a plain count of views tried one per round with every segment."""
        return views if isinstance(views, ViewPlan) else cls(views)

    def count_for(self, puzzle: np.ndarray) -> int:
        """The views tried on this puzzle."""
        return 1 if self.max_cells and puzzle.size > self.max_cells else self.views

    def flags(self) -> str:
        """The options that reproduce this plan (every one spelled out for a card's command)."""
        return (f"--views {self.views} --views-per-round {self.per_round}"
                + (f" --extra-view-segments {self.extra_segments}" if self.extra_segments else "")
                + (f" --views-max-cells {self.max_cells}" if self.max_cells else ""))


def views_for(kind: str, views: int | None, per_round: int | None = None,
              extra_segments: int | None = None, max_cells: int | None = None) -> ViewPlan | None:
    """The views to try: what the options give (checked), else the kind's defaults; None for
    ARC, whose answers vote over augmented copies their own way."""
    from puzzles.views import MAX_VIEWS

    if kind == "arc":
        if views is not None or per_round is not None or extra_segments is not None or max_cells is not None:
            raise UserError("--views is for sudoku and maze; ARC answers already vote over augmented copies")
        return None
    if views is None:
        views = DEFAULT_VIEWS[kind]
    if not 1 <= views <= MAX_VIEWS[kind]:
        raise UserError(f"--views must be between 1 and {MAX_VIEWS[kind]} for {kind}, got {views}")
    default_round, default_extra = DEFAULT_ROUNDS[kind]
    per_round = default_round if per_round is None else per_round
    if per_round < 1:
        raise UserError(f"--views-per-round must be >= 1, got {per_round}")
    if max_cells is not None and max_cells < 0:
        raise UserError(f"--views-max-cells must be >= 0 (0: every size), got {max_cells}")
    if extra_segments is not None and extra_segments < 1:
        raise UserError(f"--extra-view-segments must be >= 1, got {extra_segments}")
    return ViewPlan(views, min(per_round, views), default_extra if extra_segments is None else extra_segments,
                    DEFAULT_VIEWS_MAX_CELLS[kind] if max_cells is None else max_cells)


@dataclass
class Answers:
    """Per puzzle: the chosen answer in the puzzle's frame, the segments and ACT halting
    segment of the run that gave it, which view gave it and how many views were run."""

    predictions: list[np.ndarray]
    segments: np.ndarray
    halted_at: np.ndarray
    view: np.ndarray
    views_run: np.ndarray


def answer_items(kind: str, model, items: list[PuzzleItem], max_segments: int | None, stop_at_halt: bool,
                 views: ViewPlan | int = 1, batch_size: int | None = None, first_view: int = 0) -> Answers:
    """Answer every puzzle, trying up to `views` symmetric views of it (`puzzles.views`; a
    count or a whole `ViewPlan`).

    Views run in rounds of `per_round` views of every puzzle still open, answered
    together as rows of one batch, so a puzzle whose Sudoku answer follows the rules stops
    paying, and a single puzzle's views share a batch instead of running one after another.
    With more than one view a Sudoku run stops at the first segment whose answer follows
    the rules, and the other views of that puzzle stop with it; a run whose state stopped
    moving (a fixed point, `models.act.STILL_STATE`) ends without an answer (`views=1` keeps the
    reference protocol of a fixed number of segments). Rounds after the first run at most
    `extra_segments` segments (a puzzle the first views miss rarely needs the full
    depth again). Among rule-abiding answers the lowest rank wins (a maze's fewest steps);
    a puzzle with none keeps the answer of its first view. `first_view` skips views already
    tried elsewhere (the single-puzzle trace runs view 0 itself)."""
    from models.act import STILL_STATE
    from puzzles.errors import PuzzleError
    from puzzles.views import FINAL_WHEN_VALID, rank
    from puzzles.views import views as views_of

    plan = ViewPlan.of(views)
    try:
        chosen_views = views_of(kind, plan.views)[first_view:]
    except PuzzleError as exc:
        raise UserError(str(exc)) from None
    runner = model_for_items(kind, model, items)
    n = len(items)
    answers = Answers([None] * n, np.zeros(n, np.int32), np.zeros(n, np.int32), np.full(n, first_view, np.int32),
                      np.zeros(n, np.int32))
    best: list[int | None] = [None] * n
    limits = [plan.count_for(item.puzzle) for item in items]
    open_items = list(range(n))
    step = max(1, plan.per_round)
    for start in range(0, len(chosen_views), step):
        if not open_items:
            break
        pairs = [(i, view) for i in open_items for view in chosen_views[start:start + step]
                 if view.index < limits[i]]
        if not pairs:
            break
        seen = [PuzzleItem(view.apply(items[i].puzzle)) for i, view in pairs]
        owners = np.array([i for i, _ in pairs])
        searching = plan.views > 1 and FINAL_WHEN_VALID[kind]
        settled = _sudoku_rules_met(seen, owners) if searching else None
        segments = max_segments if start == 0 or plan.extra_segments is None else plan.extra_segments
        preds, used, halted = run_model(runner, encode_items(kind, seen, runner.config.seq_len), segments,
                                        stop_at_halt, batch_size, settled=settled,
                                        still_below=STILL_STATE if searching else None)
        for row, (i, view) in enumerate(pairs):
            answer = view.invert(decode_prediction(kind, preds[row], seen[row]))
            cost = rank(kind, items[i].puzzle, answer)
            answers.views_run[i] += 1
            if answers.predictions[i] is None or improves(cost, best[i]):
                answers.predictions[i], best[i] = answer, cost
                answers.segments[i], answers.halted_at[i], answers.view[i] = used[row], halted[row], view.index
        open_items = [i for i in open_items if best[i] is None or not FINAL_WHEN_VALID[kind]]
    return answers


@dataclass(frozen=True)
class ViewStep:
    """One segment of one view's run, moved back to the puzzle's cells: what the app animates
    and a single `hrm solve` prints."""

    view: int  # 0 = the puzzle as given
    views: int  # how many views may be tried
    record: Any  # models.act.SegmentRecord, decodes and confidences in the puzzle's frame
    follows_rules: bool  # this segment's H answer keeps the givens and breaks no rule


def trace_views(model, puzzle: np.ndarray, views: ViewPlan, max_segments: int | None, stop_at_halt: bool,
                inner_cycles: bool = False, kind: str = "sudoku"):
    """A puzzle's views one after another, segment by segment: `answer_items`'s search for one
    puzzle at one view per round. A Sudoku view's run stops at the first segment whose answer
    follows the rules, and that view ends the search, or when its state stops moving (a fixed
    point, `models.act.STILL_STATE`), and the next view begins; views after the first run at
    most `views.extra_segments` segments. A maze's views (`views.count_for` it) each run every
    segment, since a route that follows the rules may not be the shortest: `best_view` picks
    the answer. `model` must fit the puzzle (`model_for_items`). Yields `ViewStep`s, in the
    puzzle's frame."""
    from models.act import STILL_STATE, trace
    from models.backend import fit_blas_threads
    from puzzles.views import FINAL_WHEN_VALID, rank
    from puzzles.views import views as views_of

    fit_blas_threads(model.config.seq_len + 1)
    count = views.count_for(puzzle)
    searching = count > 1 and FINAL_WHEN_VALID[kind]
    for view in views_of(kind, count):
        seen = view.apply(puzzle)
        segments = max_segments if view.index == 0 or views.extra_segments is None else views.extra_segments
        item = PuzzleItem(seen)
        ok = False
        for record in trace(model, encode_items(kind, [item], model.config.seq_len), max_segments=segments,
                            inner_cycles=inner_cycles):
            ok = rank(kind, seen, decode_prediction(kind, record.h_tokens[0], item)) is not None
            yield ViewStep(view.index, count, _in_puzzle_frame(kind, record, view, seen.shape), ok)
            if (searching and (ok or record.state_change[0] < STILL_STATE)) or (stop_at_halt and record.halted_at[0]):
                break
        if searching and ok:
            return


def best_view(kind: str, puzzle: np.ndarray, answers: list[np.ndarray]) -> int:
    """Which of a puzzle's view answers (in the puzzle's frame, view order) to take, as
    `answer_items` takes it: the lowest rank (a maze's fewest steps), the earliest on a tie,
    the first view when none follows the rules."""
    from puzzles.views import rank

    chosen, best = 0, None
    for index, answer in enumerate(answers):
        cost = rank(kind, puzzle, answer)
        if improves(cost, best):
            chosen, best = index, cost
    return chosen


def improves(cost, best) -> bool:
    """Whether a view's answer of rank `cost` (None: breaks a rule) replaces the kept one of
    rank `best`: the one rule behind `answer_items` and `best_view`."""
    return cost is not None and (best is None or cost < best)


def _in_puzzle_frame(kind: str, record, view, seen_shape: tuple[int, int]):
    """A segment record of one row with its decodes and confidences moved back to the puzzle's
    cells (Sudoku digits relabelled; a maze's grid turned back on its canvas)."""
    if kind == "maze":
        return _maze_in_puzzle_frame(record, view, seen_shape)
    return _sudoku_in_puzzle_frame(record, view)


def _maze_in_puzzle_frame(record, view, seen_shape: tuple[int, int]):
    import dataclasses

    from puzzles import maze

    canvas = math.isqrt(record.h_tokens.shape[-1])
    height, width = seen_shape

    def cells(values: np.ndarray, tokens: bool) -> np.ndarray:
        grid = maze.decode(values[0], (height, width), canvas) if tokens else \
            values[0].reshape(canvas, canvas)[:height, :width]
        back = view.invert(grid)
        out = np.zeros((canvas, canvas), values.dtype)
        out[:back.shape[0], :back.shape[1]] = back
        return out.reshape(1, -1)

    return dataclasses.replace(record, h_tokens=cells(record.h_tokens, True), l_tokens=cells(record.l_tokens, True),
                               h_confidence=cells(record.h_confidence, False),
                               l_confidence=cells(record.l_confidence, False),
                               inner=[(level, cells(values, True)) for level, values in record.inner])


def _sudoku_in_puzzle_frame(record, view):
    """A Sudoku segment record with its decodes relabelled and moved back to the puzzle's cells."""
    import dataclasses

    from puzzles import sudoku

    def tokens(values: np.ndarray) -> np.ndarray:
        return sudoku.encode(view.invert(sudoku.decode(values)))

    return dataclasses.replace(record, h_tokens=tokens(record.h_tokens), l_tokens=tokens(record.l_tokens),
                               h_confidence=view.move_back(record.h_confidence),
                               l_confidence=view.move_back(record.l_confidence),
                               inner=[(level, tokens(values)) for level, values in record.inner])


def _sudoku_rules_met(items: list[PuzzleItem], owners: np.ndarray):
    """For `solve_dynamic`: which rows are done, because their current Sudoku answer follows
    the rules (checked in the view's frame, where the row's puzzle is) or because another
    view of the same puzzle (`owners[row]`) already gave such an answer."""
    from puzzles import sudoku

    puzzles = np.stack([item.puzzle for item in items])
    answered = np.zeros(int(owners.max()) + 1, dtype=bool)

    def settled(rows: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        valid = sudoku.solved_mask(puzzles[rows], sudoku.decode(tokens))  # decode is vectorised
        answered[owners[rows[valid]]] = True
        return valid | answered[owners[rows]]

    return settled


def format_prediction(kind: str, prediction: np.ndarray) -> Any:
    from puzzles import maze, sudoku

    if kind == "sudoku":
        return sudoku.format_line(prediction)
    return maze.format_maze(prediction).split("\n")


def result_record(kind: str, index: int, item: PuzzleItem, answers: Answers) -> dict[str, Any]:
    prediction = answers.predictions[index]
    verdict = verify(kind, item, prediction)
    record: dict[str, Any] = {
        "index": index,
        "prediction": format_prediction(kind, prediction),
        "segments": int(answers.segments[index]),
        "act_halted_at": int(answers.halted_at[index]) or None,
        "view": int(answers.view[index]),
        "views_run": int(answers.views_run[index]),
        "solved": bool(verdict.ok),
        "verdict": verdict.message,
    }
    if item.solution is not None:
        record["correct"] = bool(np.array_equal(prediction, item.solution))
    return record
