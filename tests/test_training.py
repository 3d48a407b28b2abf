"""Training semantics of the reference: one-step gradient, ACT halting and exploration,
one optimiser step per segment, AdamATan2, and resume == uninterrupted."""

import dataclasses
import json

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

from models.act import Carry, act_train_segment, initial_carry, refill
from models.checkpoint import model_arrays
from models.config import HRMConfig
from models.hrm import HRM
from models.optim import AdamATan2, learning_rate
from models.training import TrainConfig, Trainer

TINY = HRMConfig(vocab_size=11, seq_len=16, hidden_size=32, num_heads=2, H_layers=1, L_layers=1,
                 H_cycles=2, L_cycles=2, halt_max_steps=4, puzzle_emb_ndim=32, num_puzzle_identifiers=4,
                 grid_shape=(4, 4))


class RandomSource:
    """Random copy-task batches; its position is the generator state."""

    def __init__(self, batch_size=4, seed=0):
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)

    def next_batch(self):
        x = self.rng.integers(1, 11, size=(self.batch_size, TINY.seq_len)).astype(np.int32)
        return {"inputs": x, "labels": x.copy(),
                "puzzle_identifiers": self.rng.integers(0, 4, self.batch_size).astype(np.int32)}

    def state(self):
        return {"rng": self.rng.bit_generator.state}

    def restore(self, state):
        self.rng.bit_generator.state = state["rng"]


def _batch(seed=0, B=3):
    return RandomSource(B, seed).next_batch()


def test_gradient_flows_only_through_the_final_L_and_H_update():
    model = HRM(TINY, seed=0)
    batch = _batch()
    inputs = mx.array(batch["inputs"])
    rows = model.puzzle_rows(mx.array(batch["puzzle_identifiers"]))
    z_H0, z_L0 = model.initial_state(3)

    def full(params):
        model.update(params)
        out = model.segment(z_H0, z_L0, model.input_embeddings(inputs, rows))
        return out.logits.sum() + out.q_halt.sum()

    # The same loss with everything before the final update computed up front as constants.
    x = model.input_embeddings(inputs, rows)
    cfg = TINY
    z_H, z_L = z_H0, z_L0
    for h in range(cfg.H_cycles):
        for l in range(cfg.L_cycles):
            if not (h == cfg.H_cycles - 1 and l == cfg.L_cycles - 1):
                z_L = model.L_level(z_L, z_H + x)
        if h != cfg.H_cycles - 1:
            z_H = model.H_level(z_H, z_L)
    z_H_const, z_L_const = mx.array(np.array(z_H)), mx.array(np.array(z_L))

    def one_step(params):
        model.update(params)
        xx = model.input_embeddings(inputs, rows)
        zl = model.L_level(z_L_const, z_H_const + xx)
        zh = model.H_level(z_H_const, zl)
        return model.decode(zh).sum() + model.q_values(zh)[0].sum()

    params = model.trainable_parameters()
    g_full = dict(tree_flatten(mx.grad(full)(params)))
    g_one = dict(tree_flatten(mx.grad(one_step)(params)))
    for name in g_full:
        np.testing.assert_allclose(np.array(g_full[name]), np.array(g_one[name]), atol=1e-5, err_msg=name)

    # And nothing reaches the carried-in state.
    g_state = mx.grad(lambda zh: model.segment(zh, z_L0, x).logits.sum())(z_H0)
    assert float(mx.abs(g_state).max().item()) == 0.0


def test_segment_gradient_is_the_true_gradient_of_the_whole_segment():
    """`segment_gradient="segment"` backpropagates through every update: its gradient matches a
    finite-difference derivative of the segment's loss, which the one-step gradient does not."""
    batch = _batch()
    inputs = mx.array(batch["inputs"])
    ids = mx.array(batch["puzzle_identifiers"])

    def grad_and_loss(segment_gradient):
        model = HRM(dataclasses.replace(TINY, segment_gradient=segment_gradient), seed=0)
        z_H0, z_L0 = model.initial_state(3)

        def loss(params):
            model.update(params)
            out = model.segment(z_H0, z_L0, model.input_embeddings(inputs, model.puzzle_rows(ids)))
            return (out.logits * out.logits).mean()

        params = model.trainable_parameters()
        return dict(tree_flatten(mx.grad(loss)(params))), loss, params

    g_segment, loss, params = grad_and_loss("segment")
    g_one, _, _ = grad_and_loss("one_step")
    name = "L_level.layers.0.mlp.down_proj.weight"
    assert name in g_segment
    direction = mx.array(np.random.default_rng(1).normal(size=g_segment[name].shape).astype(np.float32))
    flat = dict(tree_flatten(params))
    eps = 3e-3

    def shifted(sign):
        moved = dict(flat, **{name: flat[name] + sign * eps * direction})
        return float(loss(tree_unflatten(list(moved.items()))).item())

    numeric = (shifted(1) - shifted(-1)) / (2 * eps)
    analytic_segment = float((g_segment[name] * direction).sum().item())
    analytic_one = float((g_one[name] * direction).sum().item())
    assert abs(analytic_segment - numeric) < 0.01 * abs(numeric)
    assert abs(analytic_one - numeric) > 0.1 * abs(numeric)


def _forced_halting_model():
    model = HRM(TINY, seed=0)
    model.q_head.bias = mx.array([5.0, -5.0])  # q_halt >> q_continue: wants to halt at once
    return model


def test_exploration_enforces_its_minimum_number_of_segments():
    model = _forced_halting_model()
    batch = _batch()
    carry = refill(model, initial_carry(model, batch), batch)
    rows = model.puzzle_rows(carry.puzzle_identifiers)
    explore_u = mx.array([0.0, 0.0, 0.99])  # rows 0 and 1 explore, row 2 does not
    explore_steps = mx.array([3, 4, 3])
    halted_at = {}
    for step in range(1, 5):
        _, _, carry = act_train_segment(model, carry, rows, explore_u, explore_steps)
        for row, h in enumerate(np.array(carry.halted)):
            if h and row not in halted_at:
                halted_at[row] = step
        carry = Carry(**{**carry.arrays(), "halted": mx.zeros_like(carry.halted)})
    assert halted_at == {0: 3, 1: 4, 2: 1}


def test_rows_halt_at_max_steps_and_are_refilled():
    model = HRM(TINY, seed=0)  # q init -5/-5: never halts by itself
    first, second = _batch(0), _batch(1)
    carry = refill(model, initial_carry(model, first), first)
    rows = model.puzzle_rows(carry.puzzle_identifiers)
    no_explore = mx.ones((3,))
    for step in range(TINY.halt_max_steps):
        _, _, carry = act_train_segment(model, carry, rows, no_explore, mx.full((3,), 2))
        assert np.array(carry.halted).all() == (step == TINY.halt_max_steps - 1)
        if step < TINY.halt_max_steps - 1:
            carry = refill(model, carry, second)  # not halted: keeps the first batch
            np.testing.assert_array_equal(np.array(carry.inputs), first["inputs"])
    carry = refill(model, carry, second)
    np.testing.assert_array_equal(np.array(carry.inputs), second["inputs"])
    assert np.array(carry.steps).tolist() == [0, 0, 0]


def test_one_optimiser_step_per_segment_with_persistent_carry():
    trainer = Trainer(TINY, TrainConfig(batch_size=4, lr=1e-3, lr_warmup_steps=0, total_steps=10), RandomSource())
    for expected in range(1, 4):
        trainer.train_step()
        assert int(trainer.optimizer.step.item()) == expected
        assert np.array(trainer.carry.steps).tolist() == [expected] * 4  # same puzzles, one segment more


def test_adam_atan2_matches_a_hand_computed_step():
    lr, b1, b2, wd = 0.01, 0.9, 0.95, 0.1
    p0 = np.array([0.5, -1.0, 2.0], np.float32)
    grads = [np.array([0.1, -0.2, 0.0], np.float32), np.array([0.3, 0.1, -0.5], np.float32)]
    model = nn.Module()
    model.w = mx.array(p0)
    opt = AdamATan2(learning_rate=lr, betas=(b1, b2), weight_decay=wd)
    p, m, v = p0.astype(np.float64), np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, start=1):
        opt.update(model, {"w": mx.array(g)})
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * np.arctan2(m / (1 - b1**t), np.sqrt(v) / np.sqrt(1 - b2**t))
        np.testing.assert_allclose(np.array(model.w), p, atol=1e-6)


def test_learning_rate_warms_up_then_stays_constant_or_follows_cosine():
    assert learning_rate(0, 1.0, 10, 100) == 0.0
    assert learning_rate(5, 1.0, 10, 100) == 0.5
    assert learning_rate(50, 1.0, 10, 100) == 1.0
    assert learning_rate(100, 1.0, 10, 100, min_ratio=0.1, schedule="cosine") == pytest.approx(0.1)
    assert learning_rate(55, 1.0, 10, 100, min_ratio=0.0, schedule="cosine") == pytest.approx(0.5)


def test_puzzle_embedding_gets_sparse_sign_sgd_updates_only_for_seen_ids():
    trainer = Trainer(TINY, TrainConfig(batch_size=4, lr=1e-3, lr_warmup_steps=0, puzzle_emb_lr=0.1,
                                        puzzle_emb_weight_decay=0.0), RandomSource())
    before = np.array(trainer.model.puzzle_emb)
    trainer.train_step()
    after = np.array(trainer.model.puzzle_emb)
    seen = set(np.array(trainer.carry.puzzle_identifiers).tolist())
    for pid in range(TINY.num_puzzle_identifiers):
        delta = np.abs(after[pid] - before[pid])
        if pid in seen:
            assert np.allclose(delta[delta > 0], 0.1)  # sign step of exactly lr
        else:
            assert delta.max() == 0


def _train(run_dir, steps, resume=False):
    cfg = TrainConfig(batch_size=4, lr=3e-3, lr_warmup_steps=2, total_steps=6, seed=3, checkpoint_every=100,
                      eval_every=100, log_every=1, ema_decay=0.9)
    trainer = Trainer(TINY, cfg, RandomSource(seed=7), run_dir=run_dir)
    if resume:
        assert trainer.resume()
    trainer.run_steps(num_steps=steps)
    return trainer


def test_resume_continues_the_same_curve(tmp_path):
    straight = _train(tmp_path / "straight", 6)
    _train(tmp_path / "split", 3)
    resumed = _train(tmp_path / "split", 3, resume=True)
    assert resumed.step == straight.step == 6
    a, b = model_arrays(straight.model), model_arrays(resumed.model)
    for name in a:
        np.testing.assert_array_equal(np.array(a[name]), np.array(b[name]), err_msg=name)
    for name in straight.ema:
        np.testing.assert_array_equal(np.array(straight.ema[name]), np.array(resumed.ema[name]), err_msg=name)
    losses = lambda t: [r["loss"] for r in t.run.read_log()]  # noqa: E731
    assert losses(straight) == losses(resumed)


def test_a_run_saved_before_a_config_field_existed_resumes_with_its_default(tmp_path):
    _train(tmp_path / "old", 2)
    state_file = next((tmp_path / "old" / "checkpoints").glob("step-*")) / "state.json"
    state = json.loads(state_file.read_text())
    del state["model_config"]["pos_encodings"]  # as written before the field was added
    state_file.write_text(json.dumps(state))
    assert _train(tmp_path / "old", 1, resume=True).step == 3


def test_absolute_positions_start_as_the_rope_model_and_learn_where_cells_are():
    """The absolute table (ours, on top of 2-D RoPE) starts at zero: the same weights compute
    the same segment as without it, so a trained RoPE model can be warm-started with it, and
    the table still gets a gradient. It ties the model to its grid."""
    from models.errors import ModelError
    from models.hrm import size_free

    batch = _batch()
    inputs, ids = mx.array(batch["inputs"]), mx.array(batch["puzzle_identifiers"])
    rope_cfg = dataclasses.replace(TINY, pos_encodings="rope2d")
    rope, absolute = HRM(rope_cfg, seed=0), HRM(dataclasses.replace(rope_cfg, absolute_positions=True), seed=0)
    absolute.update(rope.parameters())

    def segment_logits(model):
        z_H, z_L = model.initial_state(3)
        return model.segment(z_H, z_L, model.input_embeddings(inputs, model.puzzle_rows(ids))).logits

    assert np.array_equal(np.array(segment_logits(rope)), np.array(segment_logits(absolute)))

    def loss(params):
        absolute.update(params)
        return (segment_logits(absolute) ** 2).mean()

    grads = dict(tree_flatten(mx.grad(loss)(absolute.trainable_parameters())))
    assert grads["embed_pos"].shape == (TINY.seq_len + TINY.puzzle_emb_len, TINY.hidden_size)
    assert float(mx.abs(grads["embed_pos"]).sum().item()) > 0
    assert size_free(rope_cfg) and not size_free(absolute.config)
    with pytest.raises(ModelError, match="absolute_positions"):
        HRMConfig(pos_encodings="learned", absolute_positions=True)
