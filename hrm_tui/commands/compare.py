"""`hrm compare RUN...`: learning speed of training recipes side by side (time-to-accuracy)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)


def compare(
    runs: list[Path] = typer.Argument(..., help="Training run directories (or the copies under weights/KIND/runs/)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table (as on the weights cards)."),
) -> None:
    """Minutes of training until held-out token and exact accuracy reached each threshold, per run."""
    from hrm_tui.recipes import comparison_markdown, comparison_rows, read_run

    summaries = [read_run(run) for run in runs]
    if markdown:
        typer.echo(comparison_markdown(summaries), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    header, rows = comparison_rows(summaries)
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
