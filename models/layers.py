"""Transformer building blocks of the reference HRM: post-norm blocks, RMSNorm without gain,
rotate-half RoPE, non-causal multi-head attention, SwiGLU, no biases.

Weight layouts follow the reference (fused qkv [q|k|v], gate_up [gate|up], (out, in)
matrices) so reference checkpoints convert by renaming keys.
"""

from __future__ import annotations

import functools
import math
import os

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from models import fastmath
from models.config import HRMConfig
from models.local_attention import dense_window_mask, local_attention


def trunc_normal(shape: tuple[int, ...], std: float, rng: np.random.Generator,
                 lower: float = -2.0, upper: float = 2.0) -> mx.array:
    """Truncated normal whose *actual* std is `std` (JAX convention, as the reference uses).

    Sampled on the host by rejection so initialisation is reproducible on every backend.
    """
    if std == 0:
        return mx.zeros(shape, dtype=mx.float32)
    sqrt2 = math.sqrt(2.0)
    z = (math.erf(upper / sqrt2) - math.erf(lower / sqrt2)) / 2
    c = (2 * math.pi) ** -0.5
    pdf_u, pdf_l = c * math.exp(-0.5 * upper**2), c * math.exp(-0.5 * lower**2)
    comp_std = std / math.sqrt(1 - (upper * pdf_u - lower * pdf_l) / z - ((pdf_u - pdf_l) / z) ** 2)
    n = int(np.prod(shape))
    out = np.empty(0)
    while out.size < n:
        draw = rng.standard_normal(2 * n + 16)
        out = np.concatenate([out, draw[(draw >= lower) & (draw <= upper)]])
    return mx.array((out[:n] * comp_std).reshape(shape).astype(np.float32))


class Linear(nn.Module):
    """Bias-free (optionally biased) linear layer with the reference's LeCun truncated-normal init."""

    def __init__(self, in_dims: int, out_dims: int, rng: np.random.Generator, bias: bool = False):
        super().__init__()
        self.weight = trunc_normal((out_dims, in_dims), 1.0 / math.sqrt(in_dims), rng)
        if bias:
            self.bias = mx.zeros((out_dims,))

    def __call__(self, x: mx.array) -> mx.array:
        y = x @ self.weight.T
        return y + self.bias if "bias" in self else y


def rms_norm(x: mx.array, eps: float) -> mx.array:
    """RMSNorm without a learned gain, as in the reference."""
    return mx.fast.rms_norm(x, None, eps)


@functools.lru_cache(maxsize=32)
def grid_rope_tables(rows: int, cols: int, prefix: int, head_dim: int, theta: float,
                     box: int = 0) -> tuple[mx.array, mx.array]:
    """cos and sin tables (positions, head_dim) of 2-D RoPE over a row-major grid.

    The first half of each head rotates with the cell's row, the second half with its column
    (each half rotate-half style), so a query-key score depends only on the (row, column)
    offset: "same row", "same column" and "next cell down" are each one fixed offset, with no
    wrap-around from one row's end to the next row's start as in 1-D RoPE. The puzzle-embedding
    prefix sits at (-1, -1), just outside the grid.

    With `box` (3 for Sudoku) the coordinates skip 2 * box positions between boxes (rows 0 1 2
    9 10 11 ...), so "same box" is every offset of at most box - 1 in both axes and every other
    box is at least 2 * box + 1 away: a score can single out the cell's box, which plain
    offsets cannot (cells one column apart may or may not share a box).
    """
    half = head_dim // 2
    inv_freq = theta ** (-np.arange(0, half, 2, dtype=np.float64) / half)
    r, c = np.divmod(np.arange(rows * cols), cols)
    if box:
        r, c = r + 2 * box * (r // box), c + 2 * box * (c // box)
    r = np.concatenate([np.full(prefix, -1), r])
    c = np.concatenate([np.full(prefix, -1), c])
    angles = np.concatenate([np.outer(r, inv_freq)] * 2 + [np.outer(c, inv_freq)] * 2, axis=1)
    return mx.array(np.cos(angles).astype(np.float32)), mx.array(np.sin(angles).astype(np.float32))


def rotate_grid(x: mx.array, cos: mx.array, sin: mx.array) -> mx.array:
    """Apply 2-D RoPE tables to (B, heads, S, head_dim): rotate-half within each half."""
    quarter = x.shape[-1] // 4
    a, b, c, d = (x[..., i * quarter:(i + 1) * quarter] for i in range(4))
    return x * cos + mx.concatenate([-b, a, -d, c], axis=-1) * sin


class Attention(nn.Module):
    """Non-causal multi-head self-attention with a fused [q|k|v] projection and positions by
    RoPE (reference default), 2-D RoPE over the grid, or none here (learned absolute positions
    are added to the input embedding instead)."""

    def __init__(self, config: HRMConfig, rng: np.random.Generator):
        super().__init__()
        self.num_heads = config.num_heads
        self.head_dim = config.head_dim
        self.rope_theta = config.rope_theta
        self.rope = config.pos_encodings == "rope"
        self.grid_rope = (*config.grid_shape, config.puzzle_emb_len, config.head_dim, config.rope_theta,
                          config.rope_boxes) \
            if config.pos_encodings == "rope2d" else None
        # Ours: cells attend only to a window of cells (and, unless window_prefix is off, the
        # puzzle-embedding positions).
        self.window = config.attention_window
        self.grid, self.prefix = tuple(config.grid_shape), config.puzzle_emb_len
        self.window_prefix = config.window_prefix
        d = config.hidden_size
        self.qkv_proj = Linear(d, 3 * d, rng)
        self.o_proj = Linear(d, d, rng)

    def __call__(self, x: mx.array, queries: int | None = None) -> mx.array:
        """Attention of every position, or only of the first `queries` positions (to all, or
        with a window to what their window shows)."""
        B, S, d = x.shape
        local = bool(self.window) and (queries is None or queries > self.prefix)
        if local:
            queries_kept, queries = queries, None
        # One matmul per row block of the fused weight: q, k and v come out contiguous, which
        # keeps the elementwise work after them on vectorised (not strided) loops.
        w_q, w_k, w_v = mx.split(self.qkv_proj.weight, 3, axis=0)
        q, k, v = (
            (rows @ w.T).reshape(B, -1, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)
            for rows, w in ((x if queries is None else x[:, :queries], w_q), (x, w_k), (x, w_v))
        )
        if self.rope:
            q = mx.fast.rope(q, self.head_dim, traditional=False, base=self.rope_theta, scale=1.0, offset=0)
            k = mx.fast.rope(k, self.head_dim, traditional=False, base=self.rope_theta, scale=1.0, offset=0)
        elif self.grid_rope:
            cos, sin = grid_rope_tables(*self.grid_rope)
            q = rotate_grid(q, cos[: q.shape[2]], sin[: q.shape[2]])
            k = rotate_grid(k, cos, sin)
        scale = self.head_dim**-0.5
        if local and _window_by_mask(self.grid):
            out = fastmath.softmax((q * scale) @ k.transpose(0, 1, 3, 2)
                                   + dense_window_mask(self.grid, self.window, self.prefix, self.window_prefix)) @ v
        elif local:
            out = local_attention(q, k, v, self.grid, self.window, self.prefix, scale, fastmath.softmax,
                                  self.window_prefix)
        elif fastmath.enabled():
            # Explicit attention so the softmax uses the cheap exp (CPU only, see fastmath).
            weights = fastmath.softmax((q * scale) @ k.transpose(0, 1, 3, 2))
            out = weights @ v
        else:
            out = mx.fast.scaled_dot_product_attention(q, k, v, scale=scale)
        if local:
            out = out[:, :, :queries_kept]
        return self.o_proj(out.transpose(0, 2, 1, 3).reshape(B, -1, d))


# Below about 15x15 cells the tiles cost more than masked full attention (`hrm bench`, a d-128
# training step: 1,803 vs 3,058 tokens/s at 9x9, 2,005 vs 2,256 at 15x15, 2,309 vs 1,082 at 30x30).
TILES_FROM_CELLS = 256


def _window_by_mask(grid: tuple[int, int]) -> bool:
    """Whether a windowed layer runs as masked full attention rather than tiles: small grids,
    or HRM_LOCAL_ATTENTION=dense / =tiles to force one (the bench compares both)."""
    forced = os.environ.get("HRM_LOCAL_ATTENTION")
    if forced in ("dense", "tiles"):
        return forced == "dense"
    return grid[0] * grid[1] < TILES_FROM_CELLS


class SwiGLU(nn.Module):
    def __init__(self, config: HRMConfig, rng: np.random.Generator):
        super().__init__()
        d, inter = config.hidden_size, config.mlp_hidden
        self.gate_up_proj = Linear(d, 2 * inter, rng)
        self.down_proj = Linear(inter, d, rng)

    def __call__(self, x: mx.array) -> mx.array:
        # Two matmuls on the halves of [gate|up] rather than one and a split: contiguous
        # operands for the SiLU product (see Attention).
        w_gate, w_up = mx.split(self.gate_up_proj.weight, 2, axis=0)
        return self.down_proj(fastmath.swiglu(x @ w_gate.T, x @ w_up.T))


class Block(nn.Module):
    """Post-norm transformer block: h = rms(h + attn(h)); h = rms(h + mlp(h))."""

    def __init__(self, config: HRMConfig, rng: np.random.Generator):
        super().__init__()
        self.eps = config.rms_norm_eps
        self.self_attn = Attention(config, rng)
        self.mlp = SwiGLU(config, rng)

    def __call__(self, h: mx.array, queries: int | None = None) -> mx.array:
        """The block's output at every position, or at the first `queries` positions only."""
        rows = h if queries is None else h[:, :queries]
        rows = rms_norm(rows + self.self_attn(h, queries), self.eps)
        return rms_norm(rows + self.mlp(rows), self.eps)


class ReasoningModule(nn.Module):
    """A stack of blocks; the injection is added to the state before the first block."""

    def __init__(self, config: HRMConfig, num_layers: int, rng: np.random.Generator):
        super().__init__()
        self.layers = [Block(config, rng) for _ in range(num_layers)]

    def __call__(self, h: mx.array, injection: mx.array, queries: int | None = None) -> mx.array:
        """The updated state; with `queries`, only its first `queries` positions (the last
        block skips the rest, which nothing reads)."""
        h = h + injection
        for layer in self.layers[:-1]:
            h = layer(h)
        return self.layers[-1](h, queries)
