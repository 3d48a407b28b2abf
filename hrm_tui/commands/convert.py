"""`hrm convert CHECKPOINT --out DIR`: a reference HRM checkpoint (PyTorch, from
github.com/sapientinc/HRM) as a weights directory the app, `solve` and `eval` load."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hrm_tui.commands._options import Kind

REFERENCE_CONFIG = "all_config.yaml"  # what the reference training writes beside its checkpoints
REFERENCE_CHECKPOINT = "checkpoint"  # the file name in the published checkpoint repositories


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)


def convert(
    checkpoint: Path = typer.Argument(
        ..., metavar="CHECKPOINT", help="Reference PyTorch checkpoint (or the directory holding `checkpoint`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Weights directory to write."),
    config: Optional[Path] = typer.Option(
        None, "--config", help=f"The reference {REFERENCE_CONFIG} (default: the one beside the checkpoint, "
                               "else the reference defaults: 8 heads, 2x2 cycles, 16 segments)."),
    kind: Optional[Kind] = typer.Option(
        None, help="Puzzle kind (default: from the vocabulary: 11 sudoku, 6 maze, 12 arc)."),
) -> None:
    """Convert a reference HRM checkpoint (Sudoku-Extreme, Maze-30x30-Hard, ARC) to our weights.

    The file is read without torch and without running its pickle: only tensors are accepted."""
    from hrm_tui.errors import UserError
    from models.errors import ModelError

    checkpoint = _checkpoint_file(checkpoint)
    if config is None and (checkpoint.parent / REFERENCE_CONFIG).is_file():
        config = checkpoint.parent / REFERENCE_CONFIG
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} already exists and is not an empty directory; choose a new --out")
    try:
        model = _convert(checkpoint, config, kind.value if kind else None)
        from models.checkpoint import save_weights

        save_weights(out, model, card=_card(checkpoint, config, model, out))
    except ModelError as exc:
        raise UserError(str(exc)) from None
    cfg = model.config
    typer.echo(f"converted {checkpoint} ({cfg.puzzle_kind}, hidden {cfg.hidden_size}, "
               f"{cfg.H_layers}+{cfg.L_layers} layers) to {out}; watch it with "
               f"`hrm --kind {cfg.puzzle_kind} --weights {out}`")


def _checkpoint_file(path: Path) -> Path:
    from hrm_tui.errors import UserError

    if path.is_dir():
        if (path / REFERENCE_CHECKPOINT).is_file():
            return path / REFERENCE_CHECKPOINT
        raise UserError(f"{path} is a directory without a `{REFERENCE_CHECKPOINT}` file; pass the checkpoint file")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    return path


def _convert(checkpoint: Path, config_file: Path | None, kind: str | None):
    """Read the checkpoint (numpy only), settle the config, then build and check the model."""
    from models import reference_convert, torch_archive

    source = str(checkpoint)
    arch = reference_convert.read_arch_config(config_file) if config_file is not None else {}
    tensors = reference_convert.reference_tensors(torch_archive.load(checkpoint), source)
    vocab_size = reference_convert.geometry(tensors, source).vocab_size
    kind, seq_len, grid_shape = _kind_geometry(kind, vocab_size)
    config = reference_convert.reference_config(
        tensors, arch, puzzle_kind=kind, seq_len=seq_len, grid_shape=grid_shape, source=source,
        arch_source=str(config_file) if config_file is not None else "the reference defaults")
    return reference_convert.to_model(tensors, config, source)


def _kind_geometry(kind: str | None, vocab_size: int) -> tuple[str, int, tuple[int, int]]:
    """(kind, sequence length, grid shape): the reference datasets use the full canvases
    (Sudoku 81, maze and ARC 30x30), which RoPE weights cannot tell apart."""
    from hrm_tui.errors import UserError
    from hrm_tui.training_run import kind_geometry
    from puzzles.kinds import KINDS

    if kind is None:
        matches = [name for name, spec in KINDS.items() if spec.vocab_size == vocab_size]
        if not matches:
            raise UserError(f"a vocabulary of {vocab_size} tokens is none of the puzzle kinds' "
                            f"({', '.join(f'{n} {s.vocab_size}' for n, s in KINDS.items())}); pass --kind")
        kind = matches[0]
    kind_vocab, seq_len, grid_shape = kind_geometry(kind)
    if kind_vocab != vocab_size:
        raise UserError(f"the checkpoint has a vocabulary of {vocab_size} tokens; a {kind} model has {kind_vocab}")
    return kind, seq_len, grid_shape


def _sha256(path: Path) -> str:
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _card(checkpoint: Path, config_file: Path | None, model, out: Path) -> str:
    from models.checkpoint import parameter_count
    from models.hrm import count_parameters

    cfg, source = model.config, checkpoint.resolve()
    settings = (f"the reference config `{config_file.name}`" if config_file is not None
                else "the reference defaults (config/arch/hrm_v1.yaml)")
    return (
        f"# {cfg.puzzle_kind} HRM converted from the reference implementation\n\n"
        f"Converted by `hrm convert` from the PyTorch checkpoint `{source.parent.name}/{source.name}` "
        f"(sha256 `{_sha256(source)}`) of the reference HRM (github.com/sapientinc/HRM); settings the "
        f"weights do not fix (heads, cycles, halting) from {settings}.\n\n"
        f"- parameters: {count_parameters(model):,} trainable ({parameter_count(cfg):,} values with the "
        "puzzle embeddings and initial states)\n"
        f"- hidden size {cfg.hidden_size}, {cfg.num_heads} heads, {cfg.H_layers}+{cfg.L_layers} layers, "
        f"{cfg.H_cycles}x{cfg.L_cycles} cycles, up to {cfg.halt_max_steps} segments, vocab {cfg.vocab_size}, "
        f"sequence {cfg.seq_len}, {cfg.num_puzzle_identifiers:,} puzzle-embedding rows\n"
        "- the reference ran in bfloat16; this copy runs in float32, so outputs can differ slightly\n\n"
        f"Accuracy was not measured here: `hrm eval {cfg.puzzle_kind} --weights {out}` measures it.\n"
    )
