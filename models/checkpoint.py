"""Weights directories and training run directories.

A weights directory holds config.json, model.safetensors (float32, never pickle), card.md and
metrics.json. A run directory holds the training log and checkpoints; every write is atomic
(temp name + fsync + rename) so a kill at any moment leaves the previous checkpoint loadable,
and a failed write (full disk, read-only directory) leaves it untouched.

Reading is defensive: a safetensors header is checked in Python (size, JSON, dtypes, offsets
inside the file) before MLX sees the file, so a truncated download, a pickle renamed to
.safetensors or a config describing a far larger model than the file holds is a one-line
ModelError and never an allocation of the wrong size. Nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import contextlib
import json
import math
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np
from mlx.utils import tree_flatten, tree_unflatten

from models.config import HRMConfig
from models.errors import ModelError
from models.hrm import HRM

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


# -- atomic file helpers ------------------------------------------------------------------

def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _atomic_replace(path: Path, suffix: str = ""):
    """Yield a temporary path beside `path`; once the block has written it, sync it and
    rename it over `path`. On any failure the temporary file goes and `path` is untouched."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    with _atomic_replace(path) as tmp:
        tmp.write_text(text)


def save_arrays(path: Path, arrays: dict[str, mx.array]) -> None:
    """Write a safetensors file (atomically) from a flat name -> array dict, in name order so
    equal tensors give byte-identical files (a resumed run is compared byte for byte).

    MLX reports a failed write (full disk, file-size limit) as RuntimeError; it is raised as
    OSError here like every other failed write, and the finished file is checked against its
    own header before it replaces anything."""
    path = Path(path)
    with _atomic_replace(path, suffix=".safetensors") as tmp:
        try:
            mx.save_safetensors(str(tmp), dict(sorted(arrays.items())), metadata={"format": "mlx"})
        except RuntimeError as exc:
            raise OSError(f"writing {path.name} failed ({exc})") from None
        read_safetensors_header(tmp, error=OSError)


# -- reading safetensors without trusting them -------------------------------------------

_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2,
                "BF16": 2, "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8, "C64": 8}
_MAX_HEADER_BYTES = 100 * 2**20  # the safetensors reference limit
_FOREIGN_FORMATS = (
    (b"PK\x03\x04", "a zip archive (a PyTorch .pt/.bin checkpoint?)"),
    (b"\x80\x02", "a Python pickle"), (b"\x80\x03", "a Python pickle"),
    (b"\x80\x04", "a Python pickle"), (b"\x80\x05", "a Python pickle"),
    (b"\x93NUMPY", "a numpy .npy file"),
)


def read_safetensors_header(path: Path, error: type[Exception] = ModelError) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Name -> (dtype, shape) of every tensor, after checking the header describes exactly
    the bytes in the file. Reads only the header; never unpickles anything."""
    path = Path(path)

    def not_safetensors(why: str) -> Exception:
        for magic, what in _FOREIGN_FORMATS:
            if prefix.startswith(magic):
                return error(f"{path} is {what}, not safetensors; weights are only read from "
                             "safetensors (pickles are never loaded)")
        return error(f"{path} is not a safetensors file (or is truncated): {why}")

    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise not_safetensors(f"only {size} bytes")
            (header_len,) = struct.unpack("<Q", prefix)
            if header_len > min(size - 8, _MAX_HEADER_BYTES):
                raise not_safetensors(f"its header claims {header_len} bytes of a {size}-byte file")
            raw = fh.read(header_len)
    except OSError as exc:
        if error is OSError:
            raise
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise not_safetensors("its header is not JSON") from None
    if not isinstance(header, dict):
        raise error(f"{path} is not a safetensors file: its header is not a JSON object")
    data_len = size - 8 - header_len
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
            if dtype not in _DTYPE_BYTES or not all(type(n) is int and n >= 0 for n in (*shape, begin, end)):
                raise ValueError
        except (TypeError, KeyError, ValueError):
            raise error(f"{path}: tensor {name!r} has a malformed header entry") from None
        if not begin <= end <= data_len:
            raise error(f"{path} is truncated: tensor {name!r} ends at byte {end} of {data_len} "
                        "(an incomplete download or copy?)")
        if end - begin != math.prod(shape) * _DTYPE_BYTES[dtype]:
            raise error(f"{path}: tensor {name!r} has {end - begin} bytes for shape {tuple(shape)} {dtype}")
        tensors[name] = (dtype, tuple(shape))
    return tensors


def load_arrays(path: Path) -> dict[str, mx.array]:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"missing {path}")
    read_safetensors_header(path)
    try:
        arrays = mx.load(str(path), format="safetensors")
    except Exception as exc:  # noqa: BLE001 - MLX raises plain RuntimeError/ValueError for bad files
        raise ModelError(f"{path} is not a readable safetensors file ({exc})") from None
    if not isinstance(arrays, dict):
        raise ModelError(f"{path} is not a safetensors tensor archive")
    return arrays


# -- weights directories --------------------------------------------------------------------

def model_arrays(model: HRM) -> dict[str, mx.array]:
    return dict(tree_flatten(model.parameters()))


def parameter_count(config: HRMConfig) -> int:
    """Number of values in every tensor of an HRM with this config (trainable and frozen),
    computed without building it, so a config is checked against a file before allocating."""
    d, inter = config.hidden_size, config.mlp_hidden
    per_block = 4 * d * d + 3 * d * inter  # qkv + o projections, gate_up + down
    return (2 * config.vocab_size * d + 2 * d + 2 + 2 * d
            + config.num_puzzle_identifiers * max(config.puzzle_emb_ndim, 1)
            + (config.H_layers + config.L_layers) * per_block
            + ((config.seq_len + config.puzzle_emb_len) * d if config.pos_encodings == "learned" or config.absolute_positions else 0)
            + d * 2 * config.distance_classes)


def _check_size_matches(config: HRMConfig, header: dict[str, tuple[str, tuple[int, ...]]], source: str) -> None:
    """Refuse a config that describes a different number of values than the file holds,
    before the model (possibly gigabytes for a mistyped config) is built."""
    held = sum(math.prod(shape) for _, shape in header.values())
    wanted = parameter_count(config)
    if held != wanted:
        raise ModelError(f"{source} does not match its config: the config describes {wanted:,} values "
                         f"(hidden_size {config.hidden_size}, {config.H_layers}+{config.L_layers} layers), "
                         f"the file holds {held:,}")


def apply_arrays(model: HRM, arrays: dict[str, mx.array], source: str) -> None:
    """Load named arrays into a model, checking names, shapes and finiteness first."""
    expected = model_arrays(model)
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing tensors {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(f"unexpected tensors {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}")
        raise ModelError(f"{source} does not match its config: " + "; ".join(parts))
    for name, ref in expected.items():
        got = arrays[name]
        if tuple(got.shape) != tuple(ref.shape):
            raise ModelError(f"{source}: tensor {name} has shape {tuple(got.shape)}, config expects {tuple(ref.shape)}")
        if not bool(mx.all(mx.isfinite(got.astype(mx.float32))).item()):
            raise ModelError(f"{source}: tensor {name} contains NaN or inf")
    model.update(tree_unflatten([(k, v.astype(ref.dtype)) for k, v in arrays.items()
                                 for ref in [expected[k]]]))
    mx.eval(model.parameters())


def all_finite(arrays: dict[str, mx.array]) -> bool:
    return all(bool(mx.all(mx.isfinite(a)).item()) for a in arrays.values()
               if mx.issubdtype(a.dtype, mx.floating))


def save_weights(directory: Path, model: HRM, card: str | None = None,
                 metrics: dict[str, Any] | None = None) -> Path:
    """Write a weights directory; a failed write is a ModelError and leaves earlier files whole."""
    directory = Path(directory)
    arrays = model_arrays(model)
    if not all_finite(arrays):
        raise ModelError(f"refusing to write {directory}: the weights contain NaN or inf")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        save_arrays(directory / WEIGHTS_FILE, arrays)
        atomic_write_text(directory / CONFIG_FILE, json.dumps(model.config.to_dict(), indent=2) + "\n")
        if card is not None:
            atomic_write_text(directory / "card.md", card)
        if metrics is not None:
            atomic_write_text(directory / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    except OSError as exc:
        raise ModelError(f"could not write weights to {directory}: {exc.strerror or exc}") from None
    return directory


def config_from(data: Any, source: str) -> HRMConfig:
    """An HRMConfig from decoded JSON; any problem with it is a ModelError naming `source`.

    Field types are checked here (HRMConfig trusts its callers), so a hand-edited config.json
    fails when loaded rather than in the middle of a forward pass."""
    if not isinstance(data, dict):
        raise ModelError(f"{source}: the model config must be a JSON object")
    for f in dataclasses.fields(HRMConfig):
        if f.name in data and not _has_type_of(data[f.name], f.default if f.default is not dataclasses.MISSING else None):
            raise ModelError(f"{source}: {f.name} is {data[f.name]!r}, which is not a valid value")
    try:
        config = HRMConfig.from_dict(data)
        parameter_count(config)
    except ModelError as exc:
        raise ModelError(f"{source}: {exc}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:  # e.g. num_heads 0
        raise ModelError(f"{source}: invalid model config ({exc})") from None
    return config


def _has_type_of(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return type(value) is type(default)
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and math.isfinite(value)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, tuple):  # grid_shape
        return isinstance(value, (list, tuple)) and len(value) == 2 and all(
            type(v) is int and v > 0 for v in value)
    return isinstance(value, dict)  # extra (default_factory)


def load_weights(directory: Path, expected_kind: str | None = None) -> HRM:
    """Load a weights directory, or the latest checkpoint of a training run directory (so a
    run can be watched while it trains); every failure is a ModelError naming the problem."""
    directory = Path(directory)
    if directory.is_file():
        raise ModelError(f"{directory} is a file; --weights takes a weights directory "
                         f"(with {CONFIG_FILE} and {WEIGHTS_FILE}) or a training run directory")
    if not directory.is_dir():
        raise ModelError(f"weights directory {directory} does not exist")
    if not (directory / CONFIG_FILE).exists() and (directory / "checkpoints").is_dir():
        return load_run_model(directory, expected_kind)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise ModelError(f"{directory} is not a weights directory: missing {CONFIG_FILE}")
    try:
        data = json.loads(config_path.read_bytes())
    except OSError as exc:
        raise ModelError(f"cannot read {config_path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ModelError(f"{config_path} is not valid JSON ({exc})") from None
    config = config_from(data, str(config_path))
    if expected_kind is not None and config.puzzle_kind != expected_kind:
        raise ModelError(f"{directory} holds a {config.puzzle_kind} model, not a {expected_kind} model")
    weights_path = directory / WEIGHTS_FILE
    if not weights_path.is_file():
        raise ModelError(f"missing {weights_path}")
    _check_size_matches(config, read_safetensors_header(weights_path), str(weights_path))
    arrays = load_arrays(weights_path)
    model = HRM(config)
    apply_arrays(model, arrays, str(weights_path))
    model.eval()
    return model


def load_run_model(run_dir: Path, expected_kind: str | None = None, checkpoint: Path | None = None) -> HRM:
    """The model of a run's latest (or given) checkpoint; its EMA weights when it keeps them."""
    ckpt = checkpoint or RunDir(run_dir).latest()
    if ckpt is None:
        raise ModelError(f"run directory {run_dir} has no checkpoint yet")
    groups, state = RunDir.load(ckpt)
    config = config_from(state["model_config"], str(ckpt / "state.json"))
    if expected_kind is not None and config.puzzle_kind != expected_kind:
        raise ModelError(f"{run_dir} trains a {config.puzzle_kind} model, not a {expected_kind} model")
    group = "ema" if "ema" in groups else "model"
    source = str(ckpt / f"{group}.safetensors")
    _check_size_matches(config, {k: ("F32", tuple(v.shape)) for k, v in groups[group].items()}, source)
    model = HRM(config)
    apply_arrays(model, groups[group], source)
    model.eval()
    return model


# -- run directories --------------------------------------------------------------------------

STEP_PREFIX = "step-"
ASIDE_PREFIX = ".old-"  # a checkpoint being replaced by a re-save of the same step


class RunDir:
    """Checkpoints of one training run: checkpoints/step-NNNNNNNN/ (complete by construction,
    since each is renamed into place only after all its files are synced), keep-last-N plus
    `best/`, and the JSON-lines training log.

    Every replacement keeps the old copy until the new one is in place, so a kill between two
    renames leaves a recoverable `.old-*` directory; readers see it as the checkpoint and the
    next writer (`create`) renames it back."""

    def __init__(self, path: Path, keep_last: int = 3):
        self.path = Path(path)
        self.keep_last = max(1, keep_last)
        self.ckpt_root = self.path / "checkpoints"
        self.log_path = self.path / "log.jsonl"

    def create(self) -> None:
        """Make the directory (once) and finish anything a killed writer left half done."""
        try:
            self.ckpt_root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ModelError(f"cannot use {self.path} as a run directory: a file is in the way") from None
        except OSError as exc:
            raise ModelError(f"cannot create run directory {self.path}: {exc.strerror}") from None
        self._recover()

    def _recover(self) -> None:
        for aside in self.ckpt_root.glob(f"{ASIDE_PREFIX}*"):
            original = self.ckpt_root / aside.name[len(ASIDE_PREFIX):]
            try:
                if original.exists() or not (aside / "state.json").is_file():
                    shutil.rmtree(aside)
                else:
                    os.replace(aside, original)
            except OSError:
                pass  # read-only or vanished: readers still find the aside
        for junk in self.ckpt_root.glob(".tmp-*"):
            shutil.rmtree(junk, ignore_errors=True)

    def checkpoints(self) -> list[Path]:
        """The complete checkpoints, oldest first; none when the run directory is gone (even
        if it goes while this looks: a viewer reads runs that training prunes or removes)."""
        found: dict[int, Path] = {}
        try:
            for prefix in (ASIDE_PREFIX + STEP_PREFIX, STEP_PREFIX):  # a real step-N wins over its aside
                for p in self.ckpt_root.glob(f"{prefix}*"):
                    number = p.name[len(prefix):]
                    if number.isdigit() and p.is_dir() and (p / "state.json").is_file():
                        found[int(number)] = p
        except FileNotFoundError:
            return []
        return [found[n] for n in sorted(found)]

    def latest(self) -> Path | None:
        ckpts = self.checkpoints()
        return ckpts[-1] if ckpts else None

    def best(self) -> Path | None:
        for name in ("best", ASIDE_PREFIX + "best"):
            if (self.ckpt_root / name / "state.json").is_file():
                return self.ckpt_root / name
        return None

    def save(self, step: int, arrays: dict[str, dict[str, mx.array]], state: dict[str, Any],
             is_best: bool = False) -> Path:
        """Write one checkpoint: several safetensors groups plus state.json, then rename.

        A failed write (full disk, read-only directory) removes its temporary files and raises
        ModelError saying the previous checkpoint is intact, which it is: nothing existing is
        touched until the new checkpoint is complete on disk."""
        self.create()
        final = self.ckpt_root / f"{STEP_PREFIX}{step:08d}"
        tmp = None
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=self.ckpt_root))
            for group, tree in arrays.items():
                save_arrays(tmp / f"{group}.safetensors", tree)
            atomic_write_text(tmp / "state.json", json.dumps(state, indent=1) + "\n")
            self._install(tmp, final)
        except OSError as exc:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            previous = self.latest()
            kept = f"the previous checkpoint {previous} is intact" if previous else "there is no earlier checkpoint"
            raise ModelError(f"could not write checkpoint {final}: {exc.strerror or exc}; {kept}") from None
        if is_best:
            try:
                self._replace_best(final)
            except OSError as exc:
                raise ModelError(f"could not update {self.ckpt_root / 'best'}: {exc.strerror or exc}; "
                                 f"{final} is saved") from None
        self._prune()
        return final

    def _install(self, source: Path, target: Path) -> None:
        """Rename `source` to `target`, keeping any existing `target` aside until it is done."""
        aside = target.with_name(ASIDE_PREFIX + target.name)
        shutil.rmtree(aside, ignore_errors=True)
        if target.exists():
            os.replace(target, aside)
        os.replace(source, target)
        _fsync_dir(self.ckpt_root)
        shutil.rmtree(aside, ignore_errors=True)

    def _replace_best(self, source: Path) -> None:
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-best-", dir=self.ckpt_root))
        shutil.rmtree(tmp)
        shutil.copytree(source, tmp)
        self._install(tmp, self.ckpt_root / "best")

    def _prune(self) -> None:
        for old in self.checkpoints()[: -self.keep_last]:
            shutil.rmtree(old, ignore_errors=True)
        for junk in self.ckpt_root.glob(".tmp-*"):
            shutil.rmtree(junk, ignore_errors=True)

    @staticmethod
    def load(ckpt: Path) -> tuple[dict[str, dict[str, mx.array]], dict[str, Any]]:
        """(safetensors groups, state) of one checkpoint directory; ModelError if either is
        unusable, naming the earlier checkpoint that can be used instead (damage on disk,
        since writes cannot leave a partial checkpoint)."""
        ckpt = Path(ckpt)
        try:
            return RunDir._load(ckpt)
        except ModelError as exc:
            listed = RunDir(ckpt.parent.parent).checkpoints()
            earlier = listed[: listed.index(ckpt)] if ckpt in listed else []
            if not earlier:
                raise
            raise ModelError(f"{exc}; the earlier checkpoint {earlier[-1].name} is intact: remove "
                             f"{ckpt} to use it") from None

    @staticmethod
    def _load(ckpt: Path) -> tuple[dict[str, dict[str, mx.array]], dict[str, Any]]:
        try:
            state = json.loads((ckpt / "state.json").read_bytes())
        except (OSError, ValueError) as exc:
            raise ModelError(f"checkpoint {ckpt} has no readable state.json ({exc})") from None
        if not isinstance(state, dict) or not isinstance(state.get("step"), int) \
                or not isinstance(state.get("model_config"), dict):
            raise ModelError(f"checkpoint {ckpt}: state.json lacks its step or model config")
        groups = {p.stem: load_arrays(p) for p in ckpt.glob("*.safetensors")}
        if "model" not in groups:
            raise ModelError(f"checkpoint {ckpt} has no model.safetensors")
        return groups, state

    # -- training log --
    def append_log(self, record: dict[str, Any]) -> None:
        try:
            with open(self.log_path, "a") as fh:
                fh.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise ModelError(f"could not append to {self.log_path}: {exc.strerror or exc}") from None

    def read_log(self) -> list[dict[str, Any]]:
        """The log's records; [] when there is no log (or it vanished while being read)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except (FileNotFoundError, NotADirectoryError):
            return []
        out = []
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            if isinstance(record, dict):
                out.append(record)
        return out

    def truncate_log(self, step: int) -> None:
        """After resuming from `step`, drop log lines written past it so the curve is continuous."""
        kept = [r for r in self.read_log() if r.get("step", 0) <= step]
        try:
            atomic_write_text(self.log_path, "".join(json.dumps(r) + "\n" for r in kept))
        except OSError as exc:
            raise ModelError(f"could not rewrite {self.log_path}: {exc.strerror or exc}") from None


def numpy_rng_state(rng: np.random.Generator) -> dict[str, Any]:
    return rng.bit_generator.state


def restore_numpy_rng(state: dict[str, Any]) -> np.random.Generator:
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    return rng
