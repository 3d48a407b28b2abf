"""Optimisers of the reference: AdamATan2 for weights, sparse SignSGD for the puzzle embedding,
and the warmup-then-constant / cosine learning-rate schedule."""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np


class AdamATan2(optim.Optimizer):
    """Adam with atan2 in place of division (no epsilon), as the reference CUDA kernel:

        p *= 1 - lr*wd;  m = lerp(m, g, 1-b1);  v = lerp(v, g^2, 1-b2)
        p -= lr * atan2(m / (1 - b1^t), sqrt(v) / sqrt(1 - b2^t))
    """

    def __init__(self, learning_rate: float, betas=(0.9, 0.95), weight_decay: float = 0.1):
        super().__init__()
        self._maybe_schedule("learning_rate", learning_rate)
        self.betas = betas
        self.weight_decay = weight_decay

    def init_single(self, parameter: mx.array, state: dict) -> None:
        state["m"] = mx.zeros_like(parameter)
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict) -> mx.array:
        lr = self.learning_rate.astype(gradient.dtype)
        b1, b2 = self.betas
        t = self.step.astype(mx.float32)  # Optimizer.update increments step before applying
        m = state["m"] + (1 - b1) * (gradient - state["m"])
        v = state["v"] + (1 - b2) * (gradient * gradient - state["v"])
        state["m"], state["v"] = m, v
        bc1 = 1 - mx.power(b1, t)
        bc2 = 1 - mx.power(b2, t)
        parameter = parameter * (1 - lr * self.weight_decay)
        return parameter - lr * mx.arctan2(m / bc1, mx.sqrt(v) / mx.sqrt(bc2))


def sign_sgd_sparse_update(table: mx.array, ids: np.ndarray, row_grads: mx.array,
                           lr: float, weight_decay: float) -> mx.array:
    """The reference puzzle-embedding update: sum gradients per distinct id, then
    row = row * (1 - lr*wd) - lr * sign(grad) for the rows seen in this batch only."""
    unique, inverse = np.unique(np.asarray(ids), return_inverse=True)
    grad_sum = mx.zeros((len(unique), row_grads.shape[-1]), dtype=row_grads.dtype)
    grad_sum = grad_sum.at[mx.array(inverse.reshape(-1))].add(row_grads)
    idx = mx.array(unique)
    rows = table[idx]
    table[idx] = rows * (1 - lr * weight_decay) - lr * mx.sign(grad_sum)
    return table


def learning_rate(step: int, base_lr: float, warmup_steps: int, total_steps: int,
                  min_ratio: float = 1.0, schedule: str = "constant") -> float:
    """Linear warmup, then constant (reference default, min_ratio 1) or cosine to min_ratio."""
    if step < warmup_steps:
        return base_lr * step / max(1, warmup_steps)
    if schedule == "constant":
        return base_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return base_lr * (min_ratio + max(0.0, (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))))
