"""The solver: runs `models.act.trace` in a thread worker, one message per segment.

The worker never raises into Textual: any exception becomes a `SolveFailed` message, so a
broken model or input shows a notification instead of ending the app. Cancellation is
checked between segments (a segment itself cannot be interrupted).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from textual.message_pump import MessagePump
from textual.worker import get_current_worker

from hrm_tui.app.messages import SegmentTraced, SolveFailed, SolveFinished


@dataclass(frozen=True, eq=False)
class SolveRequest:
    solve_id: int
    model: object  # models.hrm.HRM
    tokens: np.ndarray  # (S,) int32
    puzzle_id: int
    max_segments: int
    stop_at_halt: bool
    follow_up: Callable[[], object] | None = None  # more work after the trace (ARC voting)
    views: object | None = None  # hrm_tui.solving.ViewPlan: symmetric views, tried as `hrm solve` tries them
    kind: str = "sudoku"  # the puzzle kind of `puzzle`, when views are tried
    puzzle: np.ndarray | None = None  # the puzzle's grid, when views are tried


def run_trace(target: MessagePump, request: SolveRequest) -> None:
    """Thread-worker body: trace `request` and post the results to `target`."""
    worker = get_current_worker()
    started = time.perf_counter()
    try:
        for view, record in _records(request):
            if worker.is_cancelled:
                return
            target.post_message(SegmentTraced(request.solve_id, record, view))
        extra = request.follow_up() if request.follow_up and not worker.is_cancelled else None
    except Exception as exc:  # noqa: BLE001 - the worker reports, the UI stays up
        target.post_message(SolveFailed(request.solve_id, f"{type(exc).__name__}: {exc}"))
        return
    if not worker.is_cancelled:
        target.post_message(SolveFinished(request.solve_id, time.perf_counter() - started, extra))


def _records(request: SolveRequest):
    """(view, segment record) pairs: the puzzle's symmetric views one after another through
    `hrm_tui.solving.trace_views`, the code `hrm solve` runs (a Sudoku view runs until its
    answer follows the rules, a maze view every segment, as there, not until ACT halts), or one
    plain trace."""
    if request.views is not None and request.views.views > 1:
        from hrm_tui.solving import trace_views

        for step in trace_views(request.model, request.puzzle, request.views, request.max_segments, stop_at_halt=False,
                                inner_cycles=True, kind=request.kind):
            yield step.view, step.record
        return
    from models.act import trace

    for record in trace(request.model, request.tokens[None, :], np.array([request.puzzle_id], np.int32),
                        max_segments=request.max_segments, inner_cycles=True):
        yield 0, record
        if request.stop_at_halt and record.halted_at[0]:
            return
