"""SiLU and softmax that are fast on MLX's CPU backend, eager or compiled.

On Linux CPU, `mx.exp` costs ~9 ns/element (a scalar polynomial with out-of-line `fma` and
`floor` calls) while a multiply costs well under 1 ns, so SiLU and the attention softmax
dominate a segment. Two routes, chosen per call site:

- Eager: `exp` is built from cheap vectorised ops (round-to-nearest by the 1.5*2^23 trick,
  a degree-5 minimax polynomial for 2^r on [-1/2, 1/2], the exponent written into the bits
  by a view): relative error below 3e-7, float32-faithful, ~2x cheaper than `mx.exp`.
- Inside an `mx.compile` trace (`with fused():`, see models/compiled.py): the plain formulas,
  because MLX fuses them into one loop that models/cpu_jit.py makes vectorised, ~20x cheaper
  again. The eager polynomial would break that fusion (a view is not fusable).

Nothing changes on a GPU (its exp is cheap). ``HRM_FAST_EXP=0`` restores MLX's own ops.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import mlx.core as mx
import mlx.nn as nn

_LOG2E = 1.4426950408889634
_ROUND = 12582912.0  # 1.5 * 2**23: (t + _ROUND) - _ROUND rounds t to the nearest integer
# Minimax (Chebyshev-fitted) 2^r on [-0.5, 0.5], highest degree first; max rel. error 2.5e-7.
_EXP2 = (0.0013400433122399173, 0.009676038065013002, 0.055503272118167635,
         0.2402210733769617, 0.6931472067117407, 1.0000000754991278)

_local = threading.local()


def enabled() -> bool:
    """True when SiLU and softmax should avoid MLX's own exp (CPU, not disabled)."""
    if os.environ.get("HRM_FAST_EXP", "1") == "0":
        return False
    return mx.default_device() == mx.cpu


@contextmanager
def fused():
    """Mark the current thread as tracing a compiled function: use the fusable formulas."""
    previous = getattr(_local, "fused", False)
    _local.fused = True
    try:
        yield
    finally:
        _local.fused = previous


def _fusing() -> bool:
    return getattr(_local, "fused", False)


@mx.custom_function
def exp(x: mx.array) -> mx.array:
    """exp(x) = 2^n * 2^r with t = x log2(e), n = round(t), r = t - n in [-1/2, 1/2]."""
    t = mx.clip(x, -87.0, 88.0) * _LOG2E
    shifted = t + _ROUND  # n sits in the low mantissa bits of `shifted`
    r = t - (shifted - _ROUND)
    p = _EXP2[0] * r + _EXP2[1]
    for c in _EXP2[2:]:
        p = p * r + c
    # (bits(shifted) + 127) << 23 keeps only the low 9 bits of the sum: the biased exponent n + 127.
    scale = mx.view((mx.view(shifted, mx.int32) + 127) << 23, mx.float32)
    return p * scale


@exp.vjp
def _exp_vjp(primals, cotangent, output):
    # d exp(x) = exp(x); the bit trick itself (a view) has no autodiff rule.
    return cotangent * output


def silu(x: mx.array) -> mx.array:
    if _fusing() or not enabled():
        return nn.silu(x)
    return x / (1 + exp(-x))


def swiglu(gate: mx.array, up: mx.array) -> mx.array:
    """silu(gate) * up."""
    if _fusing() and enabled():
        return _swiglu_fused(gate, up)
    return silu(gate) * up


def softmax(x: mx.array) -> mx.array:
    """Softmax over the last axis; the max is a constant shift, so no gradient flows through it."""
    if not enabled():
        return mx.softmax(x, axis=-1)
    if _fusing():
        return _softmax_fused(x)
    e = exp(x - mx.stop_gradient(mx.max(x, axis=-1, keepdims=True)))
    return e / mx.sum(e, axis=-1, keepdims=True)


# -- compiled forms ---------------------------------------------------------------------------
# Written with explicit gradients so that no transcendental result is shared between the
# forward and backward graphs: a shared node is materialised on its own, outside any fused
# loop, by MLX's slow scalar kernel. The backward recomputes sigmoid in a different form so
# that compilation does not merge it with the forward's.

@mx.custom_function
def _swiglu_fused(gate: mx.array, up: mx.array) -> mx.array:
    return gate * mx.sigmoid(gate) * up


@_swiglu_fused.vjp
def _swiglu_fused_vjp(primals, cotangent, output):
    gate, up = primals
    s = 1 / (1 + mx.exp(-gate))
    d_up = cotangent * gate * s
    d_gate = cotangent * up * s * (1 + gate * (1 - s))
    return d_gate, d_up


@mx.custom_function
def _softmax_fused(x: mx.array) -> mx.array:
    e = mx.exp(x - mx.max(x, axis=-1, keepdims=True))
    return e / mx.sum(e, axis=-1, keepdims=True)


@_softmax_fused.vjp
def _softmax_fused_vjp(primals, cotangent, output):
    return output * (cotangent - mx.sum(cotangent * output, axis=-1, keepdims=True))
