"""`hrm eval KIND`: exact-solution accuracy of a weights directory, per difficulty or file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from hrm_tui.commands._options import Kind, budget_option, check_budget, view_option

from hrm_tui.errors import UserError


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)


def evaluate(
    kind: Kind = typer.Argument(..., help="Puzzle kind."),
    weights: Optional[Path] = typer.Option(None, help="Weights directory \\[default: shipped weights]."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Evaluate on this file instead of generated sets."),
    levels: str = typer.Option("easy,medium,hard,extreme", help="Sudoku: comma-separated difficulty levels."),
    sizes: Optional[str] = typer.Option(None, help="Maze: comma-separated sets: a size, 'hard' for long shortest paths, '-scattered' for scattered walls (like the public Maze-Hard set) \\[default: 15,30hard,15-scattered,30hard-scattered, those the model can read]."),
    count: int = typer.Option(100, help="Generated puzzles per level/size."),
    seed: int = typer.Option(1234, help="Seed of the evaluation stream (never used for training data)."),
    max_segments: Optional[int] = typer.Option(None, help="ACT segments \\[default: the model's halt_max_steps]."),
    stop_at_halt: bool = typer.Option(False, "--stop-at-halt/--full", help="Answer where ACT halts, or after all segments."),
    split: str = typer.Option("evaluation", help="ARC: split of ARC-AGI-1 to score."),
    limit: Optional[int] = typer.Option(None, help="ARC: score only the first N tasks of the split (or of --tasks)."),
    tasks: Optional[Path] = typer.Option(None, help="ARC: score only the task ids this file lists (one per line, '#' comments), e.g. benchmarks/arc/eval-fit10-first20.txt."),
    budget: Optional[float] = budget_option(),
    views: Optional[int] = view_option("views"),
    views_per_round: Optional[int] = view_option("views_per_round"),
    views_max_cells: Optional[int] = view_option("views_max_cells"),
    extra_view_segments: Optional[int] = view_option("extra_view_segments"),
    heldout: Optional[int] = typer.Option(None, help="Sudoku with --file: score only the fixed held-out slice of this many puzzles that `hrm train --data FILE` never trains on."),
    one_by_one: bool = typer.Option(False, "--one-by-one", help="Answer puzzles one at a time, as a single solve does, and report seconds per puzzle (median, 90th percentile)."),
    segment_curve: Optional[str] = typer.Option(None, help="Sudoku and maze: comma-separated segment counts, e.g. 8,16,32,64: score one plain run (no views) after each, to see what iterating longer than training buys."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the results as JSON to this file."),
) -> None:
    """Measure exact accuracy; every figure on a weights card comes from this command."""
    if count < 1:
        raise UserError("--count must be >= 1")
    if max_segments is not None and max_segments < 1:
        raise UserError("--max-segments must be >= 1")
    if heldout is not None and (file is None or kind.value != "sudoku" or heldout < 1):
        raise UserError("--heldout N (N >= 1) needs sudoku and --file")
    if json_out is not None:
        from hrm_tui.solving import check_output_file

        check_output_file(json_out, "--json")
    from hrm_tui.solving import views_for

    counts = _segment_counts(kind.value, segment_curve, views, one_by_one)
    if counts:  # a curve scores one plain run, and its flags and JSON must say so
        views, views_per_round = 1, 1
    views = views_for(kind.value, views, views_per_round, extra_view_segments, views_max_cells)
    budget = check_budget(kind.value, budget)
    if kind.value == "arc":
        from hrm_tui.arc.evaluation import eval_arc_cli

        if limit is not None and limit < 1:
            raise UserError("--limit must be >= 1")
        eval_arc_cli(weights, split, max_segments, json_out, limit=limit, budget=budget, sample=tasks)
        return
    from hrm_tui.evaluation import default_maze_sizes, evaluate_sets, print_results, sets_for
    from hrm_tui.model_store import load_model

    model = None
    if sizes is None and kind.value == "maze" and file is None:  # the defaults depend on the canvas
        model = load_model(kind.value, weights)
        sizes = default_maze_sizes(model.config)
    flags = _set_flags(kind.value, file, levels, sizes, count, max_segments, stop_at_halt, views, heldout, one_by_one)
    sets = sets_for(kind.value, file, levels, sizes or "", count, seed, heldout)  # bad names fail before loading
    if model is None:
        model = load_model(kind.value, weights)
    if counts:
        from hrm_tui.evaluation import print_segment_curve, segment_curve

        results = segment_curve(kind.value, model, sets, counts)
        print_segment_curve(kind.value, results, model)
        flags = f"{flags} --segment-curve {','.join(map(str, counts))}"
    else:
        results = evaluate_sets(kind.value, model, sets, max_segments, stop_at_halt, views, one_by_one)
        print_results(kind.value, results, model)
    if json_out:
        from models.checkpoint import atomic_write_text

        try:
            atomic_write_text(json_out, json.dumps({"kind": kind.value, "weights": str(weights or "shipped"),
                                                    "max_segments": max_segments or model.config.halt_max_steps,
                                                    "stop_at_halt": stop_at_halt, "views": views.views, "views_per_round": views.per_round,
                                                    "extra_view_segments": views.extra_segments, "seed": seed, "flags": flags,
                                                    "results": results},
                                                   indent=2) + "\n")
        except OSError as exc:
            raise UserError(f"cannot write {json_out}: {exc.strerror or exc} (the results are printed above)") from None


def _segment_counts(kind: str, text: str | None, views: int | None, one_by_one: bool) -> list[int]:
    """--segment-curve as sorted distinct counts; [] when not asked for."""
    if text is None:
        return []
    if kind == "arc":
        raise UserError("--segment-curve is for sudoku and maze")
    if (views not in (None, 1)) or one_by_one:
        raise UserError("--segment-curve scores one plain run: it takes no --views or --one-by-one")
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        counts = []
    if not counts or counts[0] < 1 or counts[-1] > 1024:
        raise UserError(f"--segment-curve takes segment counts between 1 and 1024, e.g. 8,16,32,64; got {text!r}")
    return counts


def _set_flags(kind: str, file, levels: str, sizes: str | None, count: int, max_segments, stop_at_halt: bool,
               views, heldout: int | None, one_by_one: bool) -> str:
    """The options beyond --weights and --seed that chose these sets, so a card can print a
    command that reproduces them exactly."""
    parts = [f"--file {file}"] if file is not None else []
    if heldout is not None:
        parts.append(f"--heldout {heldout}")
    if file is None and kind == "sudoku" and levels != "easy,medium,hard,extreme":
        parts.append(f"--levels {levels}")
    if file is None and kind == "maze" and sizes is not None:
        parts.append(f"--sizes {sizes}")
    if file is None and count != 100:
        parts.append(f"--count {count}")
    if max_segments is not None:
        parts.append(f"--max-segments {max_segments}")
    if stop_at_halt:
        parts.append("--stop-at-halt")
    parts.append(views.flags())  # always: the default may change, a card's command must not
    if one_by_one:
        parts.append("--one-by-one")
    return " ".join(parts)
