"""Analytic FLOP counts of the HRM, for achieved GFLOP/s and utilisation.

Only matrix products are counted (2 FLOPs per multiply-add): projections, MLP, attention
scores and values, heads. Elementwise work is not, so the figures are the useful work a
perfect implementation would spend its time on.
"""

from __future__ import annotations

from models.config import HRMConfig


def block_flops(cfg: HRMConfig, batch: int) -> float:
    """One transformer block over the batch: qkv, out, gate|up and down projections plus
    attention (scores and weighted values over all positions)."""
    d, inter = cfg.hidden_size, cfg.mlp_hidden
    positions = cfg.seq_len + cfg.puzzle_emb_len
    tokens = batch * positions
    projections = 2 * tokens * (3 * d * d + d * d + 2 * d * inter + inter * d)
    attention = 2 * 2 * batch * positions * positions * d
    return float(projections + attention)


def heads_flops(cfg: HRMConfig, batch: int) -> float:
    """lm_head over the puzzle positions and q_head over position 0."""
    d = cfg.hidden_size
    return float(2 * batch * cfg.seq_len * d * cfg.vocab_size + 2 * batch * d * 2)


def segment_flops(cfg: HRMConfig, batch: int) -> float:
    """One ACT segment forward: H_cycles x L_cycles L updates and H_cycles H updates."""
    updates = cfg.H_cycles * cfg.L_cycles * cfg.L_layers + cfg.H_cycles * cfg.H_layers
    return updates * block_flops(cfg, batch) + heads_flops(cfg, batch)


def train_step_flops(cfg: HRMConfig, batch: int) -> float:
    """One ACT training step: the segment, the no-grad target-Q segment, and the backward
    pass (twice the forward: gradients of inputs and weights) through the final L and H
    updates and the heads (the one-step gradient)."""
    final_updates = (cfg.L_layers + cfg.H_layers) * block_flops(cfg, batch) + heads_flops(cfg, batch)
    target = segment_flops(cfg, batch) if cfg.halt_max_steps > 1 else 0.0
    return segment_flops(cfg, batch) + target + 2 * final_updates
