"""The frames of one solve, ready for playback.

A `Trajectory` takes `SegmentRecord`s as the worker produces them and keeps one batch row.
It offers two granularities: one frame per ACT segment (with confidences and Q values), or
finer frames for every L and H update inside a segment (tokens only), ending in the same
segment frames. Pure numpy; no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Frame:
    segment: int  # 1-based
    update: int  # 0 for the segment's end, k for the k-th inner update (1-based)
    level: str  # "segment", or "L" / "H" for an inner update
    h_tokens: np.ndarray | None  # (S,) None before the first H update of the solve
    l_tokens: np.ndarray | None
    h_confidence: np.ndarray | None = None  # only at segment ends
    l_confidence: np.ndarray | None = None

    @property
    def is_segment_end(self) -> bool:
        return self.update == 0


@dataclass(frozen=True)
class SegmentQ:
    """The halting decision after one segment."""

    segment: int
    q_halt: float  # sigmoid probabilities
    q_continue: float
    q_halt_logit: float
    q_continue_logit: float
    would_halt: bool


class Trajectory:
    """Everything traced so far for one puzzle (batch row `row` of the records)."""

    def __init__(self, max_segments: int, updates_per_segment: int = 0, row: int = 0, view: int = 0,
                 answer_at_halt: bool = True):
        self.max_segments = max_segments
        self.view = view  # the puzzle's symmetric view this run answers (0: as given)
        # Where the answer is read: where ACT halts (a plain solve), or the last segment (a
        # view search, whose runs end where their answer follows the rules, as `hrm solve`).
        self.answer_at_halt = answer_at_halt
        self.updates_per_segment = updates_per_segment
        self.row = row
        self.records: list = []  # the SegmentRecords as traced (for recordings)
        self.segments: list[SegmentQ] = []
        self.coarse: list[Frame] = []
        self.fine: list[Frame] = []
        self.halted_at = 0  # first segment where ACT halts; 0 if it has not
        self.finished = False

    def add(self, record) -> None:
        """Append one `models.act.SegmentRecord`."""
        self.records.append(record)
        r = self.row
        seg = int(record.segment)
        end = Frame(seg, 0, "segment", record.h_tokens[r].copy(), record.l_tokens[r].copy(),
                    record.h_confidence[r].copy(), record.l_confidence[r].copy())
        previous = self.coarse[-1] if self.coarse else None
        h, l = (previous.h_tokens, previous.l_tokens) if previous else (None, None)
        # The last inner update is the final H update, i.e. the segment's end frame itself.
        for k, (level, tokens) in enumerate(record.inner[:-1], start=1):
            if level == "L":
                l = tokens[r].copy()
            else:
                h = tokens[r].copy()
            self.fine.append(Frame(seg, k, level, h, l))
        self.fine.append(end)
        self.coarse.append(end)
        self.updates_per_segment = max(self.updates_per_segment, len(record.inner))
        self.segments.append(SegmentQ(
            seg, float(record.q_halt_prob[r]), float(record.q_continue_prob[r]),
            float(record.q_halt_logit[r]), float(record.q_continue_logit[r]), bool(record.would_halt[r])))
        if not self.halted_at and int(record.halted_at[r]):
            self.halted_at = int(record.halted_at[r])

    def frames(self, fine: bool) -> list[Frame]:
        return self.fine if fine else self.coarse

    def index_of(self, segment: int, update: int, fine: bool) -> int:
        """Where a (segment, update) position lands in the other granularity: the same
        frame if it exists there, else that segment's end."""
        frames = self.frames(fine)
        for i, frame in enumerate(frames):
            if frame.segment == segment and (frame.update == update or (not fine and frame.is_segment_end)):
                return i
        return max(len(frames) - 1, 0)

    @property
    def answer_segment(self) -> int:
        """The segment whose H decode is the model's answer: where ACT halted (unless the
        answer is read at the end), else the last."""
        return (self.halted_at if self.answer_at_halt else 0) or len(self.coarse)

    def answer(self) -> Frame | None:
        seg = self.answer_segment
        return self.coarse[seg - 1] if 0 < seg <= len(self.coarse) else None
