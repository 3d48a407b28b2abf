"""Compare training recipes by learning speed: minutes of training until the held-out accuracy
first reached each threshold, read from runs' `log.jsonl` and `options.json`.

A "run" here is any directory with those two files: a live run directory, or the copies that
`hrm export --compare` keeps next to a card so the table on the card can be reproduced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrm_tui.errors import UserError

EXACT_THRESHOLDS = (0.5, 0.9, 0.99)
TOKEN_THRESHOLDS = (0.8, 0.9, 0.95)
# Options that define a recipe; the rest (paths, logging cadence) do not change learning.
RECIPE_KEYS = ("hidden_size", "heads", "h_layers", "l_layers", "h_cycles", "l_cycles", "max_segments",
               "pos_encodings", "absolute_positions", "rope_boxes", "attention_window", "window_prefix", "distance_classes",
               "segment_gradient", "batch_size", "lr", "warmup", "schedule", "loss", "ema", "givens_min", "givens_max",
               "curriculum", "curriculum_start", "data", "generated_weight", "maze_size", "maze_min_size", "maze_style", "maze_loops", "canvas", "augment", "explore", "weight_decay",
               "init_from")
# Defaults of options added after some runs were made, so older runs read as what they were.
LATER_DEFAULTS = {"curriculum_start": 60, "pos_encodings": "rope", "absolute_positions": False, "rope_boxes": 0, "attention_window": 0, "window_prefix": True, "distance_classes": 0, "segment_gradient": "one_step", "maze_min_size": None, "maze_style": "carved", "maze_loops": 0.05, "canvas": 30}
# Additions that are off: a recipe or the shared line names them only when some run used them.
SWITCHED_OFF = {"absolute_positions": False, "rope_boxes": 0, "attention_window": 0, "window_prefix": True,
                "distance_classes": 0, "data": [],
                "generated_weight": 1.0, "curriculum_start": 60}
KIND_KEYS = {"sudoku": {"givens_min", "givens_max", "curriculum", "curriculum_start", "data", "generated_weight", "data_holdout"},
             "maze": {"maze_size", "maze_min_size", "maze_style", "maze_loops", "canvas", "distance_classes"},
             "arc": {"canvas", "augment"}}


def applies_to_kind(key: str, kind: str | None) -> bool:
    """Kind-specific options only describe runs of that kind (givens mean nothing to a maze)."""
    owners = [k for k, keys in KIND_KEYS.items() if key in keys]
    return not owners or kind in owners


@dataclass
class RunSummary:
    name: str
    options: dict[str, Any]
    log: list[dict[str, Any]]

    @property
    def evals(self) -> list[dict[str, Any]]:
        return [r for r in self.log if "eval_exact_accuracy" in r]

    def minutes_to(self, key: str, threshold: float) -> float | None:
        hit = next((r for r in self.evals if r[key] >= threshold), None)
        return round(hit["wall_time"] / 60, 1) if hit else None

    def first_multi_rank_step(self) -> tuple[int, int] | None:
        """(step, ranks) of the first log row trained on several ranks; logs before this field say nothing."""
        row = next((r for r in self.log if r.get("ranks", 1) > 1), None)
        return (row["step"], row["ranks"]) if row else None

    def value_at(self, key: str, minutes: float) -> float | None:
        """The last evaluation's `key` at or before `minutes` of training (None: none by then,
        or the run stopped before that time, so runs are compared at equal time)."""
        if not self.log or self.log[-1]["wall_time"] < minutes * 60 - 60:  # a run capped at that time ends just short
            return None
        done = [r for r in self.evals if r["wall_time"] <= minutes * 60]
        return done[-1][key] if done else None

    def best(self, key: str) -> float | None:
        values = [r[key] for r in self.evals]
        return max(values) if values else None


def read_run(directory: Path) -> RunSummary:
    directory = Path(directory)
    log_path, options_path = directory / "log.jsonl", directory / "options.json"
    if not log_path.is_file() or not options_path.is_file():
        raise UserError(f"{directory} is not a training run (needs log.jsonl and options.json)")
    try:
        options = json.loads(options_path.read_text(encoding="utf-8"))
        log = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except ValueError as exc:
        raise UserError(f"{directory}: unreadable run files ({exc})") from None
    if not isinstance(options, dict) or not all(isinstance(r, dict) and "wall_time" in r for r in log):
        raise UserError(f"{directory}: options.json or log.jsonl is not what `hrm train` writes")
    return RunSummary(directory.name, {**LATER_DEFAULTS, **options}, log)


def _recipe(options: dict[str, Any], shared: dict[str, Any]) -> str:
    """The options where this run differs from the others (all of them for a single run)."""
    parts = [f"{key.replace('_', '-')} {_shown(key, options.get(key))}" for key in RECIPE_KEYS
             if options.get(key) is not None and applies_to_kind(key, options.get("kind"))
             and (key not in shared or options[key] != shared[key]) and not _off(key, options[key])]
    return ", ".join(parts) or "same"


def _off(key: str, value: Any) -> bool:
    return key in SWITCHED_OFF and value == SWITCHED_OFF[key]


def _shown(key: str, value: Any) -> str:
    """An option as a recipe shows it: a warm start by the run or weights it started from,
    training files by name and weight."""
    if key == "data":
        return " + ".join(Path(str(item)).name for item in value)
    return Path(str(value)).name if key == "init_from" else str(value)


def _shared_options(runs: list[RunSummary]) -> dict[str, Any]:
    if len(runs) < 2:
        return {}
    first = runs[0].options
    return {k: first.get(k) for k in RECIPE_KEYS if applies_to_kind(k, first.get("kind"))
            and all(r.options.get(k) == first.get(k) for r in runs) and not _off(k, first.get(k))}


def _accuracy(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def comparison_rows(runs: list[RunSummary], at_minutes: tuple[float, ...] = ()) -> tuple[list[str], list[list[str]]]:
    shared = _shared_options(runs)
    kinds = {run.options.get("kind") for run in runs}
    # Threshold columns hold minutes until the accuracy was first reached ("-": not yet);
    # `at_minutes` columns the held-out token accuracy after that much training.
    header = ["run", "recipe", "steps", "min", "best tok", "best exact",
              *(f"tok {int(t * 100)}%" for t in TOKEN_THRESHOLDS),
              *(f"exact {int(t * 100)}%" for t in EXACT_THRESHOLDS),
              *(f"tok @{m:g} min" for m in at_minutes)]
    rows = []
    for run in runs:
        last = run.log[-1] if run.log else {"step": 0, "wall_time": 0.0}
        token, exact = run.best("eval_token_accuracy"), run.best("eval_exact_accuracy")
        name = run.name if len(kinds) == 1 else f"{run.name} ({run.options.get('kind')})"
        rows.append([name, _recipe(run.options, shared), str(last["step"]), f"{last['wall_time'] / 60:.0f}",
                     _accuracy(token), _accuracy(exact),
                     *(_minutes(run.minutes_to("eval_token_accuracy", t)) for t in TOKEN_THRESHOLDS),
                     *(_minutes(run.minutes_to("eval_exact_accuracy", t)) for t in EXACT_THRESHOLDS),
                     *(_accuracy(run.value_at("eval_token_accuracy", m)) for m in at_minutes)])
    return header, rows


def cores_sentence(runs: list[RunSummary]) -> str:
    """How many cores made the minutes: one per run unless the log records data-parallel ranks."""
    several = [f"{run.name} on {ranks} ranks from step {step:,}" for run in runs
               if (found := run.first_multi_rank_step()) for step, ranks in [found]]
    return ("Each run had one CPU core of this machine" + (f", except {'; '.join(several)} (one core per rank)"
            if several else "") + " (logs written before ranks were recorded: see the notes).")


def comparison_markdown(runs: list[RunSummary], at_minutes: tuple[float, ...] = ()) -> str:
    header, rows = comparison_rows(runs, at_minutes)
    shared = _shared_options(runs)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if shared:
        lines.append("")
        lines.append("Shared by all runs: " + ", ".join(f"{k.replace('_', '-')} {_shown(k, v)}" for k, v in shared.items()
                                                      if v is not None) + ".")
    return "\n".join(lines) + "\n"
