"""Loading a model for the app: the shipped default, any weights directory, or a training run.

A run directory (or one of its `checkpoints/step-*` folders) is accepted too, so a person
can watch a model while it trains: the newest checkpoint is used, EMA weights when present.
Every failure is a one-line `UserError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hrm_tui.errors import UserError


@dataclass(eq=False)
class LoadedModel:
    model: Any  # models.hrm.HRM
    source: Path
    shipped: bool
    card: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    title: str | None = None  # how to name it when the directory name says little

    @property
    def config(self):
        return self.model.config

    @property
    def label(self) -> str:
        if self.title:
            return self.title
        return f"shipped {self.config.puzzle_kind}" if self.shipped else self.source.name

    def summary(self) -> str:
        """One line for the top bar: what is loaded and how big it is."""
        from models.hrm import count_parameters

        cfg = self.config
        params = count_parameters(self.model)
        size = f"{params / 1e6:.1f}M" if params >= 1e5 else f"{params / 1e3:.0f}K"
        return f"{self.label} · {size} params · d{cfg.hidden_size} · {cfg.halt_max_steps} seg"


def load(kind: str, directory: Path | None = None) -> LoadedModel:
    """The model for `kind` from `directory` (a weights dir, run dir or checkpoint), or the
    shipped default when `directory` is None."""
    from hrm_tui.model_store import default_weights_dir, load_model

    if directory is None:
        model = load_model(kind)
        return _with_card(LoadedModel(model, default_weights_dir(kind), shipped=True))
    directory = Path(directory).expanduser()
    try:
        if not directory.is_dir():
            raise UserError(f"{directory} is not a directory")
        if (directory / "config.json").is_file():
            return _with_card(LoadedModel(load_model(kind, directory), directory, shipped=False))
        checkpoint = _newest_checkpoint(directory)
        if checkpoint is None:
            raise UserError(f"{directory} holds no weights (config.json + model.safetensors) "
                            "and no training checkpoints")
        return _from_checkpoint(kind, checkpoint)
    except OSError as exc:  # a training run pruning or removing what was being read
        raise UserError(f"could not read {directory}: {exc.strerror or exc}; if a training run is "
                        "writing it, try again") from None


def _newest_checkpoint(directory: Path) -> Path | None:
    if (directory / "state.json").is_file():
        return directory
    from models.checkpoint import RunDir

    return RunDir(directory).latest()


def _from_checkpoint(kind: str, checkpoint: Path) -> LoadedModel:
    from models.checkpoint import RunDir, apply_arrays, config_from, parameter_count
    from models.errors import ModelError
    from models.hrm import HRM

    try:
        groups, state = RunDir.load(checkpoint)
        config = config_from(state["model_config"], str(checkpoint / "state.json"))
        if config.puzzle_kind != kind:
            raise ModelError(f"{checkpoint} holds a {config.puzzle_kind} model, not a {kind} model")
        arrays = groups.get("ema") or groups.get("model")
        if arrays is None:
            raise ModelError(f"{checkpoint} has no model weights")
        held = sum(array.size for array in arrays.values())
        if held != parameter_count(config):  # before building: a mistyped config can ask for terabytes
            raise ModelError(f"{checkpoint}: its config describes {parameter_count(config):,} values, "
                             f"its weights hold {held:,}")
        model = HRM(config)
        apply_arrays(model, arrays, str(checkpoint))
        model.eval()
    except KeyError as exc:
        raise UserError(f"{checkpoint}: state.json lacks {exc}") from None
    except ModelError as exc:
        raise UserError(str(exc)) from None
    step = state.get("step", "?")
    metrics = {"step": step, "elapsed_s": state.get("elapsed"), "best_exact": state.get("best_exact")}
    card = f"# Training checkpoint\n\n`{checkpoint}` at step {step} (weights {'EMA' if 'ema' in groups else 'live'}).\n"
    run = checkpoint.parent.parent.name if checkpoint.parent.name == "checkpoints" else checkpoint.name
    return LoadedModel(model, checkpoint, shipped=False, card=card, metrics=metrics, title=f"{run} step {step}")


def _with_card(loaded: LoadedModel) -> LoadedModel:
    card = loaded.source / "card.md"
    metrics = loaded.source / "metrics.json"
    if card.is_file():
        loaded.card = card.read_text(encoding="utf-8", errors="replace")
    if metrics.is_file():
        try:
            loaded.metrics = json.loads(metrics.read_text())
        except (OSError, ValueError):
            loaded.metrics = {}
    return loaded
