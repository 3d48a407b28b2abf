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
from typing import Iterator

import mlx.core as mx
import numpy as np

from models.hrm import HRM
from models.losses import act_loss, log_probs


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

    def arrays(self) -> dict[str, mx.array]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, mx.array]) -> "Carry":
        return cls(**{f.name: arrays[f.name] for f in fields(cls)})


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
    )


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
        nxt = model.segment(z_H, z_L, mx.stop_gradient(x))
        next_halt, next_cont = mx.stop_gradient(nxt.q_halt), mx.stop_gradient(nxt.q_continue)
        target_q = mx.sigmoid(mx.where(is_last, next_halt, mx.maximum(next_halt, next_cont)))

    loss, metrics = act_loss(out.logits, carry.labels, out.q_halt, out.q_continue, target_q,
                             halted, steps, cfg.loss_type)
    new_carry = Carry(z_H=z_H, z_L=z_L, steps=steps, halted=halted, inputs=carry.inputs,
                      labels=carry.labels, puzzle_identifiers=carry.puzzle_identifiers)
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
    inner: list[tuple[str, np.ndarray]] = field(default_factory=list)  # ("L"|"H", tokens) per update


def _decode_numpy(model: HRM, z: mx.array) -> tuple[np.ndarray, np.ndarray]:
    lp = log_probs(model.decode(z), model.config.loss_type)
    tokens = mx.argmax(lp, axis=-1)
    conf = mx.exp(mx.max(lp, axis=-1))
    return np.array(tokens, dtype=np.int32), np.array(conf, dtype=np.float32)


def trace(model: HRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray | None = None,
          max_segments: int | None = None, inner_cycles: bool = False) -> Iterator[SegmentRecord]:
    """Run ACT segment by segment and yield one record each (evaluation semantics: no
    exploration; runs `max_segments` (default halt_max_steps) and reports where ACT halts)."""
    cfg = model.config
    inputs = np.atleast_2d(np.asarray(inputs, dtype=np.int32))
    B = inputs.shape[0]
    if puzzle_identifiers is None:
        puzzle_identifiers = np.zeros((B,), dtype=np.int32)
    max_segments = max_segments or cfg.halt_max_steps
    x = model.input_embeddings(mx.array(inputs), model.puzzle_rows(mx.array(puzzle_identifiers)))
    z_H, z_L = model.initial_state(B)
    halted_at = np.zeros((B,), dtype=np.int32)
    for seg in range(1, max_segments + 1):
        inner: list[tuple[str, mx.array]] = []
        on_update = (lambda level, z: inner.append((level, mx.argmax(model.decode(z), axis=-1)))) \
            if inner_cycles else None
        out = model.segment(z_H, z_L, x, on_update)
        z_H, z_L = out.z_H, out.z_L
        mx.eval(z_H, z_L, out.q_halt, out.q_continue)
        h_tok, h_conf = _decode_numpy(model, z_H)
        l_tok, l_conf = _decode_numpy(model, z_L)
        qh = np.array(out.q_halt, dtype=np.float32)
        qc = np.array(out.q_continue, dtype=np.float32)
        would_halt = (qh > qc) | (seg >= cfg.halt_max_steps)
        halted_at = np.where((halted_at == 0) & would_halt, seg, halted_at)
        yield SegmentRecord(
            segment=seg, h_tokens=h_tok, l_tokens=l_tok, h_confidence=h_conf, l_confidence=l_conf,
            q_halt_logit=qh, q_continue_logit=qc,
            q_halt_prob=1 / (1 + np.exp(-qh)), q_continue_prob=1 / (1 + np.exp(-qc)),
            would_halt=would_halt, halted_at=halted_at.copy(),
            inner=[(level, np.array(tok, dtype=np.int32)) for level, tok in inner],
        )


def predict(model: HRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray | None = None,
            max_segments: int | None = None, stop_at_halt: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Final tokens per row and the segments used: the prediction at ACT's halting segment
    when `stop_at_halt`, else after `max_segments`."""
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
