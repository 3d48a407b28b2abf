"""Messages the solver worker posts to its screen (from a thread; payloads are numpy)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class SegmentTraced(Message):
    """One ACT segment of solve `solve_id` is ready (a `models.act.SegmentRecord`), of the
    puzzle's symmetric view `view` (0: the puzzle as given), in the puzzle's frame."""

    solve_id: int
    record: object
    view: int = 0


@dataclass
class SolveFinished(Message):
    """Solve `solve_id` traced its last segment (ACT halted, or max segments reached)."""

    solve_id: int
    seconds: float
    extra: object = None  # what the request's follow-up returned (ARC: the voted attempts)


@dataclass
class SolveFailed(Message):
    """Solve `solve_id` raised; `error` is one line for a notification."""

    solve_id: int
    error: str
