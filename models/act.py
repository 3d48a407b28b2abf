"""Adaptive computation time (ACT) around the HRM core.

Training semantics follow the reference: the carry (z_H, z_L, steps, halted, current data)
persists across optimiser steps; halted rows are refilled from the next batch; a row halts when
q_halt > q_continue (with exploration enforcing a random minimum number of segments) or at
`halt_max_steps`; the Q-continue target comes from one extra no-grad segment.

Inference (`trace`) runs segments one at a time and yields numpy records for the UI and the
batch solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable, Iterator

import mlx.core as mx
import numpy as np

from models import fastmath
from models.cpu_jit import use_compile
from models.hrm import HRM
from models.losses import IGNORE_LABEL, act_loss, distance_terms, log_probs


@dataclass
class Carry:
    """ACT state of every batch row between optimiser steps."""

    z_H: mx.array
    z_L: mx.array
    steps: mx.array  # (B,) int32 segments run on the current puzzle
    halted: mx.array  # (B,) bool; a halted row takes new data at the next step
    inputs: mx.array  # (B, S) int32
    labels: mx.array  # (B, S) int32
    puzzle_identifiers: mx.array  # (B,) int32
    # (B, S, 2) int32 targets of the distance head (models.hrm.HRM.distance_logits), only
    # when the model has one; absent from `arrays()` otherwise, so other carries are unchanged.
    distances: mx.array | None = None

    def arrays(self) -> dict[str, mx.array]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_arrays(cls, arrays: dict[str, mx.array]) -> "Carry":
        return cls(**{f.name: arrays.get(f.name) for f in fields(cls)})


def initial_carry(model: HRM, batch: dict[str, np.ndarray]) -> Carry:
    """A carry whose rows are all halted, so the first step loads the first batch."""
    B = batch["inputs"].shape[0]
    z_H, z_L = model.initial_state(B)
    return Carry(
        z_H=z_H, z_L=z_L,
        steps=mx.zeros((B,), dtype=mx.int32),
        halted=mx.ones((B,), dtype=mx.bool_),
        inputs=mx.array(batch["inputs"], dtype=mx.int32),
        labels=mx.array(batch["labels"], dtype=mx.int32),
        puzzle_identifiers=mx.array(batch["puzzle_identifiers"], dtype=mx.int32),
        distances=_distances(model, batch),
    )


def _distances(model: HRM, batch: dict) -> mx.array | None:
    """The batch's distance targets when the model has a distance head (else None)."""
    if not model.config.distance_classes:
        return None
    if "distances" not in batch:
        raise ValueError("a model with a distance head trains on batches with 'distances' (mazes only)")
    return _int32(batch["distances"])


def _int32(a) -> mx.array:
    return a.astype(mx.int32) if isinstance(a, mx.array) else mx.array(a, dtype=mx.int32)


def refill(model: HRM, carry: Carry, batch: dict) -> Carry:
    """Halted rows restart from the init state with the batch's data (numpy or mx arrays);
    others continue."""
    reset = carry.halted
    z_H, z_L = model.reset_state(reset, carry.z_H, carry.z_L)
    row = reset[:, None]
    return Carry(
        z_H=z_H, z_L=z_L,
        steps=mx.where(reset, 0, carry.steps),
        halted=carry.halted,
        inputs=mx.where(row, _int32(batch["inputs"]), carry.inputs),
        labels=mx.where(row, _int32(batch["labels"]), carry.labels),
        puzzle_identifiers=mx.where(reset, _int32(batch["puzzle_identifiers"]), carry.puzzle_identifiers),
        distances=None if carry.distances is None else mx.where(row[..., None], _distances(model, batch),
                                                                carry.distances),
    )


def act_train_segment(model: HRM, carry: Carry, puzzle_rows: mx.array, explore_u: mx.array,
                      explore_steps: mx.array):
    """One training segment on a refilled carry: returns (loss, metrics, new_carry).

    `explore_u` ~ U[0,1) and `explore_steps` ~ U{2..max} per row are drawn by the caller so
    the function is pure (and differentiable w.r.t. the model and `puzzle_rows`).
    """
    cfg = model.config
    x = model.input_embeddings(carry.inputs, puzzle_rows)
    out = model.segment(carry.z_H, carry.z_L, x)
    z_H, z_L = mx.stop_gradient(out.z_H), mx.stop_gradient(out.z_L)

    steps = carry.steps + 1
    is_last = steps >= cfg.halt_max_steps
    halted = is_last
    target_q = None
    if cfg.halt_max_steps > 1:
        q_halt, q_cont = mx.stop_gradient(out.q_halt), mx.stop_gradient(out.q_continue)
        halted = halted | (q_halt > q_cont)
        min_halt = mx.where(explore_u < cfg.halt_exploration_prob, explore_steps, 0)
        halted = halted & (steps >= min_halt)
        # Target Q from one extra segment without gradient (as the reference).
        next_halt, next_cont = map(mx.stop_gradient, model.next_q_values(z_H, z_L, mx.stop_gradient(x)))
        target_q = mx.sigmoid(mx.where(is_last, next_halt, mx.maximum(next_halt, next_cont)))

    loss, metrics = act_loss(out.logits, carry.labels, out.q_halt, out.q_continue, target_q,
                             halted, steps, cfg.loss_type)
    if cfg.distance_classes:
        distance_loss, distance_hits = distance_terms(model.distance_logits(out.z_H), carry.distances, cfg.loss_type)
        loss = loss + distance_loss
        metrics["distance_loss"] = distance_loss
        metrics["distance_accuracy"] = mx.where(halted & (carry.labels != IGNORE_LABEL).any(-1), distance_hits, 0).sum()
    new_carry = Carry(z_H=z_H, z_L=z_L, steps=steps, halted=halted, inputs=carry.inputs,
                      labels=carry.labels, puzzle_identifiers=carry.puzzle_identifiers, distances=carry.distances)
    return loss, metrics, new_carry


# -- inference ------------------------------------------------------------------------------

@dataclass
class SegmentRecord:
    """What one ACT segment decodes to, as numpy arrays (batch-first)."""

    segment: int  # 1-based
    h_tokens: np.ndarray  # (B, S) argmax of lm_head(z_H)
    l_tokens: np.ndarray  # (B, S) argmax of lm_head(z_L) (L state through the same head)
    h_confidence: np.ndarray  # (B, S) probability of the argmax token
    l_confidence: np.ndarray  # (B, S)
    q_halt_logit: np.ndarray  # (B,)
    q_continue_logit: np.ndarray  # (B,)
    q_halt_prob: np.ndarray  # (B,) sigmoid
    q_continue_prob: np.ndarray  # (B,)
    would_halt: np.ndarray  # (B,) bool: ACT halts here (q_halt > q_continue, or last segment)
    halted_at: np.ndarray  # (B,) int: first segment where ACT halted, 0 if not yet
    # (B,) how far z_H moved over this segment, relative to its size (`state_change`): near
    # zero once the recurrence has reached a fixed point, so later segments repeat the answer.
    state_change: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    inner: list[tuple[str, np.ndarray]] = field(default_factory=list)  # ("L"|"H", tokens) per update


def _decode(model: HRM, logits: mx.array) -> tuple[mx.array, mx.array]:
    """Argmax tokens and the probability of each."""
    lp = log_probs(logits, model.config.loss_type)
    return mx.argmax(lp, axis=-1), mx.exp(mx.max(lp, axis=-1))


def _inference_segment(model: HRM, z_H: mx.array, z_L: mx.array, x: mx.array, inner: bool) -> tuple:
    """One segment and everything `trace` and the solvers read from it, as a flat tuple:
    z_H, z_L, q_halt, q_continue, H tokens, H confidence, L tokens, L confidence, then (when
    `inner`) the decoded tokens of every update in `HRM.update_levels` order."""
    updates: list[mx.array] = []
    on_update = (lambda level, z: updates.append(mx.argmax(model.decode(z), axis=-1))) if inner else None
    out = model.segment(z_H, z_L, x, on_update)
    h_tok, h_conf = _decode(model, out.logits)
    l_tok, l_conf = _decode(model, model.decode(out.z_L))
    return (out.z_H, out.z_L, out.q_halt, out.q_continue, h_tok, h_conf, l_tok, l_conf, *updates)


def _segment_function(model: HRM, inner: bool = False):
    """`_inference_segment` for `model`, compiled when that pays (models/cpu_jit.py) and cached
    on the model. The weights are declared inputs, so a model that keeps training (evaluation
    during `hrm train`) is always run with its current weights."""
    if not use_compile():
        return lambda z_H, z_L, x: _inference_segment(model, z_H, z_L, x, inner)
    cache = model.__dict__.setdefault("_compiled_segments", {})  # not a Module attribute: no weights
    if inner not in cache:
        def traced(z_H, z_L, x):
            with fastmath.fused():
                return _inference_segment(model, z_H, z_L, x, inner)

        cache[inner] = mx.compile(traced, inputs=model.state)
    return cache[inner]


# A row whose z_H moved less than this over a segment, relative to its size, has reached a
# fixed point: stopping it loses nothing (Sudoku, `hrm bench`: on 512 puzzles of 26-40 givens,
# chosen on one seed and checked on another, accuracy stayed equal to 16 full segments at
# 0.004 and first fell at 0.005-0.007; answers stop changing long before the state does).
STILL_STATE = 0.004


# Rows of one forward pass when the caller does not choose, on the CPU: a pass over about this
# many token positions keeps its activations in the core's cache. Per row, one thread
# (`hrm bench`, inference table): a Sudoku segment costs 9.4 ms at 8 rows against 13.3 at 256,
# a 15x15 maze's 34.8 ms at 2 rows against 59.8 at 256. GPUs keep wide batches.
CPU_POSITIONS_PER_PASS = 656
GPU_ROWS_PER_PASS = 256


def rows_per_pass(config) -> int:
    """Batch rows per forward pass for inference on the current device (see above)."""
    if mx.default_device() != mx.cpu:
        return GPU_ROWS_PER_PASS
    return max(1, CPU_POSITIONS_PER_PASS // (config.seq_len + config.puzzle_emb_len))


def state_change(new: mx.array, old: mx.array) -> mx.array:
    """(B,) |new - old| / |new| per row over all positions and features."""
    return mx.sqrt(mx.sum(mx.square(new - old), axis=(1, 2)) / mx.maximum(mx.sum(mx.square(new), axis=(1, 2)), 1e-12))


def _embed(model: HRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray) -> mx.array:
    return model.input_embeddings(mx.array(inputs), model.puzzle_rows(mx.array(puzzle_identifiers)))


def _prepare(model: HRM, inputs, puzzle_identifiers, max_segments):
    inputs = np.atleast_2d(np.asarray(inputs, dtype=np.int32))
    if puzzle_identifiers is None:
        puzzle_identifiers = np.zeros((inputs.shape[0],), dtype=np.int32)
    return inputs, np.asarray(puzzle_identifiers, dtype=np.int32), max_segments or model.config.halt_max_steps


def trace(model: HRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray | None = None,
          max_segments: int | None = None, inner_cycles: bool = False) -> Iterator[SegmentRecord]:
    """Run ACT segment by segment and yield one record each (evaluation semantics: no
    exploration; runs `max_segments` (default halt_max_steps) and reports where ACT halts)."""
    cfg = model.config
    inputs, puzzle_identifiers, max_segments = _prepare(model, inputs, puzzle_identifiers, max_segments)
    B = inputs.shape[0]
    x = _embed(model, inputs, puzzle_identifiers)
    z_H, z_L = model.initial_state(B)
    step = _segment_function(model, inner_cycles)
    levels = model.update_levels() if inner_cycles else []
    halted_at = np.zeros((B,), dtype=np.int32)
    for seg in range(1, max_segments + 1):
        outs = step(z_H, z_L, x)
        moved = state_change(outs[0], z_H)
        mx.eval(outs, moved)
        z_H, z_L = outs[0], outs[1]
        qh, qc, h_tok, h_conf, l_tok, l_conf = (np.array(a) for a in outs[2:8])
        would_halt = (qh > qc) | (seg >= cfg.halt_max_steps)
        halted_at = np.where((halted_at == 0) & would_halt, seg, halted_at)
        yield SegmentRecord(
            segment=seg, h_tokens=h_tok.astype(np.int32), l_tokens=l_tok.astype(np.int32),
            h_confidence=h_conf, l_confidence=l_conf, q_halt_logit=qh, q_continue_logit=qc,
            q_halt_prob=1 / (1 + np.exp(-qh)), q_continue_prob=1 / (1 + np.exp(-qc)),
            would_halt=would_halt, halted_at=halted_at.copy(), state_change=np.array(moved),
            inner=[(level, np.array(tok, dtype=np.int32)) for level, tok in zip(levels, outs[8:])],
        )


def solve_dynamic(model: HRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray | None = None,
                  slots: int | None = None, max_segments: int | None = None, stop_at_halt: bool = True,
                  on_progress: Callable[[int], None] | None = None,
                  settled: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                  still_below: float | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve N puzzles with `slots` batch rows in flight: when a row halts, its puzzle's answer
    is taken and the row starts the next puzzle, so no row idles until the slowest puzzle of a
    fixed batch is done (the reference code runs every puzzle for the maximum segments).

    Per puzzle the result is what `predict` gives: ACT halts at the first segment where
    q_halt > q_continue (or at halt_max_steps); the prediction is the H decode of that segment,
    or of segment `max_segments` if ACT has not halted by then. With `stop_at_halt=False`
    every puzzle runs `max_segments`. `slots` defaults to `rows_per_pass`. Returns (predictions (N, S) int32, segments run (N,),
    ACT's halting segment (N,), 0 where it did not halt). `on_progress(k)` reports k more
    puzzles finished. When the queue is empty the batch shrinks as rows fall idle (`tail_width`).
    `settled(puzzles, tokens)` may end rows early: True where the answer so far is final
    (the caller knows the rules; a Sudoku answer that follows them cannot improve).
    `still_below` ends a row whose z_H moved less than that over its last segment (relative,
    see `STILL_STATE`): a fixed point, whose later segments would repeat its answer.
    """
    cfg = model.config
    inputs, puzzle_identifiers, max_segments = _prepare(model, inputs, puzzle_identifiers, max_segments)
    n = inputs.shape[0]
    predictions = np.zeros_like(inputs)
    used = np.zeros((n,), dtype=np.int32)
    halted_at = np.zeros((n,), dtype=np.int32)
    if n == 0:
        return predictions, used, halted_at
    step = _segment_function(model)
    width = max(1, min(slots or rows_per_pass(cfg), n))
    puzzle = np.full((width,), -1)  # the puzzle each row works on, -1 when idle
    segments = np.zeros((width,), dtype=np.int32)
    z_H, z_L = model.initial_state(width)
    queued = 0
    while True:
        idle = np.flatnonzero(puzzle < 0)[: n - queued]
        if len(idle):
            puzzle[idle] = np.arange(queued, queued + len(idle))
            queued += len(idle)
            segments[idle] = 0
            fresh = np.zeros((width,), dtype=bool)
            fresh[idle] = True
            z_H, z_L = model.reset_state(mx.array(fresh), z_H, z_L)
        rows = np.maximum(puzzle, 0)  # idle rows compute a harmless copy of puzzle 0
        outs = step(z_H, z_L, _embed(model, inputs[rows], puzzle_identifiers[rows]))
        moved = np.array(state_change(outs[0], z_H)) if still_below is not None else None
        z_H, z_L = outs[0], outs[1]
        q_halt, q_continue, tokens = (np.array(a) for a in outs[2:5])
        active = puzzle >= 0
        segments[active] += 1
        halts = active & ((q_halt > q_continue) | (segments >= cfg.halt_max_steps))
        first = halts & (halted_at[rows] == 0)
        halted_at[puzzle[first]] = segments[first]
        done = active & (segments >= max_segments)
        if stop_at_halt:
            done |= halts
        if moved is not None:
            done |= active & (moved < still_below)
        if settled is not None and active.any():
            done[active] |= settled(puzzle[active], tokens[active])
        predictions[puzzle[done]] = tokens[done]
        used[puzzle[done]] = segments[done]
        puzzle[done] = -1
        if on_progress and done.any():
            on_progress(int(done.sum()))
        busy = np.flatnonzero(puzzle >= 0)
        if queued == n:
            if len(busy) == 0:
                return predictions, used, halted_at
            if tail_width(len(busy)) < width:  # nothing left to start: drop the idle rows
                width = tail_width(len(busy))
                keep = np.concatenate([busy, np.flatnonzero(puzzle < 0)])[:width]
                puzzle, segments = puzzle[keep], segments[keep]
                z_H, z_L = z_H[mx.array(keep)], z_L[mx.array(keep)]


def tail_width(busy: int) -> int:
    """Batch rows to keep once no puzzle is waiting: the busy rows rounded up to a multiple of
    4 (exact below 4). A new batch shape costs a retrace, not a new compilation of the kernels
    (CPU, Sudoku d 128: no measurable time), so the tail need not halve; halving left 4% of the
    row-segments of `hrm bench`'s 512 puzzles on idle rows."""
    return busy if busy <= 4 else -(-busy // 4) * 4


def predict(model: HRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray | None = None,
            max_segments: int | None = None, stop_at_halt: bool = True,
            rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Final tokens per row and the segments used: the prediction at ACT's halting segment
    when `stop_at_halt`, else after `max_segments`. Runs `rows` (default `rows_per_pass`)
    rows at a time."""
    inputs, puzzle_identifiers, max_segments = _prepare(model, inputs, puzzle_identifiers, max_segments)
    if len(inputs) == 0:
        return np.zeros_like(inputs), np.zeros((0,), np.int32)
    width = rows or rows_per_pass(model.config)
    parts = [_predict_rows(model, inputs[i:i + width], puzzle_identifiers[i:i + width], max_segments, stop_at_halt)
             for i in range(0, len(inputs), width)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _predict_rows(model: HRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray, max_segments: int,
                  stop_at_halt: bool) -> tuple[np.ndarray, np.ndarray]:
    tokens = None
    used = None
    for rec in trace(model, inputs, puzzle_identifiers, max_segments):
        if tokens is None:
            tokens = rec.h_tokens.copy()
            used = np.zeros(len(tokens), dtype=np.int32)
        live = (rec.halted_at == 0) | (rec.halted_at == rec.segment) if stop_at_halt else np.ones(len(tokens), bool)
        tokens[live] = rec.h_tokens[live]
        used[live] = rec.segment
        if stop_at_halt and np.all(rec.halted_at > 0):
            break
    return tokens, used
