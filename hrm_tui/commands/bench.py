"""`hrm bench`: training and inference speed, MLX next to PyTorch, start-up time and memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from hrm_tui.errors import UserError


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        quick: bool = typer.Option(False, "--quick", help="Small sizes and few repeats (under 2 minutes)."),
        sizes: Optional[str] = typer.Option(None, help="Hidden sizes of the training step, e.g. 128,256,512."),
        layers: Optional[int] = typer.Option(None, help="H and L layers of the training-step model (default 2)."),
        batch: Optional[int] = typer.Option(None, help="Training batch size (default 64, quick 16)."),
        threads: Optional[int] = typer.Option(None, help="BLAS and PyTorch threads (default: HRM_BLAS_THREADS or all cores)."),
        torch: bool = typer.Option(True, "--torch/--no-torch", help="Measure the PyTorch reference too (if installed)."),
        out: Optional[Path] = typer.Option(None, help="Write results.json and benchmarks.md here "
                                           "(default: benchmarks/ and docs/ of the source tree; "
                                           "benchmarks/quick/ with --quick)."),
    ) -> None:
        """Measure training steps (d 128/256/512, MLX and PyTorch), inference per segment, start-up and memory."""
        from dataclasses import replace

        from hrm_tui.bench import report, runner

        overrides = {"threads": threads or runner.default_threads(), "torch": torch}
        if sizes:
            try:
                overrides["sizes"] = tuple(int(s) for s in sizes.split(","))
            except ValueError:
                raise UserError(f"--sizes takes comma-separated integers, not {sizes!r}") from None
        if layers:
            overrides["layers"] = layers
        if batch:
            overrides["batch"] = batch
        if min([overrides["threads"], *overrides.get("sizes", [1]), layers or 1, batch or 1]) < 1:
            raise UserError("--sizes, --layers, --batch and --threads must be positive")
        plan = replace(runner.QUICK if quick else runner.Plan(), **overrides)

        console = _console()
        results = runner.run(plan, say=lambda message: console.print(f"[dim]measuring {message}[/dim]"))
        command = "hrm bench" + (" --quick" if quick else "")
        json_path, md_path = _paths(out, quick)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        md_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2) + "\n")
        md_path.write_text(report.markdown(results, command))
        _print(console, results)
        console.print(f"wrote {json_path} and {md_path}")


def _paths(out: Path | None, quick: bool) -> tuple[Path, Path]:
    if out is not None:
        return out / "results.json", out / "benchmarks.md"
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():  # an installed package: write where we are
        root = Path.cwd()
    if quick:
        return root / "benchmarks" / "quick" / "results.json", root / "benchmarks" / "quick" / "benchmarks.md"
    return root / "benchmarks" / "results.json", root / "docs" / "benchmarks.md"


def _console():
    from rich.console import Console

    return Console()


def _print(console, results) -> None:
    from rich.table import Table

    from hrm_tui.bench import report

    for title, header, rows in report.tables(results):
        table = Table(title=title, title_justify="left")
        for name in header:
            table.add_column(name)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    console.print(report.summary(results))
