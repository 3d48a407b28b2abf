"""`hrm compare RUN...`: learning speed of training recipes side by side (time-to-accuracy)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)


def compare(
    runs: list[Path] = typer.Argument(..., help="Training run directories (or the copies under weights/KIND/runs/)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table (as on the weights cards)."),
    at_minutes: str = typer.Option("", help="Also show each run's held-out token accuracy after these minutes of training, e.g. 10,20,30 (runs compared at equal time)."),
) -> None:
    """Minutes of training until held-out token and exact accuracy reached each threshold, per run."""
    from hrm_tui.errors import UserError
    from hrm_tui.recipes import comparison_markdown, comparison_rows, read_run

    try:
        minutes = tuple(float(m) for m in at_minutes.split(",") if m.strip())
    except ValueError:
        raise UserError(f"--at-minutes {at_minutes}: expected minutes separated by commas, e.g. 10,20,30") from None
    if any(not m > 0 for m in minutes):
        raise UserError("--at-minutes: each value must be a positive number of minutes")
    summaries = [read_run(run) for run in runs]
    if markdown:
        typer.echo(comparison_markdown(summaries, minutes), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    header, rows = comparison_rows(summaries, minutes)
    table = Table(title="Minutes of training until each run's held-out accuracy first reached a threshold",
                  caption="tok: every cell right; exact: whole puzzles; -: not reached")
    recipe = header.index("recipe")  # printed under the table, where it has room
    for column in header[:recipe] + header[recipe + 1:]:
        table.add_column(column, justify="left" if column == "run" else "right")
    for row in rows:
        table.add_row(*row[:recipe], *row[recipe + 1:])
    console = Console()
    console.print(table)
    for row in rows:
        console.print(f"[bold]{row[0]}[/]: {row[recipe]}", highlight=False)
