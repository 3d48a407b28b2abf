"""`hrm convert`: a reference HRM checkpoint (a torch.save zip archive, written here without
torch) becomes weights our loader reads, with the same outputs as the model it came from;
hostile and broken files are one-line errors, and nothing in them ever runs."""

import collections
import contextlib
import io
import os
import pickle
import subprocess
import sys
import types
import zipfile

import mlx.core as mx
import numpy as np
import pytest
import yaml

from models import torch_archive
from models.checkpoint import load_weights, model_arrays, parameter_count
from models.config import HRMConfig
from models.errors import ModelError
from models.hrm import HRM

PREFIX = "_orig_mod.model.inner."  # a compiled reference model's state dict
BACK = {"embed_tokens.weight": "embed_tokens.embedding_weight", "puzzle_emb": "puzzle_emb.weights",
        "embed_pos": "embed_pos.embedding_weight"}


# -- the reference format, written without torch ------------------------------------------------

class RefStorage:
    """One storage: raw little-endian bytes in `<name>/data/<key>`, pickled as a persistent id."""

    def __init__(self, key: str, values: np.ndarray, dtype: str = "float32"):
        values = np.ascontiguousarray(values, dtype=np.float32).ravel()
        if dtype == "bfloat16":
            self.data, self.type_name = (values.view(np.uint32) >> 16).astype("<u2").tobytes(), "BFloat16Storage"
        else:
            self.data, self.type_name = values.astype("<f4").tobytes(), "FloatStorage"
        self.key, self.numel = key, values.size


class RefTensor:
    """Pickles as torch does: `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`."""

    def __init__(self, storage: RefStorage, offset: int, size: tuple, stride: tuple):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        return rebuild, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict())


@contextlib.contextmanager
def torch_stand_ins():
    """Module objects named like torch's, so the pickler writes GLOBAL torch.FloatStorage etc."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only pickled, never called")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for name in ("FloatStorage", "BFloat16Storage"):
        setattr(torch, name, type(name, (), {"__module__": "torch"}))
    torch._utils = utils
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch, "torch._utils": utils})
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class RefPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, RefStorage):
            return ("storage", getattr(sys.modules["torch"], obj.type_name), obj.key, "cpu", obj.numel)
        return None


def write_checkpoint(path, obj, storages, data_pkl: bytes | None = None):
    """A torch.save zip archive of `obj` (whose tensors are RefTensors on `storages`)."""
    if data_pkl is None:
        buffer = io.BytesIO()
        with torch_stand_ins():
            RefPickler(buffer, protocol=2).dump(obj)
        data_pkl = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{path.stem}/data.pkl", data_pkl)
        archive.writestr(f"{path.stem}/byteorder", "little")
        for storage in storages:
            archive.writestr(f"{path.stem}/data/{storage.key}", storage.data)
        archive.writestr(f"{path.stem}/version", "3\n")
    return path


def reference_checkpoint(model: HRM, path, prefix=PREFIX, edit=None, wrap=None):
    """Our model's weights under the reference names, laid out as torch may store them: the
    output head transposed in its storage, the Q head's weight and bias sharing one storage,
    H_init in bfloat16 (as the reference keeps it). `edit(state)` may change the numpy
    tensors first; `wrap(state_dict)` may nest the state dict in a larger object."""
    state = {BACK.get(name, name): np.array(value) for name, value in model_arrays(model).items()}
    if model.config.puzzle_emb_ndim == 0:
        del state["puzzle_emb.weights"]
    if edit is not None:
        edit(state)
    storages, tensors = [], collections.OrderedDict()

    def new_storage(values, dtype="float32"):
        storages.append(RefStorage(str(len(storages)), values, dtype))
        return storages[-1]

    for name, value in state.items():
        if name == "lm_head.weight":
            rows, cols = value.shape
            tensors[name] = RefTensor(new_storage(value.T), 0, (rows, cols), (1, rows))
        elif name == "q_head.weight":
            shared = new_storage(np.concatenate([state["q_head.bias"], value.ravel()]))
            tensors[name] = RefTensor(shared, 2, value.shape, (value.shape[1], 1))
            tensors["q_head.bias"] = RefTensor(shared, 0, (2,), (1,))
        elif name != "q_head.bias":
            stride = tuple(int(np.prod(value.shape[i + 1:])) for i in range(value.ndim))
            dtype = "bfloat16" if name == "H_init" else "float32"
            tensors[name] = RefTensor(new_storage(value, dtype), 0, value.shape, stride)
    state_dict = collections.OrderedDict((prefix + name, tensor) for name, tensor in tensors.items())
    return write_checkpoint(path, wrap(state_dict) if wrap else state_dict, storages)


def tiny_model(**changes) -> HRM:
    """A small Sudoku HRM with every weight non-trivial (the Q head and puzzle embeddings are
    random, not their zero init) and H_init exactly representable in bfloat16."""
    fields = dict(puzzle_kind="sudoku", vocab_size=11, seq_len=81, num_puzzle_identifiers=3, puzzle_emb_ndim=32,
                  hidden_size=32, num_heads=2, H_layers=1, L_layers=2, H_cycles=1, L_cycles=2, halt_max_steps=3,
                  loss_type="softmax", grid_shape=(9, 9))
    model = HRM(HRMConfig(**{**fields, **changes}), seed=3)
    rng = np.random.default_rng(4)
    model.q_head.weight = mx.array(rng.normal(0, 0.2, model.q_head.weight.shape).astype(np.float32))
    model.puzzle_emb = mx.array(rng.normal(0, 1, model.puzzle_emb.shape).astype(np.float32))
    bits = np.array(model.H_init).view(np.uint32) & np.uint32(0xFFFF0000)
    model.H_init = mx.array(bits.view(np.float32))
    return model


def all_config(model: HRM) -> dict:
    """What the reference training writes to all_config.yaml for this architecture."""
    c = model.config
    arch = {"name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
            "loss": {"name": "losses@ACTLossHead", "loss_type": "softmax_cross_entropy"},
            "H_cycles": c.H_cycles, "L_cycles": c.L_cycles, "H_layers": c.H_layers, "L_layers": c.L_layers,
            "hidden_size": c.hidden_size, "num_heads": c.num_heads, "expansion": 4,
            "puzzle_emb_ndim": c.puzzle_emb_ndim,
            "pos_encodings": c.pos_encodings, "halt_max_steps": c.halt_max_steps, "halt_exploration_prob": 0.1}
    return {"arch": arch, "data_path": "data/sudoku-extreme-1k-aug-1000", "global_batch_size": 384, "lr": 7e-5,
            "checkpoint_path": "checkpoints/Sudoku-extreme-1k-aug-1000 ACT-torch/run", "eval_save_outputs": []}


def outputs(model: HRM) -> tuple[np.ndarray, ...]:
    """Logits and Q values after two segments on a fixed batch."""
    rng = np.random.default_rng(5)
    inputs = mx.array(rng.integers(0, model.config.vocab_size, (4, model.config.seq_len)).astype(np.int32))
    ids = mx.array(np.array([0, 1, 2, 0], np.int32) % model.config.num_puzzle_identifiers)
    x = model.input_embeddings(inputs, model.puzzle_rows(ids))
    z_H, z_L = model.initial_state(4)
    first = model.segment(z_H, z_L, x)
    second = model.segment(first.z_H, first.z_L, x)
    return tuple(np.array(a) for a in (first.logits, second.logits, second.q_halt, second.q_continue))


def hrm(*args):
    env = {**os.environ, "HRM_BLAS_THREADS": "1", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "hrm_tui", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env)


def assert_one_line_error(result, *fragments):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# -- converting -------------------------------------------------------------------------------

def test_converted_model_gives_the_same_outputs(tmp_path):
    model = tiny_model()
    ckpt_dir = tmp_path / "HRM-checkpoint-sudoku-extreme"
    ckpt_dir.mkdir()
    checkpoint = reference_checkpoint(model, ckpt_dir / "checkpoint")
    (ckpt_dir / "all_config.yaml").write_text(yaml.safe_dump(all_config(model)))
    result = hrm("convert", ckpt_dir, "--out", tmp_path / "weights")
    assert result.returncode == 0, result.stderr
    assert "hrm --kind sudoku --weights" in result.stdout

    converted = load_weights(tmp_path / "weights", expected_kind="sudoku")
    assert converted.config == model.config  # heads, cycles, halting and loss read from all_config.yaml
    for ours, theirs in zip(outputs(converted), outputs(model)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    card = (tmp_path / "weights" / "card.md").read_text()
    import hashlib

    assert hashlib.sha256(checkpoint.read_bytes()).hexdigest() in card
    assert f"{parameter_count(model.config):,} values" in card and "all_config.yaml" in card


def test_learned_position_encodings_convert_too(tmp_path):
    model = tiny_model(pos_encodings="learned")
    checkpoint = reference_checkpoint(model, tmp_path / "checkpoint")
    (tmp_path / "all_config.yaml").write_text(yaml.safe_dump(all_config(model)))
    result = hrm("convert", checkpoint, "--out", tmp_path / "weights")
    assert result.returncode == 0, result.stderr
    converted = load_weights(tmp_path / "weights", expected_kind="sudoku")
    assert converted.config.pos_encodings == "learned"
    for ours, theirs in zip(outputs(converted), outputs(model)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_reference_defaults_nested_state_dict_without_puzzle_embedding(tmp_path):
    """No all_config.yaml: 8 heads, 2x2 cycles, 16 segments; a state dict saved uncompiled
    (`model.inner.`) inside {"model": ..., "step": ...}; trained with puzzle_emb_ndim 0."""
    model = tiny_model(num_heads=8, H_cycles=2, L_cycles=2, halt_max_steps=16, loss_type="stablemax",
                       puzzle_emb_ndim=0, num_puzzle_identifiers=1)
    checkpoint = reference_checkpoint(model, tmp_path / "step_1000.pt", prefix="model.inner.",
                                      wrap=lambda sd: {"model": sd, "step": 1000})
    result = hrm("convert", checkpoint, "--out", tmp_path / "weights", "--kind", "sudoku")
    assert result.returncode == 0, result.stderr
    converted = load_weights(tmp_path / "weights")
    assert converted.config == model.config
    for ours, theirs in zip(outputs(converted), outputs(model)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_unprefixed_state_dict_with_rotary_buffers_and_explicit_config(tmp_path):
    model = tiny_model()

    def add_rotary(state):
        state["rotary_emb.cos_cached"] = np.ones((82, 16), np.float32)
        state["rotary_emb.sin_cached"] = np.zeros((82, 16), np.float32)

    checkpoint = reference_checkpoint(model, tmp_path / "ckpt.pt", prefix="", edit=add_rotary)
    config = tmp_path / "elsewhere.yaml"
    config.write_text(yaml.safe_dump(all_config(model)))
    result = hrm("convert", checkpoint, "--out", tmp_path / "weights", "--config", config)
    assert result.returncode == 0, result.stderr
    assert load_weights(tmp_path / "weights").config == model.config


def test_expansion_follows_the_weights_when_no_config_states_it(tmp_path):
    """Without all_config.yaml the default expansion 4 would give d 128 an MLP width of 512;
    weights 256 wide get the expansion that gives 256, and the same outputs."""
    from models import reference_convert

    model = tiny_model(hidden_size=128, puzzle_emb_ndim=128, num_heads=8, expansion=2.0, H_cycles=2, L_cycles=2,
                       halt_max_steps=16, loss_type="stablemax")
    path = reference_checkpoint(model, tmp_path / "checkpoint")
    tensors = reference_convert.reference_tensors(torch_archive.load(path), str(path))
    config = reference_convert.reference_config(tensors, {}, puzzle_kind="sudoku", seq_len=81, grid_shape=(9, 9),
                                                source=str(path))
    assert config.mlp_hidden == model.config.mlp_hidden == 256
    converted = reference_convert.to_model(tensors, config, str(path))
    for ours, theirs in zip(outputs(converted), outputs(model)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


# -- one-line errors -----------------------------------------------------------------------------

def _set(name, value):
    return lambda state: state.__setitem__(name, value)


@pytest.mark.parametrize("edit, config_changes, fragments", [
    (_set("L_level.layers.1.mlp.down_proj.weight", np.zeros((32, 128), np.float32)), {},
     ["L_level.layers.1.mlp.down_proj.weight", "shape (32, 128)", "(32, 256)"]),
    (lambda state: state.pop("H_init"), {}, ["missing tensors H_init"]),
    (lambda state: state.pop("L_level.layers.1.self_attn.o_proj.weight"), {}, ["missing tensors L_level.layers.1"]),
    (_set("extra_head.weight", np.zeros((2, 32), np.float32)), {}, ["unknown tensor extra_head.weight"]),
    (_set("embed_pos.embedding_weight", np.zeros((80, 32), np.float32)), {},
     ["embed_pos.embedding_weight has shape (80, 32)", "(82, 32)"]),
    (None, {"hidden_size": 64}, ["says hidden_size 64", "have 32"]),
    (None, {"H_layers": 3}, ["says H_layers 3"]),
    (None, {"num_heads": 3}, ["not divisible by num_heads 3"]),
    (None, {"expansion": 16}, ["expansion 16", "MLP width 512", "MLP width 256"]),
    (None, {"pos_encodings": "learned"}, ["learned position encodings", "no embed_pos.embedding_weight"]),
])
def test_mismatches_are_one_line_errors(tmp_path, edit, config_changes, fragments):
    model = tiny_model()
    checkpoint = reference_checkpoint(model, tmp_path / "checkpoint", edit=edit)
    config = all_config(model)
    config["arch"].update(config_changes)
    (tmp_path / "all_config.yaml").write_text(yaml.safe_dump(config))
    result = hrm("convert", checkpoint, "--out", tmp_path / "weights")
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "weights").exists()


def test_broken_files_are_one_line_errors(tmp_path):
    good = reference_checkpoint(tiny_model(), tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    cases = [
        (truncated, ["not a complete zip archive"]),
        (text, ["not a PyTorch checkpoint"]),
        (tmp_path / "missing.pt", ["no such file"]),
    ]
    for path, fragments in cases:
        assert_one_line_error(hrm("convert", path, "--out", tmp_path / "out"), *fragments)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    assert_one_line_error(hrm("convert", good, "--out", tmp_path / "taken"), "already exists")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    wrong_kind = hrm("convert", good, "--out", tmp_path / "out", "--kind", "maze")
    assert_one_line_error(wrong_kind, "vocabulary of 11", "maze model has 6")


# -- nothing in the file runs ----------------------------------------------------------------------

def _payloads(marker):
    """data.pkl bodies that would create `marker` if unpickled by pickle.load."""
    class Shell:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    return {
        "os.system": f"cos\nsystem\n(S'touch {marker}'\ntR.".encode(),
        "builtins.eval": f"cbuiltins\neval\n(S'open(\"{marker}\", \"w\")'\ntR.".encode(),
        "posix.system": pickle.dumps(Shell(), protocol=4),
        "inside a state dict": b"\x80\x02}X\x05\x00\x00\x00model" + f"cos\nsystem\n(S'touch {marker}'\ntR".encode()
                               + b"s.",
    }


@pytest.mark.parametrize("name", list(_payloads("x")))
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, name):
    marker = tmp_path / "pwned"
    checkpoint = write_checkpoint(tmp_path / "checkpoint", None, [], data_pkl=_payloads(marker)[name])
    result = hrm("convert", checkpoint, "--out", tmp_path / "weights")
    assert_one_line_error(result, "refusing to load", "nothing in the file is run")
    assert not marker.exists()
    assert not (tmp_path / "weights").exists()


def test_plain_pickle_file_is_not_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    plain = tmp_path / "model.pkl"
    plain.write_bytes(_payloads(marker)["posix.system"])
    assert_one_line_error(hrm("convert", plain, "--out", tmp_path / "weights"), "plain pickle")
    assert not marker.exists()


# -- the archive reader on its own ------------------------------------------------------------------

def _archive_with(tmp_path, tensors, storages):
    return torch_archive.load(write_checkpoint(tmp_path / "t.pt", collections.OrderedDict(tensors), storages))


def test_strides_offsets_and_bfloat16(tmp_path):
    values = np.arange(12, dtype=np.float32)
    flat = RefStorage("0", values)
    halves = RefStorage("1", np.array([1.0, -2.5, 3.140625, 1e-3], np.float32), "bfloat16")
    loaded = _archive_with(tmp_path, {
        "matrix": RefTensor(flat, 0, (3, 4), (4, 1)),
        "transposed": RefTensor(flat, 0, (4, 3), (1, 4)),
        "window": RefTensor(flat, 5, (2, 3), (3, 1)),
        "every_other": RefTensor(flat, 1, (6,), (2,)),
        "empty": RefTensor(flat, 0, (0, 4), (4, 1)),
        "halves": RefTensor(halves, 0, (4,), (1,)),
    }, [flat, halves])
    np.testing.assert_array_equal(loaded["matrix"], values.reshape(3, 4))
    np.testing.assert_array_equal(loaded["transposed"], values.reshape(3, 4).T)
    np.testing.assert_array_equal(loaded["window"], values[5:11].reshape(2, 3))
    np.testing.assert_array_equal(loaded["every_other"], values[1::2])
    assert loaded["empty"].shape == (0, 4)
    assert loaded["halves"].dtype == np.float32
    bf16 = (np.array([1.0, -2.5, 3.140625, 1e-3], np.float32).view(np.uint32) & 0xFFFF0000).view(np.float32)
    np.testing.assert_array_equal(loaded["halves"], bf16)


@pytest.mark.parametrize("offset, size, stride", [
    (10, (3,), (1,)),  # runs past the end
    (0, (4, 4), (4, 1)),  # more values than the storage
    (0, (10**6, 10**6), (0, 0)),  # a tiny storage inflated by zero strides
    (-1, (2,), (1,)),
])
def test_views_outside_their_storage_are_refused(tmp_path, offset, size, stride):
    storage = RefStorage("0", np.arange(12, dtype=np.float32))
    with pytest.raises(ModelError, match="storage|malformed"):
        _archive_with(tmp_path, {"t": RefTensor(storage, offset, size, stride)}, [storage])


def test_storage_size_must_match_its_id(tmp_path):
    storage = RefStorage("0", np.arange(12, dtype=np.float32))
    storage.numel = 13
    with pytest.raises(ModelError, match="holds 48 bytes"):
        _archive_with(tmp_path, {"t": RefTensor(storage, 0, (12,), (1,))}, [storage])


def test_pickle_cannot_modify_a_storage(tmp_path):
    """BUILD on a storage (changing what later tensors read) is refused."""
    storage = RefStorage("0", np.arange(4, dtype=np.float32))
    buffer = io.BytesIO()
    with torch_stand_ins():
        RefPickler(buffer, protocol=2).dump(storage)
    body = buffer.getvalue()[:-1] + b"}X\x03\x00\x00\x00rawK\x01sb."  # storage, {"raw": 1}, BUILD
    path = write_checkpoint(tmp_path / "t.pt", None, [storage], data_pkl=body)
    with pytest.raises(ModelError, match="modify"):
        torch_archive.load(path)


def test_real_torch_save_reads_and_converts(tmp_path):
    """Cross-check with real torch.save files (skipped where torch is not installed)."""
    torch = pytest.importorskip("torch")
    original = {"w": torch.randn(5, 3), "t": torch.randn(3, 5).t(), "b": torch.randn(4).to(torch.bfloat16),
                "nested": {"x": torch.arange(6, dtype=torch.float32)[1::2]}}
    torch.save(original, tmp_path / "real.pt")
    loaded = torch_archive.load(tmp_path / "real.pt")
    np.testing.assert_array_equal(loaded["w"], original["w"].numpy())
    np.testing.assert_array_equal(loaded["t"], original["t"].numpy())
    np.testing.assert_array_equal(loaded["b"], original["b"].float().numpy())
    np.testing.assert_array_equal(loaded["nested"]["x"], original["nested"]["x"].numpy())

    model = tiny_model()
    model.L_init = mx.array(torch.from_numpy(np.array(model.L_init)).to(torch.bfloat16).float().numpy())
    state = collections.OrderedDict(  # H_init and L_init in bfloat16, as the reference keeps them
        (PREFIX + BACK.get(name, name), torch.from_numpy(np.array(value)).to(torch.bfloat16 if "init" in name else
                                                                              torch.float32))
        for name, value in model_arrays(model).items())
    state._metadata = collections.OrderedDict({"": {"version": 1}})  # as nn.Module.state_dict() sets it
    torch.save(state, tmp_path / "checkpoint")
    (tmp_path / "all_config.yaml").write_text(yaml.safe_dump(all_config(model)))
    result = hrm("convert", tmp_path / "checkpoint", "--out", tmp_path / "weights")
    assert result.returncode == 0, result.stderr
    for ours, theirs in zip(outputs(load_weights(tmp_path / "weights")), outputs(model)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
