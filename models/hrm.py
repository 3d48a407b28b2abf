"""The HRM core: H and L recurrent modules, input injection into L, one-step gradient.

Non-trainable state (H_init, L_init, the puzzle-embedding table) lives in the module so it is
saved with the weights, but is frozen so optimisers and gradients never see it; the puzzle
embedding has its own sparse SignSGD update (models/optim.py).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from models.config import HRMConfig
from models.errors import ModelError
from models.layers import Linear, ReasoningModule, trunc_normal

FROZEN_KEYS = ("H_init", "L_init", "puzzle_emb")


@dataclass
class SegmentOutput:
    z_H: mx.array
    z_L: mx.array
    logits: mx.array  # (B, seq_len, vocab) read from z_H
    q_halt: mx.array  # (B,)
    q_continue: mx.array  # (B,)


class HRM(nn.Module):
    def __init__(self, config: HRMConfig, seed: int = 0):
        super().__init__()
        self.config = config
        rng = np.random.default_rng(seed)
        d = config.hidden_size
        self.embed_scale = math.sqrt(d)
        self.embed_tokens = nn.Embedding(config.vocab_size, d)
        self.embed_tokens.weight = trunc_normal((config.vocab_size, d), 1.0 / self.embed_scale, rng)
        self.lm_head = Linear(d, config.vocab_size, rng)
        self.q_head = Linear(d, 2, rng, bias=True)
        # Q-head starts at "never halt" so early training runs full segments (reference init).
        self.q_head.weight = mx.zeros_like(self.q_head.weight)
        self.q_head.bias = mx.full((2,), -5.0)
        self.H_level = ReasoningModule(config, config.H_layers, rng)
        self.L_level = ReasoningModule(config, config.L_layers, rng)
        self.H_init = trunc_normal((d,), 1.0, rng)
        self.L_init = trunc_normal((d,), 1.0, rng)
        self.puzzle_emb = mx.zeros((config.num_puzzle_identifiers, max(config.puzzle_emb_ndim, 1)))
        if config.pos_encodings == "learned":  # drawn last: RoPE models keep their init stream
            self.embed_pos = trunc_normal((config.seq_len + config.puzzle_emb_len, d), 1.0 / self.embed_scale, rng)
        elif config.absolute_positions:
            self.embed_pos = mx.zeros((config.seq_len + config.puzzle_emb_len, d))
        if config.distance_classes:  # drawn after everything else: other models keep their init stream
            self.distance_head = Linear(d, 2 * config.distance_classes, rng)
        self.freeze(keys=list(FROZEN_KEYS), recurse=False)

    # -- embeddings ---------------------------------------------------------------------
    def puzzle_rows(self, puzzle_identifiers: mx.array) -> mx.array:
        """The puzzle-embedding rows of a batch; differentiated as an explicit input."""
        return self.puzzle_emb[puzzle_identifiers]

    def input_embeddings(self, inputs: mx.array, puzzle_rows: mx.array | None) -> mx.array:
        cfg = self.config
        emb = self.embed_tokens(inputs)
        if cfg.puzzle_emb_ndim > 0:
            B = inputs.shape[0]
            pad = cfg.puzzle_emb_len * cfg.hidden_size - cfg.puzzle_emb_ndim
            rows = puzzle_rows[:, : cfg.puzzle_emb_ndim]
            if pad:
                rows = mx.concatenate([rows, mx.zeros((B, pad), dtype=rows.dtype)], axis=-1)
            emb = mx.concatenate([rows.reshape(B, cfg.puzzle_emb_len, cfg.hidden_size), emb], axis=1)
        if cfg.pos_encodings == "learned":
            emb = 0.707106781 * (emb + self.embed_pos)  # 1/sqrt(2) keeps the variance (reference)
        elif cfg.absolute_positions:
            emb = emb + self.embed_pos  # unscaled: a zero table leaves the RoPE model as it was
        return self.embed_scale * emb

    # -- state --------------------------------------------------------------------------
    def initial_state(self, batch_size: int) -> tuple[mx.array, mx.array]:
        """Fresh (z_H, z_L): the fixed init vectors broadcast over batch and positions."""
        shape = (batch_size, self.config.seq_len + self.config.puzzle_emb_len, self.config.hidden_size)
        return mx.broadcast_to(self.H_init, shape), mx.broadcast_to(self.L_init, shape)

    def reset_state(self, reset: mx.array, z_H: mx.array, z_L: mx.array) -> tuple[mx.array, mx.array]:
        mask = reset[:, None, None]
        return mx.where(mask, self.H_init, z_H), mx.where(mask, self.L_init, z_L)

    # -- one ACT segment ----------------------------------------------------------------
    def cycles(self, z_H: mx.array, z_L: mx.array, x: mx.array, on_update=None, h_queries: int | None = None):
        """All H_cycles x L_cycles updates of one segment; only the last L and H update carry
        gradient (one-step gradient approximation) unless the config asks for the whole
        segment's. `on_update(level, z)` sees every update.
        With `h_queries`, the final H update computes only its first `h_queries` positions."""
        cfg = self.config
        for h_step in range(cfg.H_cycles):
            for l_step in range(cfg.L_cycles):
                last = h_step == cfg.H_cycles - 1 and l_step == cfg.L_cycles - 1
                if not last:
                    z_L = self.L_level(z_L, z_H + x)
                    if on_update:
                        on_update("L", z_L)
            if h_step != cfg.H_cycles - 1:
                z_H = self.H_level(z_H, z_L)
                if on_update:
                    on_update("H", z_H)
        if cfg.segment_gradient == "one_step":
            z_H, z_L = mx.stop_gradient(z_H), mx.stop_gradient(z_L)
        z_L = self.L_level(z_L, z_H + x)
        if on_update:
            on_update("L", z_L)
        z_H = self.H_level(z_H, z_L, h_queries)
        if on_update:
            on_update("H", z_H)
        return z_H, z_L

    def update_levels(self) -> list[str]:
        """The level ("L" or "H") of each update `cycles` makes, in order."""
        return (["L"] * self.config.L_cycles + ["H"]) * self.config.H_cycles

    def decode(self, z: mx.array) -> mx.array:
        """Token logits for the puzzle positions of a state (z_H, or z_L for visualisation)."""
        return self.lm_head(z[:, self.config.puzzle_emb_len:])

    def distance_logits(self, z_H: mx.array) -> mx.array:
        """(B, seq_len, 2, distance_classes) logits of each cell's steps from S and from G
        modulo the classes (the auxiliary head; training only)."""
        logits = self.distance_head(z_H[:, self.config.puzzle_emb_len:])
        return logits.reshape(*logits.shape[:2], 2, self.config.distance_classes)

    def q_values(self, z_H: mx.array) -> tuple[mx.array, mx.array]:
        q = self.q_head(z_H[:, 0])
        return q[:, 0], q[:, 1]

    def next_q_values(self, z_H: mx.array, z_L: mx.array, x: mx.array) -> tuple[mx.array, mx.array]:
        """(q_halt, q_continue) after one more segment: what the ACT target needs, computed
        without the positions of the final H update that the Q head does not read."""
        z_H, _ = self.cycles(z_H, z_L, x, h_queries=1)
        return self.q_values(z_H)

    def segment(self, z_H: mx.array, z_L: mx.array, x: mx.array, on_update=None) -> SegmentOutput:
        z_H, z_L = self.cycles(z_H, z_L, x, on_update)
        q_halt, q_continue = self.q_values(z_H)
        return SegmentOutput(z_H, z_L, self.decode(z_H), q_halt, q_continue)


def count_parameters(model: HRM) -> int:
    """Trainable parameters, counted as the reference does (no puzzle embedding, no init vectors)."""
    from mlx.utils import tree_flatten

    return sum(v.size for _, v in tree_flatten(model.trainable_parameters()))


def size_free(config: HRMConfig) -> bool:
    """Whether a model has no parameter tied to its grid size: with 2-D RoPE every weight
    sees only (row, column) offsets, so the same weights run on a larger grid."""
    return config.pos_encodings == "rope2d" and not config.absolute_positions and not config.rope_boxes


def on_grid(model: HRM, rows: int, cols: int) -> HRM:
    """The same weights on a rows x cols grid (a size-free model only)."""
    cfg = model.config
    if (rows, cols) == tuple(cfg.grid_shape):
        return model
    if not size_free(cfg):
        raise ModelError(f"a model with {cfg.positions} positions runs only on its "
                         f"{cfg.grid_shape[0]}x{cfg.grid_shape[1]} grid")
    resized = HRM(dataclasses.replace(cfg, seq_len=rows * cols, grid_shape=(rows, cols)))
    resized.update(model.parameters())
    resized.train(model.training)
    return resized
