"""Export a training run to a weights directory with its card and metrics.

The card states how the weights were made (recipe, data, steps, wall time, machine), the
curve, time-to-accuracy, and the accuracy table measured by `hrm eval` with the exact
command, so every number on it can be reproduced.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

POSITION_WORDS = {"rope": "RoPE positions", "learned": "learned absolute positions",
                  "rope2d": "2-D RoPE positions (row and column)"}
GRADIENT_WORDS = {"one_step": "one-step gradient (last L and H update of a segment)",
                  "segment": "gradient through every update of a segment"}


def machine_summary() -> str:
    import os

    from models.backend import blas_info

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, Python "
            f"{platform.python_version()}, BLAS: {blas_info().name}")


def time_to_accuracy(log: list[dict[str, Any]], key: str = "eval_exact_accuracy",
                     thresholds=(0.5, 0.9, 0.99)) -> dict[str, float | None]:
    """Wall-clock training minutes until the held-out exact accuracy first reached each threshold."""
    out: dict[str, float | None] = {}
    for t in thresholds:
        hit = next((r for r in log if r.get(key, -1) >= t), None)
        out[f"{int(t * 100)}%"] = round(hit["wall_time"] / 60, 1) if hit else None
    return out


def _curve_table(log: list[dict[str, Any]], rows: int = 12) -> str:
    evals = [r for r in log if "eval_exact_accuracy" in r]
    if not evals:
        return "(no evaluation records yet)\n"
    picked = evals[:: max(1, len(evals) // rows)] + ([evals[-1]] if len(evals) % rows else [])
    seen, lines = set(), ["| step | minutes | train loss | train cell acc | eval token acc | eval exact |",
                          "|---:|---:|---:|---:|---:|---:|"]
    for r in picked:
        if r["step"] in seen:
            continue
        seen.add(r["step"])
        lines.append(f"| {r['step']} | {r['wall_time'] / 60:.1f} | {r['loss']:.3f} | {r.get('accuracy', 0):.3f} "
                     f"| {r['eval_token_accuracy']:.3f} | {r['eval_exact_accuracy']:.3f} |")
    return "\n".join(lines) + "\n"


def _accuracy_section(evaluation: dict[str, Any] | None, out_dir: Path) -> str:
    from hrm_tui.evaluation import percent as _percent
    from hrm_tui.evaluation import repeats_text

    if not evaluation:
        return ("No accuracy measured yet. Measure it with `hrm eval KIND --weights DIR --json FILE` and "
                "re-export with `--eval FILE`.\n")
    results = evaluation["results"]
    baseline = all("baseline_exact_accuracy" in r for r in results)
    overlap = all("path_recall" in r for r in results)
    repeats = all("repeats" in r for r in results)
    views = evaluation.get("views", 1)
    header = "| set | puzzles | exact | cell acc |" + (" all-path exact | all-path cells |" if baseline else "") \
        + (" path found | marks on path |" if overlap else "") + (" repeats row / col / box |" if repeats else "") \
        + (" views run |" if views > 1 else "") + " mean segments |"
    lines = [header, "|---|" + "---:|" * (header.count("|") - 2)]
    for r in results:
        cells = [r["set"], str(r["puzzles"]), _percent(r["exact_accuracy"]), _percent(r.get("cell_accuracy"))]
        if baseline:
            cells += [_percent(r["baseline_exact_accuracy"]), _percent(r["baseline_cell_accuracy"])]
        if overlap:
            cells += [_percent(r["path_recall"]), _percent(r["path_precision"])]
        if repeats:
            cells.append(repeats_text(r["repeats"], " / "))
        if views > 1:
            cells.append(f"{r['mean_views_run']:.2f}")
        lines.append("| " + " | ".join(cells + [f"{r['mean_segments']:.1f}"]) + " |")
    if baseline:
        lines.append("\nall-path: the trivial answer that marks every open cell as path, scored the same way.")
    if overlap:
        lines.append("\npath found: share of the true path marked; marks on path: share of the marks on it.")
    if repeats:
        lines.append("\nrepeats: how often the answers repeat a digit in a row, column or box.")
    if views > 1:
        lines.append(f"\nviews run: symmetric copies answered per puzzle on average, of up to {views}, until an "
                     "answer followed the rules (docs/views.md); mean segments: of the run that gave the answer.")
    command = evaluation.get("command") or " ".join(filter(None, [
        f"hrm eval {evaluation['kind']} --weights {out_dir} --seed {evaluation['seed']}", evaluation.get("flags")]))
    return "\n".join(lines) + f"\n\nMeasured with:\n\n```\n{command}\n```\n"


def _data_line(kind: str, options: dict[str, Any], run_dir: Path) -> str:
    if kind == "arc":
        from types import SimpleNamespace

        from hrm_tui.arc.training import describe_data

        return describe_data(SimpleNamespace(**options))
    generated = (f"fresh generated puzzles every batch from the training stream of seed {options.get('seed', 0)} "
                 "(evaluation sets use an independent stream, never used for training)")
    facts_path = Path(run_dir) / "data.json"
    if not facts_path.is_file():
        return generated + "."
    files = json.loads(facts_path.read_text(encoding="utf-8"))
    named = "; ".join(
        f"`{f['file']}` ({f['lines']:,} lines, sha256 {f['sha256'][:16]}..., weight {f['weight']:g}: "
        f"{f['train']:,} trained on under random symmetries, a fixed {f['heldout']:,} held out for evaluation"
        + (f", {f['dropped']} benchmark puzzles dropped" if f["dropped"] else "") + ")" for f in files)
    share = options.get("generated_weight", 1.0)
    return (f"puzzles drawn by weight from the training files {named}"
            + (f", and with weight {share:g} {generated}" if share else "") + "; the held-out slices are the "
            "evaluation set of the curve below.")


def _keep_run_logs(runs: list[Path], out_dir: Path) -> list[Path]:
    """Copy each run's log and options next to the card, so `hrm compare` reproduces its table."""
    from models.checkpoint import atomic_write_text

    kept = []
    for run in runs:
        target = Path(out_dir) / "runs" / Path(run).name
        target.mkdir(parents=True, exist_ok=True)
        for name in ("log.jsonl", "options.json"):
            atomic_write_text(target / name, (Path(run) / name).read_text(encoding="utf-8"))
        kept.append(target)
    return kept


def _comparison_section(run_dir: Path, compare: list[Path], out_dir: Path) -> str:
    from hrm_tui.recipes import comparison_markdown, cores_sentence, read_run

    runs = [Path(run_dir), *[Path(c) for c in compare if Path(c).resolve() != Path(run_dir).resolve()]]
    summaries = [read_run(run) for run in runs]  # checks every run before anything is written
    _keep_run_logs(runs, out_dir)
    return ("\n## Recipes compared\n\nWall-clock minutes of training until each run's held-out set (its own "
            "training distribution, from the evaluation stream) first reached the accuracy; token accuracy "
            "counts every cell, exact counts whole puzzles; `-` means not reached. " + cores_sentence(summaries)
            + "\n\n"
            + comparison_markdown(summaries)
            + f"\nReproduce with `hrm compare {Path(out_dir) / 'runs'}/*` (the runs' logs are kept there).\n")


def training_flags(options: dict[str, Any], kind: str) -> str:
    """A run's options.json as the `hrm train` flags that reproduce it. A switch at its default
    (recipes.SWITCHED_OFF, else off) is left out, so `--window-prefix` only shows as `--no-...`."""
    from hrm_tui.recipes import SWITCHED_OFF, applies_to_kind

    return " ".join(_flag(k, v) for k, values in options.items()
                    for v in (values if isinstance(values, list) else [values])
                    if k not in ("kind", "run", "export", "plot", "resume") and v is not None
                    and not (isinstance(v, bool) and v is SWITCHED_OFF.get(k, False))
                    and applies_to_kind(k, kind))


def _flag(name: str, value) -> str:
    """One option of the training command as typed: `--name value`, `--name`, `--no-name`."""
    flag = name.replace("_", "-")
    if value is True:
        return f"--{flag}"
    if value is False:
        return f"--no-{flag}"
    return f"--{flag} {value}"


def export_run(run_dir: Path, out_dir: Path, evaluation_file: Path | None = None,
               notes_file: Path | None = None, compare: list[Path] | None = None,
               max_segments: int | None = None, best: bool = False) -> Path:
    """Write a weights directory from a run's latest checkpoint, or with `best` from the one
    with the best held-out exact accuracy. `max_segments` changes only how many ACT segments
    the exported model runs by default (a model may solve more with more segments than it
    trained with); the card says it was trained with fewer."""
    import dataclasses

    from models.checkpoint import RunDir, load_run_model, save_weights
    from models.errors import ModelError
    from models.hrm import count_parameters

    from hrm_tui.curves import save_curve_svg

    run = RunDir(run_dir)
    ckpt = run.best() if best else run.latest()
    if ckpt is None:
        raise ModelError(f"run directory {run_dir} has no {'best ' if best else ''}checkpoint yet"
                         + (" (one is kept when a held-out evaluation improves)" if best else ""))
    model = load_run_model(run_dir, checkpoint=ckpt)
    _, state = RunDir.load(ckpt)
    log = run.read_log()
    options = json.loads((Path(run_dir) / "options.json").read_text()) if (Path(run_dir) / "options.json").is_file() else {}
    evaluation = json.loads(Path(evaluation_file).read_text()) if evaluation_file else None
    trained_segments = model.config.halt_max_steps
    if max_segments is not None:
        model.config = dataclasses.replace(model.config, halt_max_steps=max_segments)
    cfg = model.config
    segments_words = f"up to {cfg.halt_max_steps} ACT segments" + (
        f" (trained with up to {trained_segments}; exported with `--max-segments {cfg.halt_max_steps}`)"
        if cfg.halt_max_steps != trained_segments else "")
    tta = time_to_accuracy(log)
    metrics = {
        "kind": cfg.puzzle_kind,
        "parameters": count_parameters(model),
        "steps": state["step"],
        "trained_max_segments": trained_segments,
        "wall_minutes": round(state.get("elapsed", 0) / 60, 1),
        "time_to_eval_exact": tta,
        "last_log": log[-1] if log else None,
        "evaluation": evaluation,
    }
    flags = training_flags(options, cfg.puzzle_kind)
    card = f"""# {cfg.puzzle_kind} HRM weights

Made by `hrm train` from this repository; exported from run `{Path(run_dir).name}` at step {state['step']}
({'EMA weights' if options.get('ema') else 'live weights'}{f"; `--best`: its best held-out exact accuracy, {state.get('best_exact', 0):.1%}" if best else ''}).

## Model
HRM, d {cfg.hidden_size}, {cfg.num_heads} heads, {cfg.H_layers} H + {cfg.L_layers} L layers,
{cfg.H_cycles}x{cfg.L_cycles} cycles, {segments_words}, {cfg.loss_type} loss,
{GRADIENT_WORDS[cfg.segment_gradient]},
{POSITION_WORDS[cfg.pos_encodings]}{f' with {cfg.rope_boxes}x{cfg.rope_boxes} boxes' if cfg.rope_boxes else ''}{' + learned absolute positions' if cfg.absolute_positions else ''}{f', {cfg.attention_window}x{cfg.attention_window} attention window' if cfg.attention_window else ''}{' (cells do not attend to the puzzle-embedding position)' if cfg.attention_window and not cfg.window_prefix else ''}{f', distance head ({cfg.distance_classes} classes, training only)' if cfg.distance_classes else ''},
vocab {cfg.vocab_size}, sequence {cfg.seq_len} (+{cfg.puzzle_emb_len} puzzle-embedding position):
**{count_parameters(model):,} trainable parameters**.

## Training
- Command: `hrm train {cfg.puzzle_kind} {flags}`
- Data: {_data_line(cfg.puzzle_kind, options, run_dir)}
- Steps: {state['step']} optimiser steps (one per ACT segment), batch {options.get('batch_size')}.
- Wall time: {state.get('elapsed', 0) / 60:.1f} wall-clock minutes of training on {machine_summary()}.
- Time to held-out exact accuracy (puzzles from the training distribution): {', '.join(f'{k}: ' + (f'{v} min' if v is not None else 'not reached') for k, v in tta.items())}.

## Curve
![training curve](curve.svg)

{_curve_table(log)}
## Accuracy
{_accuracy_section(evaluation, out_dir)}"""
    if compare:
        card += _comparison_section(Path(run_dir), compare, out_dir)
    if notes_file is not None:
        card += "\n## Notes\n\n" + Path(notes_file).read_text()
    save_weights(out_dir, model, card=card, metrics=metrics)
    if log:
        save_curve_svg(log, Path(out_dir) / "curve.svg")
    return Path(out_dir)
