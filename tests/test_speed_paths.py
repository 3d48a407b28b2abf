"""The fast paths compute what the plain ones do: the compiled training step and inference
segment against eager MLX, dynamic ACT scheduling against `predict`, the vectorised kernels."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from models import fastmath
from models import act
from models.act import predict, solve_dynamic, tail_width, trace
from models.checkpoint import model_arrays
from models.config import HRMConfig
from models.cpu_jit import jit_info, use_compile
from models.hrm import HRM
from models.training import TrainConfig, Trainer

CFG = HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=1, puzzle_emb_ndim=32,
                num_puzzle_identifiers=3, halt_max_steps=5, loss_type="softmax")
needs_compile = pytest.mark.skipif(not use_compile(), reason="no vectorised MLX compile here (no g++ or not CPU)")


class Batches:
    def __init__(self, batch_size: int = 8):
        self.rng, self.batch_size = np.random.default_rng(0), batch_size

    def next_batch(self):
        inputs = self.rng.integers(1, 11, (self.batch_size, 81)).astype(np.int32)
        labels = np.where(inputs == 1, self.rng.integers(2, 11, inputs.shape), inputs).astype(np.int32)
        return {"inputs": inputs, "labels": labels,
                "puzzle_identifiers": self.rng.integers(0, 3, self.batch_size).astype(np.int32)}

    def state(self):
        return {}

    def restore(self, state):
        pass


def _halting_model() -> HRM:
    """Random Q-head so rows halt after different numbers of segments."""
    model = HRM(CFG, seed=3)
    rng = np.random.default_rng(0)
    model.q_head.weight = mx.array(rng.normal(0, 0.3, model.q_head.weight.shape).astype(np.float32))
    model.q_head.bias = mx.array(np.array([0.0, 0.3], np.float32))
    return model


def _train(monkeypatch, compile_: str, steps: int = 4):
    monkeypatch.setenv("HRM_COMPILE", compile_)
    trainer = Trainer(CFG, TrainConfig(batch_size=8, lr=1e-3, lr_warmup_steps=1, ema_decay=0.9), Batches())
    losses = [trainer.train_step()["loss"] for _ in range(steps)]
    return trainer, losses


@needs_compile
def test_compiled_training_step_matches_eager(monkeypatch):
    eager, eager_losses = _train(monkeypatch, "0")
    compiled, compiled_losses = _train(monkeypatch, "1")
    assert compiled._compiled is not None and eager._compiled is None
    np.testing.assert_allclose(compiled_losses, eager_losses, rtol=1e-5)
    want = model_arrays(eager.model)
    for name, value in model_arrays(compiled.model).items():
        np.testing.assert_allclose(np.array(value), np.array(want[name]), atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(np.array(compiled.carry.steps), np.array(eager.carry.steps))


@needs_compile
def test_compiled_step_sees_weights_changed_outside_it(monkeypatch):
    trainer, _ = _train(monkeypatch, "1", steps=1)
    trainer.model.update({"q_head": {"bias": mx.array([7.0, -7.0])}})  # would be frozen if undeclared
    trainer.train_step()
    assert float(trainer.model.q_head.bias[0]) > 6.0


@needs_compile
def test_compiled_trace_matches_eager(monkeypatch):
    model = _halting_model()
    inputs = np.random.default_rng(1).integers(1, 11, (3, 81)).astype(np.int32)
    monkeypatch.setenv("HRM_COMPILE", "1")
    fast = list(trace(model, inputs, inner_cycles=True))
    monkeypatch.setenv("HRM_COMPILE", "0")
    plain = list(trace(model, inputs, inner_cycles=True))
    for a, b in zip(fast, plain):
        np.testing.assert_allclose(a.q_halt_logit, b.q_halt_logit, atol=1e-4)
        np.testing.assert_array_equal(a.h_tokens, b.h_tokens)
        np.testing.assert_array_equal(a.halted_at, b.halted_at)
        assert [level for level, _ in a.inner] == [level for level, _ in b.inner] == ["L", "L", "H", "L", "L", "H"]


@pytest.mark.parametrize("slots, max_segments, stop_at_halt", [(8, None, True), (5, 3, True), (16, None, False)])
def test_dynamic_scheduling_gives_what_predict_gives(slots, max_segments, stop_at_halt):
    model = _halting_model()
    inputs = np.random.default_rng(2).integers(1, 11, (29, 81)).astype(np.int32)
    tokens, used = predict(model, inputs, max_segments=max_segments, stop_at_halt=stop_at_halt)
    finished = []
    got, got_used, halted_at = solve_dynamic(model, inputs, slots=slots, max_segments=max_segments,
                                             stop_at_halt=stop_at_halt, on_progress=finished.append)
    *_, last = trace(model, inputs, max_segments=max_segments)
    assert len(set(last.halted_at.tolist())) > 1  # puzzles halt at different segments
    np.testing.assert_array_equal(got, tokens)
    np.testing.assert_array_equal(got_used, used)
    np.testing.assert_array_equal(halted_at, last.halted_at)
    assert sum(finished) == len(inputs)


def test_the_tail_runs_only_the_busy_rows_rounded_to_four(monkeypatch):
    """Once nothing waits, idle rows are dropped at once (not by halving the batch), so the
    rows computed exceed the segments puzzles use by less than 4 per segment."""
    assert [tail_width(k) for k in (1, 3, 4, 5, 8, 9, 63, 64)] == [1, 3, 4, 8, 8, 12, 64, 64]
    model = _halting_model()
    inputs = np.random.default_rng(3).integers(1, 11, (100, 81)).astype(np.int32)
    step = act._segment_function(model)
    widths = []
    monkeypatch.setattr(act, "_segment_function", lambda m, inner=False: lambda *a: widths.append(len(a[0])) or step(*a))
    _, used, _ = solve_dynamic(model, inputs, slots=32, max_segments=16, stop_at_halt=True)
    tail = widths[[i for i, w in enumerate(widths) if w == 32][-1] + 1:]
    assert len(tail) > 1 and tail == sorted(tail, reverse=True)
    assert sum(widths) - used.sum() < 4 * len(tail)  # halving the batch wasted 32 here


def test_inference_passes_hold_about_650_positions_on_the_cpu(monkeypatch):
    """Unless the caller chooses, a forward pass takes as many rows as keep it near 656
    positions (its activations stay in the core's cache), and `predict` in such passes gives
    what one wide pass gives."""
    import dataclasses

    widths = {cells: act.rows_per_pass(dataclasses.replace(CFG, seq_len=cells)) for cells in (81, 225, 900)}
    assert widths == ({81: 8, 225: 2, 900: 1} if mx.default_device() == mx.cpu else {81: 256, 225: 256, 900: 256})
    model = _halting_model()
    inputs = np.random.default_rng(4).integers(1, 11, (21, 81)).astype(np.int32)
    wide, wide_used = predict(model, inputs, rows=len(inputs))
    step = act._segment_function(model)
    seen = []
    monkeypatch.setattr(act, "_segment_function", lambda m, inner=False: lambda *a: seen.append(len(a[0])) or step(*a))
    narrow, narrow_used = predict(model, inputs)
    assert max(seen) == widths[81] or mx.default_device() != mx.cpu
    np.testing.assert_array_equal(narrow, wide)
    np.testing.assert_array_equal(narrow_used, wide_used)
    empty, empty_used = predict(model, inputs[:0])
    assert empty.shape == (0, 81) and empty_used.shape == (0,)


def test_dynamic_scheduling_of_no_puzzles():
    tokens, used, halted_at = solve_dynamic(_halting_model(), np.zeros((0, 81), np.int32))
    assert tokens.shape == (0, 81) and used.shape == halted_at.shape == (0,)


def test_fast_exp_is_float32_faithful():
    x = mx.array(np.linspace(-87, 88, 100_001, dtype=np.float32))
    want = np.exp(np.array(x, dtype=np.float64))
    assert np.max(np.abs(np.array(fastmath.exp(x), np.float64) / want - 1)) < 5e-6


@needs_compile
def test_jit_kernels_are_built_with_the_vectorising_flags():
    info = jit_info()
    assert info.active and "-march=native" in info.flags
    fused = mx.compile(lambda a, b: a * mx.sigmoid(a) * b)
    a = mx.array(np.linspace(-5, 5, 1000, dtype=np.float32))
    np.testing.assert_allclose(np.array(fused(a, a)), np.array(a * mx.sigmoid(a) * a), rtol=1e-6)


def test_target_q_skips_only_what_the_q_head_does_not_read():
    model = _halting_model()
    inputs = np.random.default_rng(3).integers(1, 11, (4, 81)).astype(np.int32)
    x = model.input_embeddings(mx.array(inputs), model.puzzle_rows(mx.zeros((4,), mx.int32)))
    first = model.segment(*model.initial_state(4), x)
    full = model.segment(first.z_H, first.z_L, x)
    q_halt, q_continue = model.next_q_values(first.z_H, first.z_L, x)
    np.testing.assert_allclose(np.array(q_halt), np.array(full.q_halt), atol=1e-5)
    np.testing.assert_allclose(np.array(q_continue), np.array(full.q_continue), atol=1e-5)


def test_a_still_state_ends_a_row_where_its_trace_first_stops_moving():
    """`still_below` stops each row at the first segment whose z_H moved less than the bound
    (as `trace` reports it), with that segment's answer; rows that keep moving run on."""
    from models.act import state_change

    model = _halting_model()
    inputs = np.random.default_rng(5).integers(1, 11, (12, 81)).astype(np.int32)
    records = list(trace(model, inputs, max_segments=8))
    moved = np.stack([r.state_change for r in records], axis=1)  # (rows, segments)
    # A bound among the segment-4 values, in the widest gap between any two values of the
    # trace, so batch-size rounding (5 slots here, 12 rows there) cannot move a row across it.
    low, high = np.quantile(moved[:, 3], [0.25, 0.75])
    values = np.sort(moved.ravel())
    gaps = [(b / a, (a + b) / 2) for a, b in zip(values, values[1:]) if low <= a and b <= high]
    bound = max(gaps)[1]
    still = moved < bound
    first = np.where(still.any(1), still.argmax(1) + 1, 8)
    assert len(set(first.tolist())) > 1
    tokens, used, _ = solve_dynamic(model, inputs, slots=5, max_segments=8, stop_at_halt=False, still_below=bound)
    np.testing.assert_array_equal(used, first)
    for row, segment in enumerate(first):
        np.testing.assert_array_equal(tokens[row], records[segment - 1].h_tokens[row])
    a, b = mx.ones((2, 3, 4)), mx.zeros((2, 3, 4))
    np.testing.assert_allclose(np.array(state_change(a, b)), [1.0, 1.0])
    np.testing.assert_allclose(np.array(state_change(a, a)), [0.0, 0.0])
