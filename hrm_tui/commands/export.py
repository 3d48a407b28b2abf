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
    notes: Optional[Path] = typer.Option(None, help="Markdown appended to the card as its Notes section."),
    compare: Optional[list[Path]] = typer.Option(None, help="Other runs of the same kind to compare with on the card (repeatable); their logs are kept under DIR/runs/."),
    max_segments: Optional[int] = typer.Option(None, help="ACT segments the exported model runs by default (its "
                                                          "halt_max_steps) \\[default: as trained]; the card says both."),
    best: bool = typer.Option(False, "--best", help="Export the checkpoint with the best held-out exact accuracy "
                                                    "(kept by `hrm train` at each new best) instead of the latest."),
    plot: bool = typer.Option(False, help="Show the training curve in the terminal."),
) -> None:
    """Export the latest (or best) checkpoint of a run (EMA weights if kept) with card, metrics and curve."""
    from hrm_tui.cards import export_run
    from hrm_tui.errors import UserError
    from models.errors import ModelError

    if not (run / "checkpoints").is_dir():
        raise UserError(f"{run} is not a training run directory (no checkpoints/)")
    if max_segments is not None and max_segments < 1:
        raise UserError("--max-segments must be >= 1")
    if eval_file is not None:
        _check_eval_file(eval_file)
    try:
        if notes is not None and not notes.is_file():
            raise UserError(f"{notes}: no such file")
        export_run(run, out, eval_file, notes, compare, max_segments, best)
    except ModelError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"exported {run} to {out}")
    if plot:
        from hrm_tui.curves import plot_terminal
        from models.checkpoint import RunDir

        plot_terminal(RunDir(run).read_log())


def _check_eval_file(path: Path) -> None:
    """The --eval file must be what `hrm eval --json` writes, checked before exporting."""
    import json

    from hrm_tui.errors import UserError
    from hrm_tui.solving import check_input_file

    try:
        data = json.loads(check_input_file(path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"--eval {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) \
            or not all(isinstance(r, dict) for r in data["results"]):
        raise UserError(f"--eval {path} is not a results file written by `hrm eval --json`")
