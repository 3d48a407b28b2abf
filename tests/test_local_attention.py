"""Windowed attention (`attention_window`, ours): the tiled computation states the same
attention as masked full attention, values and gradients, on grids that tiles do not divide;
and a windowed model trains and moves to larger grids like any size-free model."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from models.config import HRMConfig
from models.errors import ModelError
from models.local_attention import dense_window_mask, local_attention


def _softmax(x):
    return mx.softmax(x, axis=-1)


@pytest.mark.parametrize("grid, window, prefix", [((9, 9), 5, 1), ((7, 11), 3, 1), ((30, 30), 5, 1),
                                                   ((5, 6), 7, 0), ((4, 4), 3, 2)])
def test_tiles_state_masked_full_attention_values_and_gradients(grid, window, prefix):
    rng = np.random.default_rng(0)
    S = prefix + grid[0] * grid[1]
    q, k, v = (mx.array(rng.normal(size=(2, 2, S, 8)).astype(np.float32)) for _ in range(3))
    cotangent = mx.array(rng.normal(size=(2, 2, S, 8)).astype(np.float32))

    def tiled(q, k, v):
        return (local_attention(q, k, v, grid, window, prefix, 8**-0.5, _softmax) * cotangent).sum()

    def dense(q, k, v):
        scores = (q * 8**-0.5) @ k.swapaxes(-1, -2) + dense_window_mask(grid, window, prefix)
        return ((_softmax(scores) @ v) * cotangent).sum()

    np.testing.assert_allclose(np.array(tiled(q, k, v)), np.array(dense(q, k, v)), rtol=1e-4, atol=1e-3)
    for got, want in zip(mx.grad(tiled, argnums=(0, 1, 2))(q, k, v), mx.grad(dense, argnums=(0, 1, 2))(q, k, v)):
        np.testing.assert_allclose(np.array(got), np.array(want), atol=1e-4)


def test_a_window_limits_what_a_cell_sees():
    """Changing a cell outside another cell's window leaves that cell's output alone; inside, not."""
    rng = np.random.default_rng(1)
    grid, prefix = (8, 8), 1
    q, k, v = (rng.normal(size=(1, 1, 65, 4)).astype(np.float32) for _ in range(3))
    base = np.array(local_attention(*map(mx.array, (q, k, v)), grid, 3, prefix, 0.5, _softmax))
    far, near = v.copy(), v.copy()
    far[0, 0, prefix + 7 * 8 + 7] += 5.0  # cell (7, 7): outside the 3x3 window of (0, 0)
    near[0, 0, prefix + 1 * 8 + 1] += 5.0  # cell (1, 1): inside it
    out_far = np.array(local_attention(*map(mx.array, (q, k, far)), grid, 3, prefix, 0.5, _softmax))
    out_near = np.array(local_attention(*map(mx.array, (q, k, near)), grid, 3, prefix, 0.5, _softmax))
    cell = prefix  # (0, 0)
    assert np.allclose(out_far[0, 0, cell], base[0, 0, cell]) and not np.allclose(out_near[0, 0, cell], base[0, 0, cell])
    assert not np.allclose(out_far[0, 0, 0], base[0, 0, 0])  # the puzzle position sees the whole grid


def test_config_checks_the_window():
    for window in (2, 1, -3):
        with pytest.raises(ModelError, match="attention_window"):
            HRMConfig(hidden_size=32, num_heads=2, seq_len=81, grid_shape=(9, 9), attention_window=window)
    with pytest.raises(ModelError, match="attention_window"):
        HRMConfig(hidden_size=32, num_heads=2, seq_len=80, grid_shape=(9, 9), attention_window=3)


def test_a_windowed_model_trains_and_runs_on_a_larger_grid():
    from models.hrm import HRM, on_grid, size_free
    from models.training import TrainConfig, Trainer

    cfg = HRMConfig(puzzle_kind="maze", hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=1, L_cycles=2,
                    vocab_size=6, seq_len=49, grid_shape=(7, 7), puzzle_emb_ndim=32, halt_max_steps=2,
                    pos_encodings="rope2d", attention_window=3)

    class Batches:
        rng = np.random.default_rng(0)

        def next_batch(self):
            return {"inputs": self.rng.integers(1, 6, (4, 49), dtype=np.int32),
                    "labels": self.rng.integers(2, 6, (4, 49), dtype=np.int32),
                    "puzzle_identifiers": np.zeros(4, np.int32)}

        def state(self):
            return {}

        def restore(self, state):
            pass

    trainer = Trainer(cfg, TrainConfig(batch_size=4, lr=1e-3, lr_warmup_steps=0), Batches())
    losses = [trainer.train_step()["loss"] for _ in range(3)]
    assert all(np.isfinite(losses))
    assert size_free(cfg)
    bigger = on_grid(trainer.model, 15, 15)
    assert isinstance(bigger, HRM) and bigger.config.attention_window == 3
    z_H, z_L = bigger.initial_state(1)
    x = bigger.input_embeddings(mx.zeros((1, 225), dtype=mx.int32), bigger.puzzle_rows(mx.zeros((1,), mx.int32)))
    assert bigger.segment(z_H, z_L, x).logits.shape == (1, 225, 6)


@pytest.mark.parametrize("window_prefix", [True, False])
def test_without_the_prefix_a_cell_updates_the_same_anywhere_on_the_grid(window_prefix):
    """With `window_prefix` off a cell's update reads only its window, so the same pattern
    placed anywhere on a wall-filled grid decodes the same; with it on, a cell also reads the
    puzzle-embedding position at (-1, -1), and where the pattern sits changes its answer."""
    from models.hrm import HRM

    side = 16  # tiles from 256 cells: the path large grids take
    cfg = HRMConfig(puzzle_kind="maze", hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=1, L_cycles=1,
                    vocab_size=6, seq_len=side * side, grid_shape=(side, side), puzzle_emb_ndim=32, halt_max_steps=2,
                    pos_encodings="rope2d", attention_window=3, window_prefix=window_prefix)
    model = HRM(cfg, seed=3)
    pattern = np.random.default_rng(2).integers(1, 6, (5, 5))

    def logits_at(offset):
        grid = np.ones((side, side), np.int32)  # walls all round: one segment reads 2 cells out
        grid[offset:offset + 5, offset:offset + 5] = pattern
        z_H, z_L = model.initial_state(1)
        x = model.input_embeddings(mx.array(grid.reshape(1, -1)), model.puzzle_rows(mx.zeros((1,), mx.int32)))
        logits = np.array(model.segment(z_H, z_L, x).logits).reshape(side, side, -1)
        return logits[offset:offset + 5, offset:offset + 5]

    same = np.allclose(logits_at(3), logits_at(9), atol=1e-5)
    assert same == (not window_prefix)


def test_window_prefix_off_needs_a_window():
    with pytest.raises(ModelError, match="window_prefix"):
        HRMConfig(hidden_size=32, num_heads=2, seq_len=81, grid_shape=(9, 9), window_prefix=False)
