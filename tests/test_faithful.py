"""The MLX HRM agrees with an independent numpy statement of the reference forward pass."""

import dataclasses

import mlx.core as mx
import numpy as np
import pytest

from models.checkpoint import model_arrays
from models.config import HRMConfig
from models.hrm import HRM, count_parameters
from tests.numpy_reference import ReferenceHRM

TOLERANCE = 1e-4  # logits and Q values, float32 MLX against float64 numpy
STATE_TOLERANCE = 1e-3  # z_H/z_L: float32 rounding accumulates over 4 x 12 blocks


def _randomised_model(cfg: HRMConfig, seed: int = 0) -> HRM:
    """A model whose zero-initialised parts (q_head, puzzle embedding) are made random so the
    comparison exercises them too."""
    model = HRM(cfg, seed=seed)
    rng = np.random.default_rng(seed + 100)
    model.q_head.weight = mx.array(rng.normal(0, 0.1, model.q_head.weight.shape).astype(np.float32))
    model.q_head.bias = mx.array(rng.normal(0, 0.1, (2,)).astype(np.float32))
    model.puzzle_emb = mx.array(rng.normal(0, 1, model.puzzle_emb.shape).astype(np.float32))
    if cfg.absolute_positions:
        model.embed_pos = mx.array(rng.normal(0, 0.1, model.embed_pos.shape).astype(np.float32))
    return model


CONFIGS = {
    "sudoku-like": HRMConfig(hidden_size=64, num_heads=4, H_layers=2, L_layers=2, H_cycles=2, L_cycles=2,
                             puzzle_emb_ndim=64, num_puzzle_identifiers=3, halt_max_steps=4),
    "padded-puzzle-emb": HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=2, H_cycles=3, L_cycles=1,
                                   puzzle_emb_ndim=48, num_puzzle_identifiers=5, vocab_size=12, seq_len=30,
                                   halt_max_steps=4, grid_shape=(5, 6)),
    "learned-positions": HRMConfig(hidden_size=32, num_heads=4, H_layers=1, L_layers=1, H_cycles=2, L_cycles=2,
                                   puzzle_emb_ndim=32, num_puzzle_identifiers=2, halt_max_steps=3,
                                   pos_encodings="learned"),
    "grid-rope": HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=2, H_cycles=2, L_cycles=2,
                           puzzle_emb_ndim=48, num_puzzle_identifiers=2, vocab_size=6, seq_len=20,
                           halt_max_steps=3, grid_shape=(4, 5), pos_encodings="rope2d"),
    "boxed-grid-rope-absolute": HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=2, H_cycles=2,
                                          L_cycles=2, puzzle_emb_ndim=32, num_puzzle_identifiers=2, vocab_size=6,
                                          seq_len=36, halt_max_steps=3, grid_shape=(6, 6), pos_encodings="rope2d",
                                          rope_boxes=3, absolute_positions=True),
    "local-window-grid-rope": HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=2, H_cycles=2, L_cycles=2,
                                        puzzle_emb_ndim=48, num_puzzle_identifiers=2, vocab_size=6, seq_len=63,
                                        halt_max_steps=3, grid_shape=(7, 9), pos_encodings="rope2d",
                                        attention_window=3),
    "window-only-grid-rope": HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=2, L_cycles=2,
                                       puzzle_emb_ndim=32, num_puzzle_identifiers=2, vocab_size=6, seq_len=64,
                                       halt_max_steps=3, grid_shape=(8, 8), pos_encodings="rope2d",
                                       attention_window=3, window_prefix=False),
    "local-window-1d-rope": HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=2, L_cycles=2,
                                      puzzle_emb_ndim=32, num_puzzle_identifiers=2, vocab_size=6, seq_len=100,
                                      halt_max_steps=3, grid_shape=(10, 10), attention_window=5),
}


# Windowed configs run both ways a layer computes the window: masked full attention (what
# small grids use) and tiles (large grids), forced through HRM_LOCAL_ATTENTION.
RUNS = [(name, None) for name in CONFIGS] + [(name, "tiles") for name in CONFIGS if CONFIGS[name].attention_window]


@pytest.mark.parametrize(("name", "window_by"), RUNS)
def test_segments_match_numpy_reference(name, window_by, monkeypatch):
    if window_by:
        monkeypatch.setenv("HRM_LOCAL_ATTENTION", window_by)
    cfg = CONFIGS[name]
    model = _randomised_model(cfg)
    weights = {k: np.array(v) for k, v in model_arrays(model).items()}
    ref = ReferenceHRM(weights, dataclasses.asdict(cfg))

    rng = np.random.default_rng(1)
    B = 3
    inputs = rng.integers(0, cfg.vocab_size, size=(B, cfg.seq_len)).astype(np.int32)
    ids = rng.integers(0, cfg.num_puzzle_identifiers, size=B).astype(np.int32)

    x = model.input_embeddings(mx.array(inputs), model.puzzle_rows(mx.array(ids)))
    z_H, z_L = model.initial_state(B)
    rx = ref.embed(inputs, ids)
    np.testing.assert_allclose(np.array(x), rx, atol=TOLERANCE, rtol=TOLERANCE)
    r_H, r_L = ref.initial(B)
    worst = 0.0
    for _segment in range(4):  # one segment, then three more with the carry
        out = model.segment(z_H, z_L, x)
        z_H, z_L = out.z_H, out.z_L
        r_H, r_L, r_logits, r_qh, r_qc = ref.segment(r_H, r_L, rx)
        for got, want in ((out.logits, r_logits), (out.q_halt, r_qh), (out.q_continue, r_qc)):
            got = np.array(got, dtype=np.float64)
            worst = max(worst, float(np.max(np.abs(got - want))))
        for got, want in ((z_H, r_H), (z_L, r_L)):
            np.testing.assert_allclose(np.array(got, dtype=np.float64), want, atol=STATE_TOLERANCE)
    print(f"{name}: largest logit/Q difference over 4 segments {worst:.2e}")  # shown by pytest -s
    assert worst < TOLERANCE


def test_reference_sudoku_size_has_reference_parameter_count():
    # The figure the reference implementation reports for its Sudoku model.
    assert count_parameters(HRM(HRMConfig())) == 27_275_266


def test_q_head_starts_at_never_halt():
    model = HRM(HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=1, puzzle_emb_ndim=32))
    assert float(mx.abs(model.q_head.weight).max().item()) == 0.0
    assert np.array(model.q_head.bias).tolist() == [-5.0, -5.0]


def test_non_trainable_state_is_kept_out_of_the_optimiser():
    from mlx.utils import tree_flatten

    model = HRM(HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=1, puzzle_emb_ndim=32))
    trainable = {k for k, _ in tree_flatten(model.trainable_parameters())}
    saved = set(model_arrays(model))
    assert {"H_init", "L_init", "puzzle_emb"} <= saved
    assert not trainable & {"H_init", "L_init", "puzzle_emb"}


def test_a_grid_rope_model_moves_to_a_larger_grid_with_the_same_weights():
    from models.errors import ModelError
    from models.hrm import on_grid

    cfg = CONFIGS["grid-rope"]
    model = _randomised_model(cfg)
    larger = on_grid(model, 6, 7)
    assert larger.config.seq_len == 42 and larger.config.grid_shape == (6, 7)
    small, big = model_arrays(model), model_arrays(larger)
    assert small.keys() == big.keys()
    for name in small:
        np.testing.assert_array_equal(np.array(small[name]), np.array(big[name]), err_msg=name)
    # The same weights, read by the numpy reference on the larger grid, give the same segment.
    ref = ReferenceHRM({k: np.array(v) for k, v in big.items()}, dataclasses.asdict(larger.config))
    inputs = np.random.default_rng(2).integers(0, cfg.vocab_size, size=(2, 42)).astype(np.int32)
    ids = np.array([0, 1], np.int32)
    x = larger.input_embeddings(mx.array(inputs), larger.puzzle_rows(mx.array(ids)))
    z_H, z_L = larger.initial_state(2)
    out = larger.segment(z_H, z_L, x)
    r_H, r_L = ref.initial(2)
    r = ref.segment(r_H, r_L, ref.embed(inputs, ids))
    np.testing.assert_allclose(np.array(out.logits), r[2], atol=TOLERANCE, rtol=TOLERANCE)
    with pytest.raises(ModelError, match="runs only on its"):
        on_grid(_randomised_model(CONFIGS["sudoku-like"]), 10, 10)


def test_box_rope_singles_out_the_cells_own_box():
    """With rope_boxes, the row and column coordinates of 2-D RoPE leave a gap between boxes:
    the offsets inside a box are at most 2 and to any other box at least 7, so one offset range
    means "same box". Such a model is tied to its grid, as is one with an absolute table."""
    from models.errors import ModelError
    from models.hrm import on_grid, size_free
    from models.layers import grid_rope_tables

    boxed_cos, _ = grid_rope_tables(9, 9, 1, 16, 10000.0, 3)
    plain_cos, _ = grid_rope_tables(27, 27, 1, 16, 10000.0)
    for cell in range(81):
        r, c = divmod(cell, 9)
        stretched = 1 + (r + 6 * (r // 3)) * 27 + c + 6 * (c // 3)
        np.testing.assert_allclose(np.array(boxed_cos[1 + cell]), np.array(plain_cos[stretched]), atol=1e-6)
    assert not size_free(CONFIGS["boxed-grid-rope-absolute"]) and size_free(CONFIGS["grid-rope"])
    with pytest.raises(ModelError, match="rope2d with 3x3 boxes \\+ absolute table positions runs only on its 6x6"):
        on_grid(_randomised_model(CONFIGS["boxed-grid-rope-absolute"]), 9, 9)
    for bad in ({"pos_encodings": "rope"}, {"grid_shape": (8, 8), "seq_len": 64}):
        with pytest.raises(ModelError, match="rope_boxes"):
            HRMConfig(**{"pos_encodings": "rope2d", "rope_boxes": 3, **bad})


def test_the_distance_head_and_its_loss_match_the_numpy_statement():
    """`distance_classes` (ours, training only) adds a head on z_H and a loss term; both agree
    with the numpy statement, and a model without it is unchanged (same parameters)."""
    from models.losses import distance_terms
    from tests.numpy_reference import distance_loss

    plain = CONFIGS["local-window-grid-rope"]
    cfg = dataclasses.replace(plain, distance_classes=4)
    model = _randomised_model(cfg)
    weights = {k: np.array(v) for k, v in model_arrays(model).items()}
    assert set(weights) - set(model_arrays(_randomised_model(plain))) == {"distance_head.weight"}
    ref = ReferenceHRM(weights, dataclasses.asdict(cfg))
    rng = np.random.default_rng(3)
    inputs = rng.integers(0, cfg.vocab_size, size=(2, cfg.seq_len)).astype(np.int32)
    ids = np.zeros(2, np.int32)
    out = model.segment(*model.initial_state(2), model.input_embeddings(mx.array(inputs), model.puzzle_rows(mx.array(ids))))
    r_H = ref.segment(*ref.initial(2), ref.embed(inputs, ids))[0]
    logits = model.distance_logits(out.z_H)
    np.testing.assert_allclose(np.array(logits), ref.distance_logits(r_H), atol=TOLERANCE, rtol=TOLERANCE)
    targets = rng.integers(0, 4, size=(2, cfg.seq_len, 2)).astype(np.int32)
    targets[0, :10] = -100
    loss, hits = distance_terms(logits, mx.array(targets), "softmax")
    np.testing.assert_allclose(float(loss.item()), distance_loss(np.array(logits, np.float64), targets), rtol=1e-4)
    assert 0 <= float(hits.min().item()) <= float(hits.max().item()) <= 1
