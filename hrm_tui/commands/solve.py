"""`hrm solve KIND`: one puzzle with its segment trace, or a whole file as JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from hrm_tui.commands._options import Kind, budget_option, check_budget, view_option

from hrm_tui.errors import UserError


def register(app: typer.Typer) -> None:
    app.command("solve")(solve)


def solve(
    kind: Kind = typer.Argument(..., help="Puzzle kind."),
    puzzle: Optional[str] = typer.Argument(None, help="Sudoku: 81 characters, '.' or '0' for blanks."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Puzzle file (Sudoku lines, mazes separated by blank lines, ARC task JSON)."),
    jsonl: bool = typer.Option(False, "--jsonl", help="Batch mode: one JSON object per puzzle on stdout."),
    weights: Optional[Path] = typer.Option(None, help="Weights directory \\[default: the shipped weights for KIND]."),
    max_segments: Optional[int] = typer.Option(None, help="ACT segments to run \\[default: the model's halt_max_steps]."),
    stop_at_halt: bool = typer.Option(False, "--stop-at-halt/--full", help="Answer where ACT halts, or after all segments (reference evaluation)."),
    views: Optional[int] = view_option("views"),
    views_per_round: Optional[int] = view_option("views_per_round"),
    views_max_cells: Optional[int] = view_option("views_max_cells"),
    extra_view_segments: Optional[int] = view_option("extra_view_segments"),
    batch_size: Optional[int] = typer.Option(None, help="Puzzles per forward pass in batch mode \\[default: about 650 cells per pass on a CPU (8 Sudoku, 2 15x15 mazes), 256 on a GPU]."),
    record: Optional[Path] = typer.Option(None, help="Write the animation of the solve (asciinema .cast or .svg)."),
    budget: Optional[float] = budget_option(),
) -> None:
    """Solve puzzles with a trained HRM and check the answers against the rules."""
    if max_segments is not None and max_segments < 1:
        raise UserError("--max-segments must be >= 1")
    if batch_size is not None and batch_size < 1:
        raise UserError("--batch-size must be >= 1")
    if record is not None and record.suffix not in (".svg", ".cast"):
        raise UserError(f"cannot record to {record.name}: use a .svg or .cast file name")
    if record is not None:
        from hrm_tui.solving import check_output_file

        check_output_file(record, "--record")
    kind_name = kind.value
    from hrm_tui.solving import views_for

    views = views_for(kind_name, views, views_per_round, extra_view_segments, views_max_cells)
    budget = check_budget(kind_name, budget)
    if kind_name == "arc":
        from hrm_tui.arc.solving import solve_arc_cli

        solve_arc_cli(puzzle, file, jsonl, weights, max_segments, budget)
        return
    items = _collect_items(kind_name, puzzle, file)
    from hrm_tui.model_store import load_model

    model = load_model(kind_name, weights)
    if jsonl:
        _solve_batch(kind_name, items, model, max_segments, stop_at_halt, views, batch_size)
    else:
        for number, item in enumerate(items, start=1):
            _solve_one(kind_name, item, model, max_segments, stop_at_halt, views, record if number == 1 else None)


def _collect_items(kind: str, puzzle: Optional[str], file: Optional[Path]):
    from hrm_tui.solving import PuzzleItem, read_items, validate_item

    if (puzzle is None) == (file is None):
        raise UserError("give either a PUZZLE argument or --file")
    if file is not None:
        items = read_items(kind, file)
        for number, item in enumerate(items, start=1):
            validate_item(kind, item, f"{file} puzzle {number}")
        return items
    if kind != "sudoku":
        raise UserError(f"pass {kind} puzzles with --file")
    from puzzles import sudoku

    board = sudoku.parse(puzzle)
    item = PuzzleItem(board)
    validate_item(kind, item, "puzzle")
    return [item]


def _solve_batch(kind, items, model, max_segments, stop_at_halt, views, batch_size) -> None:
    from hrm_tui.solving import answer_items, result_record

    answers = answer_items(kind, model, items, max_segments, stop_at_halt, views, batch_size)
    out = sys.stdout
    for index, item in enumerate(items):
        out.write(json.dumps(result_record(kind, index, item, answers)) + "\n")
    out.flush()


def _solve_one(kind, item, model, max_segments, stop_at_halt, views, record_path) -> None:
    from rich.console import Console

    from hrm_tui.solving import decode_prediction, verify

    console = Console()
    table = segment_table()
    records, previous, final, answered = [], None, None, None
    for view, rec in _traced(kind, item, model, max_segments, stop_at_halt, views):
        prediction = decode_prediction(kind, rec.h_tokens[0], item)
        if view > 0:  # later views are searched, not shown: their answer is reported below
            if verify(kind, item, prediction).ok:
                final, answered = prediction, view
            continue
        records.append(rec)
        verdict = verify(kind, item, prediction)
        changed = "-" if previous is None else str(int((rec.h_tokens[0] != previous).sum()))
        previous = rec.h_tokens[0]
        halts_here = rec.halted_at[0] == rec.segment
        margin = float(rec.q_halt_logit[0] - rec.q_continue_logit[0])
        table.add_row(str(rec.segment), f"{rec.q_halt_prob[0]:.3f}", f"{rec.q_continue_prob[0]:.3f}", f"{margin:+.2f}",
                      "[bold yellow]halt[/]" if halts_here else "", changed,
                      f"{rec.h_confidence[0].mean():.3f}",
                      "[green]solved[/]" if verdict.ok else verdict.message)
        if final is None or not stop_at_halt or rec.halted_at[0] in (0, rec.segment):
            final = prediction
    console.print(_render(kind, item.puzzle), highlight=False)
    console.print(table)
    if kind == "sudoku" and views.views > 1 and answered is None and not verify(kind, item, final).ok:
        console.print(f"views 2-{views.views} (symmetric copies of the puzzle) gave no better answer")
    elif answered is not None:
        console.print(f"view {answered + 1} of {views.views} (a symmetric copy of the puzzle) gives an answer "
                      "that follows the rules")
    if kind == "maze":
        final = _other_views(kind, item, model, max_segments, stop_at_halt, views, final, console)
    verdict = verify(kind, item, final)
    console.print(_render(kind, final), highlight=False)
    console.print(f"[bold {'green' if verdict.ok else 'red'}]{verdict.message}[/]")
    if record_path is not None:
        from hrm_tui.recording import record as write_recording

        write_recording(records, kind, item.puzzle, record_path)
        console.print(f"recorded {len(records)} segments to {record_path}")


def _traced(kind, item, model, max_segments, stop_at_halt, views):
    """(view, segment record) pairs: every view a Sudoku search tries (`trace_views`, the
    app's code path too), or the maze as given (its other views run in `_other_views`)."""
    from hrm_tui.solving import encode_items, model_for_items, trace_views
    from models.act import trace
    from models.backend import fit_blas_threads

    if kind == "sudoku":
        for step in trace_views(model, item.puzzle, views, max_segments, stop_at_halt):
            yield step.view, step.record
        return
    model = model_for_items(kind, model, [item])
    tokens = encode_items(kind, [item], model.config.seq_len)
    fit_blas_threads(tokens.size)
    for rec in trace(model, tokens, max_segments=max_segments):
        yield 0, rec
        if stop_at_halt and rec.halted_at[0]:
            return


# Numeric columns with the width their numbers need (e.g. 0.873, -12.41), so none is cut.
SEGMENT_COLUMNS = (("seg", 3), ("q_halt", 6), ("q_cont", 6), ("margin", 6), ("halt", 4), ("changed", 7),
                   ("conf", 5))


def segment_table():
    """The segment trace: numbers never cut (no wrap, at least as wide as their header), the
    verdict column folds, so it reads whole in 80 columns and without a terminal."""
    from rich.table import Table

    table = Table(title="ACT segments", show_edge=False, caption="margin: Q-halt minus Q-continue logit; "
                  "ACT halts at the first segment where it is above 0")
    for header, width in SEGMENT_COLUMNS:
        table.add_column(header, justify="right", no_wrap=True, min_width=width)
    table.add_column("H decode", overflow="fold", ratio=1, min_width=12)
    return table


def _other_views(kind, item, model, max_segments, stop_at_halt, views, final, console):
    """The traced run's answer, or a better one from the puzzle's other symmetric views when
    that answer breaks the rules (or, for mazes, a route with fewer steps may exist)."""
    from hrm_tui.solving import answer_items
    from puzzles.views import FINAL_WHEN_VALID, rank

    first = rank(kind, item.puzzle, final)
    if views.count_for(item.puzzle) < 2 or (first is not None and FINAL_WHEN_VALID[kind]):
        return final
    answers = answer_items(kind, model, [item], max_segments, stop_at_halt, views, first_view=1)
    other = rank(kind, item.puzzle, answers.predictions[0])
    if other is None or (first is not None and other >= first):
        console.print(f"views 2-{views.views} (symmetric copies of the puzzle) gave no better answer")
        return final
    console.print(f"view {answers.view[0] + 1} of {views.views} (a symmetric copy of the puzzle) gives an answer "
                  "that follows the rules" + ("" if first is None else f" in {other} steps instead of {first}"))
    return answers.predictions[0]


def _render(kind: str, grid) -> str:
    from puzzles import maze, sudoku

    return sudoku.render(grid) if kind == "sudoku" else maze.format_maze(grid)
