"""`hrm export RUN --out DIR`: turn a training run into a weights directory with its card."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    run: Path = typer.Argument(..., help="Training run directory (with checkpoints/)."),
    out: Path = typer.Option(..., "--out", "-o", help="Weights directory to write."),
    eval_file: Optional[Path] = typer.Option(None, "--eval", help="JSON written by `hrm eval --json`, put on the card."),
    plot: bool = typer.Option(False, help="Show the training curve in the terminal."),
) -> None:
    """Export the latest checkpoint of a run (EMA weights if kept) with card, metrics and curve."""
    from hrm_tui.cards import export_run
    from hrm_tui.errors import UserError
    from models.errors import ModelError

    if not (run / "checkpoints").is_dir():
        raise UserError(f"{run} is not a training run directory (no checkpoints/)")
    try:
        export_run(run, out, eval_file)
    except ModelError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"exported {run} to {out}")
    if plot:
        from hrm_tui.curves import plot_terminal
        from models.checkpoint import RunDir

        plot_terminal(RunDir(run).read_log())
