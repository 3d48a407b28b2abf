"""Evaluation sets and accuracy figures behind `hrm eval`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from hrm_tui.errors import UserError
from hrm_tui.solving import PuzzleItem


DEFAULT_MAZE_SIZES = ("15", "30hard", "15-scattered", "30hard-scattered")
MAZE_SET_FORMAT = "e.g. 15, 30hard or 30hard-scattered"


def parse_maze_set(part: str) -> tuple[int, bool, str]:
    """(size, hard, style) of a maze set name: SIZE, then 'hard' for long shortest paths, then
    '-STYLE' (carved when left out)."""
    from puzzles.maze.generate import STYLES

    spec, _, style = part.partition("-")
    style = style or "carved"
    hard = spec.endswith("hard")
    try:
        size = int(spec.removesuffix("hard"))
    except ValueError:
        raise UserError(f"bad maze set {part!r}; use {MAZE_SET_FORMAT}") from None
    if style not in STYLES:
        raise UserError(f"unknown maze style {style!r} in {part!r}; choose from {', '.join(STYLES)}")
    if not 5 <= size <= 30:
        raise UserError(f"maze size must be between 5 and 30, got {size}")
    return size, hard, style


def default_maze_sizes(config) -> str:
    """The default maze sets that fit a model's square canvas (a 15x15-canvas model with 1-D
    positions cannot read 30x30 mazes; a size-free one can); says so on stderr when one is
    left out."""
    import sys

    from models.hrm import size_free
    from puzzles.maze import CANVAS

    canvas = CANVAS if size_free(config) else config.grid_shape[0]
    fits = [part for part in DEFAULT_MAZE_SIZES if parse_maze_set(part)[0] <= canvas]
    for part in DEFAULT_MAZE_SIZES:
        if part not in fits:
            print(f"skipping {part}: the model's canvas is {canvas}x{canvas}", file=sys.stderr)
    return ",".join(fits) or str(canvas)


def sets_for(kind: str, file: Path | None, levels: str, sizes: str, count: int,
             seed: int, heldout: int | None = None) -> dict[str, list[PuzzleItem]]:
    """Named lists of puzzles: the file's (or only its held-out slice, as `hrm train --data`
    holds it out), or generated ones from the evaluation stream."""
    from hrm_tui import data_sources as ds
    from hrm_tui.solving import read_items, validate_item

    if heldout is not None:
        return {f"{Path(file).name} held out": heldout_items(file, heldout)}
    if file is not None:
        items = read_items(kind, file)
        for number, item in enumerate(items, start=1):
            validate_item(kind, item, f"{file} puzzle {number}")
        return {Path(file).name: items}
    sets: dict[str, list[PuzzleItem]] = {}
    if kind == "sudoku":
        from puzzles import sudoku

        for level in [part.strip() for part in levels.split(",") if part.strip()]:
            if level not in sudoku.LEVELS:
                raise UserError(f"unknown level {level!r}; choose from {', '.join(sudoku.LEVELS)}")
            puzzles, solutions = ds.sudoku_level_set(level, count, seed)
            sets[level] = [PuzzleItem(p, s) for p, s in zip(puzzles, solutions)]
        return sets
    for part in [part.strip() for part in sizes.split(",") if part.strip()]:
        size, hard, style = parse_maze_set(part)
        mazes, solutions = ds.maze_eval_set(size, count, seed, hard, style)
        name = f"{size}x{size}{' hard' if hard else ''}{'' if style == 'carved' else ' ' + style}"
        sets[name] = [PuzzleItem(m, s) for m, s in zip(mazes, solutions)]
    return sets


def heldout_items(file: Path, heldout: int) -> list[PuzzleItem]:
    """The fixed held-out slice of a Sudoku training file, which training never sees."""
    from puzzles.errors import PuzzleError
    from puzzles.sudoku.files import read_training_file

    try:
        read = read_training_file(file)
    except PuzzleError as exc:
        raise UserError(str(exc)) from None
    rows = read.split(heldout)[1]
    if not len(rows):
        raise UserError(f"{file}: --heldout {heldout} holds out no puzzles")
    return [PuzzleItem(read.puzzles[r], read.solutions[r]) for r in rows]


def evaluate_sets(kind: str, model, sets: dict[str, list[PuzzleItem]], max_segments: int | None,
                  stop_at_halt: bool, views=1, one_by_one: bool = False) -> list[dict[str, Any]]:
    """Score each set. `one_by_one` answers puzzle after puzzle, as a single `hrm solve` or the
    app does, and records the seconds each took; otherwise puzzles share batches."""
    from hrm_tui.solving import Answers, ViewPlan, answer_items, model_for_items
    from puzzles.maze import every_open_cell_path

    plan = ViewPlan.of(views)
    results = []
    for name, items in sets.items():
        start = time.perf_counter()
        runner = model_for_items(kind, model, items)
        seconds = []
        if one_by_one:
            parts = []
            for item in items:
                began = time.perf_counter()
                parts.append(answer_items(kind, runner, [item], max_segments, stop_at_halt, plan))
                seconds.append(time.perf_counter() - began)
            found = Answers([p.predictions[0] for p in parts],
                            *(np.array([getattr(p, f)[0] for p in parts]) for f in ("segments", "halted_at", "view",
                                                                                    "views_run")))
        else:
            found = answer_items(kind, runner, items, max_segments, stop_at_halt, plan)
        answers, used, halted = found.predictions, found.segments, found.halted_at
        exact, cells = _score(kind, items, answers)
        results.append({
            "set": name,
            "puzzles": len(items),
            "exact_accuracy": exact,
            "cell_accuracy": cells,
            "mean_segments": float(np.mean(used)),
            "act_halt_segment": float(np.mean(np.where(halted > 0, halted, used))),
            "views": plan.views,
            "mean_views_run": float(np.mean(found.views_run)),
            "seconds": round(time.perf_counter() - start, 2),
        })
        if seconds:
            results[-1].update(median_seconds=round(float(np.median(seconds)), 3),
                               p90_seconds=round(float(np.percentile(seconds, 90)), 3),
                               max_seconds=round(max(seconds), 3))
        if kind == "sudoku":
            results[-1]["repeats"] = sudoku_repeats(answers)
        if kind == "maze":
            # A size-free model may run on a larger canvas than it trained on; and the trivial
            # answer is scored the same way, so a figure can be read against it.
            exact, cells = _score(kind, items, [every_open_cell_path(item.puzzle) for item in items])
            results[-1].update(canvas=runner.config.grid_shape[0], baseline_exact_accuracy=exact,
                               baseline_cell_accuracy=cells, **maze_path_overlap(items, answers))
    return results


def segment_curve(kind: str, model, sets: dict[str, list[PuzzleItem]], counts: list[int],
                  batch_size: int | None = None) -> list[dict[str, Any]]:
    """Exact and cell accuracy of each set's plain run (no views) read after each of `counts`
    segments, all from one run as deep as the largest count: how accuracy grows when a
    recurrent model iterates longer than it trained to (DT-Net's test of local updates)."""
    from models.act import rows_per_pass, trace
    from models.backend import fit_blas_threads
    from hrm_tui.solving import decode_prediction, encode_items, model_for_items

    results = []
    for name, items in sets.items():
        start = time.perf_counter()
        runner = model_for_items(kind, model, items)
        tokens = encode_items(kind, items, runner.config.seq_len)
        width = batch_size or rows_per_pass(runner.config)
        fit_blas_threads(min(width, len(tokens)) * tokens.shape[-1])
        answers: dict[int, list[np.ndarray]] = {count: [] for count in counts}
        for first in range(0, len(items), width):
            for record in trace(runner, tokens[first:first + width], max_segments=max(counts)):
                if record.segment in answers:
                    answers[record.segment] += [decode_prediction(kind, row, items[first + j])
                                                for j, row in enumerate(record.h_tokens)]
        scores = {count: _score(kind, items, found) for count, found in answers.items()}
        results.append({"set": name, "puzzles": len(items), "canvas": runner.config.grid_shape[0],
                        "segments": counts, "exact_accuracy": [scores[c][0] for c in counts],
                        "cell_accuracy": [scores[c][1] for c in counts],
                        "seconds": round(time.perf_counter() - start, 2)})
    return results


def print_segment_curve(kind: str, results: list[dict[str, Any]], model) -> None:
    from rich.console import Console
    from rich.table import Table

    cfg = model.config
    table = Table(title=f"{kind}: accuracy after n segments, one plain run (these weights run "
                        f"{cfg.halt_max_steps} by default)")
    table.add_column("set", no_wrap=True, min_width=5)
    table.add_column("", no_wrap=True)
    for count in results[0]["segments"]:
        table.add_column(f"{count}", justify="right", no_wrap=True)
    # Exact and cell accuracy on rows of their own: whole numbers at 80 columns.
    for r in results:
        table.add_row(r["set"], "exact", *(percent(e) for e in r["exact_accuracy"]))
        table.add_row("", "cells", *(percent(c) for c in r["cell_accuracy"]), style="dim", end_section=True)
    Console().print(table)


def sudoku_repeats(answers: list[np.ndarray]) -> dict[str, int]:
    """How many times the answers repeat a digit in a row, a column and a box: which rule a
    model has not learned shows here (RoPE alone, for one, cannot see boxes)."""
    from puzzles.sudoku import find_conflicts
    from puzzles.sudoku.board import RULES

    counts = dict.fromkeys(RULES, 0)
    for answer in answers:
        for conflict in find_conflicts(answer):
            counts[conflict.rule] += 1
    return counts


def repeats_text(repeats: dict[str, int], separator: str) -> str:
    """Row, column and box repeats in that order, e.g. 19/21/216."""
    from puzzles.sudoku.board import RULES

    return separator.join(str(repeats[rule]) for rule in RULES)


def maze_path_overlap(items: list[PuzzleItem], answers: list[np.ndarray]) -> dict[str, float]:
    """Over the mazes with a known answer, the mean share of the true path the answers mark
    (recall) and of their marks on it (precision): a model that fills dead ends but cannot
    choose between the two routes of a loop marks the whole path and more."""
    from puzzles.maze.grid import PATH

    recall, precision = [], []
    for item, answer in zip(items, answers):
        if item.solution is None:  # a file without answers
            continue
        marked, path = np.asarray(answer) == PATH, np.asarray(item.solution) == PATH
        hits = int((marked & path).sum())
        recall.append(hits / max(int(path.sum()), 1))
        precision.append(hits / max(int(marked.sum()), 1))
    if not recall:
        return {}
    return {"path_recall": float(np.mean(recall)), "path_precision": float(np.mean(precision))}


def _score(kind: str, items: list[PuzzleItem], predictions: list[np.ndarray]) -> tuple[float, float | None]:
    """(exact accuracy, accuracy on the cells the model had to decide) of predictions."""
    from hrm_tui.solving import verify
    from puzzles.maze.grid import OPEN

    solved, cell_hits, cell_total = 0, 0, 0
    for item, prediction in zip(items, predictions):
        solved += bool(verify(kind, item, prediction).ok)
        if item.solution is not None:
            # Cells the model had to decide: blanks (Sudoku), or open cells (maze: path or
            # not; counting only path cells would reward marking every open cell).
            target = (item.puzzle == 0) if kind == "sudoku" else (item.puzzle == OPEN)
            cell_hits += int(((prediction == item.solution) & target).sum())
            cell_total += int(target.sum())
    return solved / len(items), (cell_hits / cell_total if cell_total else None)


def print_results(kind: str, results: list[dict[str, Any]], model) -> None:
    from rich.console import Console
    from rich.table import Table

    cfg = model.config
    table = Table(title=f"{kind}: exact-solution accuracy (d {cfg.hidden_size}, "
                        f"{cfg.H_layers}+{cfg.L_layers} layers, {cfg.H_cycles}x{cfg.L_cycles} cycles)")
    baseline = kind == "maze"
    repeats = kind == "sudoku"
    # Two-line headers and unwrapped figures: the table fits 80 columns without cutting a number.
    columns = ("set", "count", "exact", "cell\nacc") + (("all-path\nexact", "all-path\ncells") if baseline else ()) \
        + (("repeats\nr/c/b",) if repeats else ()) + ("mean\nsegs", "ACT\nhalt", "time\ns")
    for column in columns:
        table.add_column(column, justify="left" if column == "set" else "right", no_wrap=column != "set",
                         min_width=5 if column == "set" else None)  # "15x15" whole in 80 columns
    for r in results:
        floor = (percent(r["baseline_exact_accuracy"]), percent(r["baseline_cell_accuracy"])) if baseline else ()
        broken = (repeats_text(r["repeats"], "/"),) if repeats else ()
        table.add_row(r["set"], str(r["puzzles"]), percent(r["exact_accuracy"]), percent(r["cell_accuracy"]),
                      *floor, *broken, f"{r['mean_segments']:.1f}", f"{r['act_halt_segment']:.1f}", f"{r['seconds']:.1f}")
    captions = ["all-path: the trivial answer that marks every open cell as path"] if baseline else \
        ["repeats: digits the answers repeat in rows / columns / boxes"] if repeats else []
    moved = [f"{r['set']} on {r['canvas']}x{r['canvas']}" for r in results
             if r.get("canvas", cfg.grid_shape[0]) != cfg.grid_shape[0]]
    if moved:
        captions.append(f"trained on a {cfg.grid_shape[0]}x{cfg.grid_shape[1]} canvas; 2-D RoPE runs it on "
                        f"larger ones: {', '.join(moved)}")
    if any(r.get("views", 1) > 1 for r in results):
        captions.append(f"up to {results[0]['views']} symmetric views per puzzle until an answer follows the rules; "
                        "views run on average: " + ", ".join(f"{r['set']} {r['mean_views_run']:.2f}" for r in results))
    timed = [r for r in results if "median_seconds" in r]
    if timed:
        captions.append("one puzzle at a time, seconds per puzzle: " + ", ".join(
            f"{r['set']} median {r['median_seconds']:.2f} (90th percentile {r['p90_seconds']:.2f})" for r in timed))
    table.caption = "; ".join(captions) or None
    Console().print(table)


def percent(value: float | None) -> str:
    """A share as a table cell: 12.3%, or - when not measured."""
    return "-" if value is None else f"{100 * value:.1f}%"
