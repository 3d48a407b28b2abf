"""Weights directories and training run directories.

A weights directory holds config.json, model.safetensors (float32, never pickle), card.md and
metrics.json. A run directory holds the training log and checkpoints; every write is atomic
(temp name + fsync + rename) so a kill at any moment leaves the previous checkpoint loadable.
"""

from __future__ import annotations

import json
import os
import shutil
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


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def save_arrays(path: Path, arrays: dict[str, mx.array]) -> None:
    """Write a safetensors file (atomically) from a flat name -> array dict."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".safetensors", dir=path.parent)
    os.close(fd)
    try:
        mx.save_safetensors(tmp, arrays, metadata={"format": "mlx"})
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def load_arrays(path: Path) -> dict[str, mx.array]:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"missing {path}")
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


def save_weights(directory: Path, model: HRM, card: str | None = None,
                 metrics: dict[str, Any] | None = None) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_arrays(directory / WEIGHTS_FILE, model_arrays(model))
    atomic_write_text(directory / CONFIG_FILE, json.dumps(model.config.to_dict(), indent=2) + "\n")
    if card is not None:
        atomic_write_text(directory / "card.md", card)
    if metrics is not None:
        atomic_write_text(directory / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return directory


def load_weights(directory: Path, expected_kind: str | None = None) -> HRM:
    """Load a weights directory, or the latest checkpoint of a training run directory (so a
    run can be watched while it trains); every failure is a ModelError naming the problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelError(f"weights directory {directory} does not exist")
    if not (directory / CONFIG_FILE).exists() and (directory / "checkpoints").is_dir():
        return load_run_model(directory, expected_kind)
    config = HRMConfig.load(directory / CONFIG_FILE)
    if expected_kind is not None and config.puzzle_kind != expected_kind:
        raise ModelError(f"{directory} holds a {config.puzzle_kind} model, not a {expected_kind} model")
    arrays = load_arrays(directory / WEIGHTS_FILE)
    model = HRM(config)
    apply_arrays(model, arrays, str(directory / WEIGHTS_FILE))
    model.eval()
    return model


def load_run_model(run_dir: Path, expected_kind: str | None = None, checkpoint: Path | None = None) -> HRM:
    """The model of a run's latest (or given) checkpoint; its EMA weights when it keeps them."""
    ckpt = checkpoint or RunDir(run_dir).latest()
    if ckpt is None:
        raise ModelError(f"run directory {run_dir} has no checkpoint yet")
    groups, state = RunDir.load(ckpt)
    config = HRMConfig.from_dict(state["model_config"])
    if expected_kind is not None and config.puzzle_kind != expected_kind:
        raise ModelError(f"{run_dir} trains a {config.puzzle_kind} model, not a {expected_kind} model")
    model = HRM(config)
    apply_arrays(model, groups.get("ema", groups["model"]), str(ckpt))
    model.eval()
    return model


# -- run directories --------------------------------------------------------------------------

class RunDir:
    """Checkpoints of one training run: checkpoints/step-NNNNNNNN/ (complete by construction,
    since each is renamed into place only after all its files are synced), keep-last-N plus
    `best/`, and the JSON-lines training log."""

    def __init__(self, path: Path, keep_last: int = 3):
        self.path = Path(path)
        self.keep_last = keep_last
        self.ckpt_root = self.path / "checkpoints"
        self.log_path = self.path / "log.jsonl"

    def create(self) -> None:
        try:
            self.ckpt_root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelError(f"cannot create run directory {self.path}: {exc.strerror}") from None

    def checkpoints(self) -> list[Path]:
        if not self.ckpt_root.is_dir():
            return []
        found = [p for p in self.ckpt_root.glob("step-*") if p.is_dir() and (p / "state.json").is_file()]
        return sorted(found, key=lambda p: int(p.name.split("-")[1]))

    def latest(self) -> Path | None:
        ckpts = self.checkpoints()
        return ckpts[-1] if ckpts else None

    def save(self, step: int, arrays: dict[str, dict[str, mx.array]], state: dict[str, Any],
             is_best: bool = False) -> Path:
        """Write one checkpoint: several safetensors groups plus state.json, then rename."""
        self.create()
        final = self.ckpt_root / f"step-{step:08d}"
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-step-{step:08d}-", dir=self.ckpt_root))
        try:
            for group, tree in arrays.items():
                save_arrays(tmp / f"{group}.safetensors", tree)
            atomic_write_text(tmp / "state.json", json.dumps(state, indent=1) + "\n")
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            _fsync_dir(self.ckpt_root)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelError(f"could not write checkpoint {final}: {exc.strerror or exc}; "
                             "the previous checkpoint is intact") from None
        if is_best:
            self._replace_best(final)
        self._prune()
        return final

    def _replace_best(self, source: Path) -> None:
        best = self.ckpt_root / "best"
        tmp = self.ckpt_root / ".tmp-best"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
        old = self.ckpt_root / ".old-best"
        shutil.rmtree(old, ignore_errors=True)
        if best.exists():
            os.replace(best, old)
        os.replace(tmp, best)
        shutil.rmtree(old, ignore_errors=True)

    def _prune(self) -> None:
        for old in self.checkpoints()[: -self.keep_last]:
            shutil.rmtree(old, ignore_errors=True)
        for junk in self.ckpt_root.glob(".tmp-step-*"):
            shutil.rmtree(junk, ignore_errors=True)

    @staticmethod
    def load(ckpt: Path) -> tuple[dict[str, dict[str, mx.array]], dict[str, Any]]:
        try:
            state = json.loads((ckpt / "state.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"checkpoint {ckpt} has no readable state.json ({exc})") from None
        groups = {p.stem: load_arrays(p) for p in ckpt.glob("*.safetensors")}
        return groups, state

    # -- training log --
    def append_log(self, record: dict[str, Any]) -> None:
        with open(self.log_path, "a") as fh:
            fh.write(json.dumps(record) + "\n")

    def read_log(self) -> list[dict[str, Any]]:
        if not self.log_path.is_file():
            return []
        out = []
        for line in self.log_path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a kill
        return out

    def truncate_log(self, step: int) -> None:
        """After resuming from `step`, drop log lines written past it so the curve is continuous."""
        kept = [r for r in self.read_log() if r.get("step", 0) <= step]
        atomic_write_text(self.log_path, "".join(json.dumps(r) + "\n" for r in kept))


def numpy_rng_state(rng: np.random.Generator) -> dict[str, Any]:
    return rng.bit_generator.state


def restore_numpy_rng(state: dict[str, Any]) -> np.random.Generator:
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    return rng
