"""Convert a checkpoint of the reference HRM (github.com/sapientinc/HRM, PyTorch) to our model.

Both implementations lay weights out alike (fused [q|k|v] and [gate|up] projections, (out, in)
matrices, rotate-half RoPE over the puzzle-embedding and token positions), so conversion renames
keys and checks shapes. The weights fix the sizes (vocabulary, width, layer counts, MLP width,
puzzle embedding); what they cannot say (heads, cycles, halting) comes from the reference's
`all_config.yaml` (written next to its checkpoints), else from its defaults
(config/arch/hrm_v1.yaml). Sequence length and puzzle kind are the caller's: with RoPE nothing in
the weights depends on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.config import POS_ENCODINGS
from models.errors import ModelError

# The state dict belongs to the ACT loss head wrapping the model (`model.inner.`), under
# torch.compile's `_orig_mod.` when compiled, which the reference training does by default.
PREFIXES = ("_orig_mod.model.inner.", "model.inner.", "")
RENAMED = {"embed_tokens.embedding_weight": "embed_tokens.weight", "puzzle_emb.weights": "puzzle_emb",
           "embed_pos.embedding_weight": "embed_pos"}
# Non-persistent buffers of the reference (rebuilt from the config), ignored if a checkpoint has them.
NOT_WEIGHTS = ("rotary_emb.cos_cached", "rotary_emb.sin_cached", "puzzle_emb.local_weights", "puzzle_emb.local_ids")
LEARNED_POSITIONS = "embed_pos.embedding_weight"
# config/arch/hrm_v1.yaml of the reference.
REFERENCE_DEFAULTS: dict[str, Any] = {
    "num_heads": 8, "H_cycles": 2, "L_cycles": 2, "halt_max_steps": 16, "halt_exploration_prob": 0.1,
    "expansion": 4, "pos_encodings": "rope", "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
}
LOSS_TYPES = {"stablemax_cross_entropy": "stablemax", "softmax_cross_entropy": "softmax"}
_LAYER = re.compile(r"([HL])_level\.layers\.(\d+)\.")


@dataclass(frozen=True)
class Geometry:
    """What a reference state dict fixes about the architecture."""

    vocab_size: int
    hidden_size: int
    H_layers: int
    L_layers: int
    mlp_hidden: int
    num_puzzle_identifiers: int
    puzzle_emb_ndim: int


def reference_tensors(checkpoint: Any, source: str) -> dict[str, np.ndarray]:
    """The inner model's tensors, named as in the reference module (prefix removed).

    The state dict may be the checkpoint itself or nested in it ({"model": state_dict, ...})."""
    state = _find_state_dict(checkpoint)
    if state is None:
        raise ModelError(f"{source} holds no reference HRM state dict (no ...embed_tokens.embedding_weight tensor)")
    anchor = next(k for k in state if k.endswith("embed_tokens.embedding_weight"))
    prefix = anchor[: -len("embed_tokens.embedding_weight")]
    if prefix not in PREFIXES:
        raise ModelError(f"{source}: unexpected key prefix {prefix!r}; expected one of "
                         + ", ".join(repr(p) for p in PREFIXES))
    tensors = {}
    for key, value in state.items():
        if not isinstance(key, str) or not key.startswith(prefix):
            raise ModelError(f"{source}: unknown key {key!r} (not under {prefix!r})")
        if not isinstance(value, np.ndarray):
            raise ModelError(f"{source}: {key} is a {type(value).__name__}, not a tensor")
        tensors[key[len(prefix):]] = value
    return tensors


def _find_state_dict(obj: Any, depth: int = 0) -> dict | None:
    if not isinstance(obj, dict) or depth > 4:
        return None
    if any(isinstance(k, str) and k.endswith("embed_tokens.embedding_weight") and isinstance(v, np.ndarray)
           for k, v in obj.items()):
        return obj
    return next((found for v in obj.values() if (found := _find_state_dict(v, depth + 1)) is not None), None)


def read_arch_config(path: Path) -> dict[str, Any]:
    """The `arch` section of a reference all_config.yaml (or an arch yaml such as hrm_v1.yaml)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} is not valid YAML ({' '.join(str(exc).split())})") from None
    arch = data.get("arch", data) if isinstance(data, dict) else None
    if not isinstance(arch, dict):
        raise ModelError(f"{path} is not a reference HRM config (no arch mapping)")
    name = arch.get("name")
    if isinstance(name, str) and "hrm_act_v1" not in name:
        raise ModelError(f"{path} describes the architecture {name}; only hrm_act_v1 (HRM) converts")
    return arch


def geometry(tensors: dict[str, np.ndarray], source: str) -> Geometry:
    def shape(name: str, ndim: int) -> tuple[int, ...]:
        if name not in tensors:
            raise ModelError(f"{source}: missing tensor {name}")
        if tensors[name].ndim != ndim:
            raise ModelError(f"{source}: {name} has shape {tensors[name].shape}, expected {ndim} dimensions")
        return tensors[name].shape

    vocab_size, hidden_size = shape("embed_tokens.embedding_weight", 2)
    layers = {"H": set(), "L": set()}
    for name in tensors:
        if match := _LAYER.match(name):
            layers[match[1]].add(int(match[2]))
    if not layers["H"] or not layers["L"]:
        raise ModelError(f"{source}: missing tensors of the {'H' if not layers['H'] else 'L'}_level layers")
    mlp_rows, _ = shape("H_level.layers.0.mlp.gate_up_proj.weight", 2)
    if "puzzle_emb.weights" in tensors:
        num_puzzle_identifiers, puzzle_emb_ndim = shape("puzzle_emb.weights", 2)
    else:
        num_puzzle_identifiers, puzzle_emb_ndim = 1, 0  # trained without puzzle embeddings
    return Geometry(vocab_size, hidden_size, max(layers["H"]) + 1, max(layers["L"]) + 1, mlp_rows // 2,
                    num_puzzle_identifiers, puzzle_emb_ndim)


def reference_config(tensors: dict[str, np.ndarray], arch: dict[str, Any], *, puzzle_kind: str, seq_len: int,
                     grid_shape: tuple[int, int], source: str, arch_source: str = "the reference defaults"):
    """Our HRMConfig for a reference state dict: sizes from the weights, the rest from `arch`
    (the reference all_config.yaml's arch section, or {} for the reference defaults). A value
    the config states that contradicts the weights is an error naming both."""
    from models.checkpoint import config_from

    encoding = "learned" if LEARNED_POSITIONS in tensors else arch.get("pos_encodings", "rope")
    if encoding not in POS_ENCODINGS:
        raise ModelError(f"{arch_source}: unknown pos_encodings {encoding!r}; expected one of {', '.join(POS_ENCODINGS)}")
    if encoding == "learned" and LEARNED_POSITIONS not in tensors:
        raise ModelError(f"{arch_source} says learned position encodings, but {source} has no {LEARNED_POSITIONS}")
    geo = geometry(tensors, source)
    for name in ("hidden_size", "H_layers", "L_layers", "puzzle_emb_ndim"):
        if name in arch and arch[name] != getattr(geo, name):
            raise ModelError(f"{arch_source} says {name} {arch[name]!r}, but the weights in {source} "
                             f"have {getattr(geo, name)}")
    settings = {**REFERENCE_DEFAULTS, **{k: v for k, v in arch.items() if k in REFERENCE_DEFAULTS}}
    loss_section = arch.get("loss") or {}
    loss = loss_section.get("loss_type", "stablemax_cross_entropy") if isinstance(loss_section, dict) else loss_section
    if not isinstance(loss, str) or loss not in LOSS_TYPES:
        raise ModelError(f"{arch_source}: unknown loss_type {loss!r}; expected one of {', '.join(LOSS_TYPES)}")
    data = {
        "puzzle_kind": puzzle_kind, "vocab_size": geo.vocab_size, "seq_len": seq_len,
        "num_puzzle_identifiers": geo.num_puzzle_identifiers, "puzzle_emb_ndim": geo.puzzle_emb_ndim,
        "hidden_size": geo.hidden_size, "H_layers": geo.H_layers, "L_layers": geo.L_layers,
        "loss_type": LOSS_TYPES[loss], "grid_shape": list(grid_shape),
        **{k: v for k, v in settings.items() if k != "pos_encodings"}, "pos_encodings": encoding,
    }
    config = config_from(data, arch_source)
    if config.mlp_hidden != geo.mlp_hidden:
        config = _fit_expansion(config, geo.mlp_hidden, "expansion" in arch, source, arch_source)
    return config


def _fit_expansion(config, mlp_hidden: int, stated: bool, source: str, arch_source: str):
    """The config with the expansion whose SwiGLU width is the weights' (inter*3/(2d) when
    the config did not state one); an error when the stated one disagrees or none fits."""
    import dataclasses

    if stated:
        raise ModelError(f"{arch_source} says expansion {config.expansion} (MLP width {config.mlp_hidden}), but the "
                         f"weights in {source} have MLP width {mlp_hidden}")
    fitted = dataclasses.replace(config, expansion=mlp_hidden * 3 / (2 * config.hidden_size))
    if fitted.mlp_hidden != mlp_hidden:
        raise ModelError(f"{source}: MLP width {mlp_hidden} is not a multiple of 256, so no expansion gives it")
    return fitted


def to_model(tensors: dict[str, np.ndarray], config, source: str):
    """An HRM with `config` holding the reference tensors; every shape, the set of names and
    the total parameter count are checked first (errors use the reference names)."""
    import mlx.core as mx

    from models.checkpoint import apply_arrays, model_arrays, parameter_count
    from models.hrm import HRM

    model = HRM(config)
    expected = {name: tuple(a.shape) for name, a in model_arrays(model).items()}
    arrays: dict[str, mx.array] = {}
    for name, value in tensors.items():
        if name in NOT_WEIGHTS:
            continue
        ours = RENAMED.get(name, name)
        if ours not in expected:
            raise ModelError(f"{source}: unknown tensor {name} (not part of the reference HRM this converts)")
        if not np.issubdtype(value.dtype, np.floating):
            raise ModelError(f"{source}: {name} holds {value.dtype} values, not floating point")
        if value.shape != expected[ours]:
            raise ModelError(f"{source}: {name} has shape {value.shape}, but a model with hidden_size "
                             f"{config.hidden_size}, vocab {config.vocab_size} and MLP width {config.mlp_hidden} "
                             f"needs {expected[ours]}")
        arrays[ours] = mx.array(value.astype(np.float32))
    if config.puzzle_emb_ndim == 0:  # our model keeps a (N, 1) placeholder table
        arrays["puzzle_emb"] = mx.zeros(expected["puzzle_emb"])
    missing = sorted(set(expected) - set(arrays))
    if missing:
        names = [next((r for r, o in RENAMED.items() if o == m), m) for m in missing]
        raise ModelError(f"{source}: missing tensors {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}")
    held, wanted = sum(a.size for a in arrays.values()), parameter_count(config)
    if held != wanted:
        raise ModelError(f"{source} holds {held:,} values, the config describes {wanted:,}")
    apply_arrays(model, arrays, source)
    model.eval()
    return model
