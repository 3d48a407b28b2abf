"""Attention restricted to a window of grid cells, computed tile by tile (ours).

With `attention_window` k, a grid cell attends to the cells at most k // 2 rows and columns
away and to the puzzle-embedding positions (unless `window_prefix` is off: then a cell's
update depends on its window only, the same anywhere on any grid); those positions attend to
everything (the Q head reads position 0, so halting still sees the whole grid). Cost grows with the window, not the
grid: mazes can be learned on small grids and run on large ones, as recurrent networks with
local updates do (DT-Net, Bansal et al. 2022).

Cells are cut into tiles of (k + 1) x (k + 1); each tile's queries attend, through batched
matmuls, to the tile plus a halo of k // 2 cells around it, and a fixed mask keeps each
cell's own k x k window. On this CPU that beat both full attention and a stack of shifted
key copies (measured for issue 20 on the attention alone: 30x30 grid, 5x5 window, 4.8x full
attention forward, 5.4x with the gradient; 25 shifted copies gained only 2x / 1x): matmuls,
not elementwise work. In a whole d-128 training step (`hrm bench`) the window runs 2.1x
full attention's tokens per second at 30x30 and is slower below about 15x15.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mlx.core as mx
import numpy as np

MASKED = -1e9  # finite, so a padded query's row of scores never becomes all -inf (NaN)


@dataclass(frozen=True)
class TilePlan:
    """Index maps between the row-major grid and its tiles, and the window mask.

    `query_cells` (tiles, tile*tile) and `key_cells` (tiles, span*span) hold the grid cell of
    every tile slot, or the number of cells (a zero row appended to the grid) where the slot lies outside
    it; `mask` (tiles, tile*tile, span*span) is 0 where the key is a real cell in the query's
    window and MASKED elsewhere; `slot_of_cell` (cells,) says where each cell's output lands in
    the flattened (tiles * tile*tile) result."""

    query_cells: mx.array
    key_cells: mx.array
    mask: mx.array
    slot_of_cell: mx.array


def window_offsets(rows: int, cols: int, window: int) -> np.ndarray:
    """(cells, cells) bool: whether cell j lies in cell i's window (the dense statement)."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    half = window // 2
    return (np.abs(r[:, None] - r[None, :]) <= half) & (np.abs(c[:, None] - c[None, :]) <= half)


@functools.lru_cache(maxsize=16)
def tile_plan(rows: int, cols: int, window: int) -> TilePlan:
    half, tile = window // 2, window + 1
    span = tile + 2 * half
    tiles_r, tiles_c = -(-rows // tile), -(-cols // tile)
    cells = rows * cols

    def cell_at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
        return np.where(inside, r * cols + c, cells)

    tr, tc = np.divmod(np.arange(tiles_r * tiles_c), tiles_c)
    dr, dc = np.divmod(np.arange(tile * tile), tile)  # query slot within its tile
    kr, kc = np.divmod(np.arange(span * span), span)  # key slot within the halo, from -half
    q_r, q_c = tr[:, None] * tile + dr[None, :], tc[:, None] * tile + dc[None, :]
    k_r, k_c = tr[:, None] * tile + kr[None, :] - half, tc[:, None] * tile + kc[None, :] - half
    query_cells, key_cells = cell_at(q_r, q_c), cell_at(k_r, k_c)
    near = (np.abs(dr[:, None] - (kr[None, :] - half)) <= half) & (np.abs(dc[:, None] - (kc[None, :] - half)) <= half)
    visible = near[None] & (key_cells < cells)[:, None, :]
    slot_of_cell = np.empty(cells, np.int32)
    real = query_cells.reshape(-1) < cells
    slot_of_cell[query_cells.reshape(-1)[real]] = np.flatnonzero(real)
    return TilePlan(mx.array(query_cells.astype(np.int32)), mx.array(key_cells.astype(np.int32)),
                    mx.array(np.where(visible, 0.0, MASKED).astype(np.float32)), mx.array(slot_of_cell))


def local_attention(q: mx.array, k: mx.array, v: mx.array, grid: tuple[int, int], window: int, prefix: int,
                    scale: float, softmax, cells_see_prefix: bool = True) -> mx.array:
    """(B, heads, prefix + cells, head_dim) attention output: prefix queries over every
    position, cell queries over their window (and the prefix when `cells_see_prefix`).
    `softmax` over the last axis."""
    plan = tile_plan(grid[0], grid[1], window)
    B, H, _, D = q.shape
    zero = mx.zeros((B, H, 1, D), dtype=q.dtype)
    grid_q = mx.concatenate([q[:, :, prefix:], zero], axis=2)[:, :, plan.query_cells] * scale
    grid_k = mx.concatenate([k[:, :, prefix:], zero], axis=2)[:, :, plan.key_cells]
    grid_v = mx.concatenate([v[:, :, prefix:], zero], axis=2)[:, :, plan.key_cells]
    scores = grid_q @ grid_k.swapaxes(-1, -2) + plan.mask  # (B, H, tiles, tile*tile, span*span)
    if prefix and cells_see_prefix:
        prefix_k, prefix_v = k[:, :, None, :prefix], v[:, :, None, :prefix]
        scores = mx.concatenate([grid_q @ prefix_k.swapaxes(-1, -2), scores], axis=-1)
        grid_v = mx.concatenate([mx.broadcast_to(prefix_v, (*grid_v.shape[:3], prefix, D)), grid_v], axis=-2)
    tiles = softmax(scores) @ grid_v
    cells_out = tiles.reshape(B, H, -1, D)[:, :, plan.slot_of_cell]
    if not prefix:
        return cells_out
    prefix_out = softmax((q[:, :, :prefix] * scale) @ k.swapaxes(-1, -2)) @ v
    return mx.concatenate([prefix_out, cells_out], axis=2)


@functools.lru_cache(maxsize=16)
def dense_window_mask(grid: tuple[int, int], window: int, prefix: int, cells_see_prefix: bool = True) -> mx.array:
    """(prefix + cells, prefix + cells) additive mask of the same attention pattern, for
    masked full attention: the reference cost to compare the tiles against."""
    cells = grid[0] * grid[1]
    visible = np.ones((prefix + cells, prefix + cells), bool)
    visible[prefix:, prefix:] = window_offsets(*grid, window)
    visible[prefix:, :prefix] = cells_see_prefix
    return mx.array(np.where(visible, 0.0, MASKED).astype(np.float32))
