"""Where weights live and how the CLI and the app load them.

Shipped defaults are `weights/<kind>/` inside the installed package; any other directory
(for example a run being trained) can be passed instead.
"""

from __future__ import annotations

from pathlib import Path

from hrm_tui.errors import UserError

KINDS = ("sudoku", "maze", "arc")


def shipped_weights_root() -> Path:
    import weights

    return Path(weights.__file__).resolve().parent


def default_weights_dir(kind: str) -> Path:
    if kind not in KINDS:
        raise UserError(f"unknown puzzle kind {kind!r}; choose one of {', '.join(KINDS)}")
    return shipped_weights_root() / kind


def load_model(kind: str, weights_dir: Path | None = None):
    """Load weights for `kind` (the shipped default when `weights_dir` is None).

    Every problem (missing dir, corrupt file, wrong kind) becomes a one-line UserError.
    """
    from models.checkpoint import load_weights
    from models.errors import ModelError

    directory = Path(weights_dir) if weights_dir is not None else default_weights_dir(kind)
    if weights_dir is None and not (directory / "model.safetensors").is_file():
        raise UserError(f"no shipped {kind} weights in {directory}; train some with `hrm train {kind}` "
                        "or pass --weights DIR")
    try:
        model = load_weights(directory, expected_kind=kind)
    except ModelError as exc:
        raise UserError(str(exc)) from None
    _check_geometry(kind, model.config, directory)
    return model


def _check_geometry(kind: str, config, directory: Path) -> None:
    """Refuse weights whose token geometry does not fit the kind: Sudoku's exact vocab and
    length; for mazes the vocab and a square canvas of at most the reference 30x30."""
    if kind == "arc":
        return  # ARC models may crop the canvas; the ARC glue checks its own geometry
    import math

    from puzzles.kinds import get_kind

    spec = get_kind(kind)
    side = math.isqrt(config.seq_len)
    fits = config.vocab_size == spec.vocab_size and (
        config.seq_len == spec.seq_len if kind != "maze" else side * side == config.seq_len and 5 <= side <= 30)
    if not fits:
        raise UserError(f"{directory} has vocab {config.vocab_size} and sequence length {config.seq_len}; "
                        f"{kind} needs vocab {spec.vocab_size} and sequence length {spec.seq_len}"
                        + (" (or a smaller square canvas)" if kind == "maze" else ""))
