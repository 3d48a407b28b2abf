"""Cheaper transcendentals for MLX's CPU backend.

On Linux CPU, `mx.exp` costs ~9 ns/element (scalar libm) while a multiply costs well under
1 ns, so SiLU and the attention softmax dominate a segment. `exp` here is a Cody-Waite range
reduction plus a degree-7 polynomial built from cheap vectorised ops: relative error below
1e-6, i.e. float32-faithful. It is used only on the CPU device (GPU exp is already cheap) and
can be disabled with HRM_FAST_EXP=0.
"""

from __future__ import annotations

import os

import mlx.core as mx
import mlx.nn as nn

_LOG2E = 1.4426950408889634
_LN2 = 0.6931471805599453


def enabled() -> bool:
    if os.environ.get("HRM_FAST_EXP", "1") == "0":
        return False
    return mx.default_device() == mx.cpu


@mx.custom_function
def exp(x: mx.array) -> mx.array:
    """exp(x) = 2^n * e^(f ln2), n = round(x log2 e), |f| <= 1/2."""
    x = mx.clip(x, -87.0, 88.0)
    t = x * _LOG2E
    n = mx.floor(t + 0.5)
    r = (t - n) * _LN2
    p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))))
    scale = mx.view((n.astype(mx.int32) + 127) << 23, mx.float32)
    return p * scale


@exp.vjp
def _exp_vjp(primals, cotangent, output):
    # d exp(x) = exp(x); the bit trick itself (a view) has no autodiff rule.
    return cotangent * output


def silu(x: mx.array) -> mx.array:
    return x / (1 + exp(-x)) if enabled() else nn.silu(x)


def softmax(x: mx.array, axis: int = -1) -> mx.array:
    if not enabled():
        return mx.softmax(x, axis=axis)
    e = exp(x - mx.max(x, axis=axis, keepdims=True))
    return e / mx.sum(e, axis=axis, keepdims=True)
