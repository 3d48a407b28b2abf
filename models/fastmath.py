"""SiLU and softmax that are fast on MLX's CPU backend, eager or compiled.

On Linux CPU, `mx.exp` costs ~9 ns/element (a scalar polynomial with out-of-line `fma` and
`floor` calls) while a multiply costs well under 1 ns, so SiLU and the attention softmax
dominate a segment. Two routes, chosen per call site:

- Eager: `exp` is built from cheap vectorised ops (round-to-nearest by the 1.5*2^23 trick,
  Cody-Waite reduction, a degree-5 minimax polynomial, the exponent written into the bits by
  a view): relative error below 3e-7 over the whole range, ~1.5x cheaper than `mx.exp`.
- Inside an `mx.compile` trace (`with fused():`, see `_segment_function` in models/act.py): the plain formulas,
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
_LN2_HI, _LN2_LO = 0.693145751953125, 1.428606765330187e-06  # ln(2) split so n * _LN2_HI is exact
# Minimax (Chebyshev-fitted) e^r on [-ln(2)/2, ln(2)/2], highest degree first; rel. error 2.5e-7.
_EXP = (0.008375129488288148, 0.04191753387763561, 0.1666641547005548,
        0.49998869071069296, 1.0000000377290648, 1.0000000754991267)

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
    """exp(x) = 2^n * e^r with n = round(x log2(e)) and r = x - n ln(2) in [-ln(2)/2, ln(2)/2]."""
    x = mx.clip(x, -87.0, 88.0)
    shifted = x * _LOG2E + _ROUND  # n sits in the low mantissa bits of `shifted`
    n = shifted - _ROUND
    r = (x - n * _LN2_HI) - n * _LN2_LO  # Cody-Waite: exact n * ln(2) to ~1e-10
    p = _EXP[0] * r + _EXP[1]
    for c in _EXP[2:]:
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
