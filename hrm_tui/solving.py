"""Solving puzzles with a loaded model: read inputs, run ACT, check answers against the rules.

Shared by `hrm solve` (single and batch) and `hrm eval`; the app has its own worker but the
same model calls. Output records follow the batch contract in DESIGN.md section 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hrm_tui.errors import UserError

MAX_INPUT_BYTES = 64 * 1024 * 1024  # refuse larger --file inputs without reading them


@dataclass
class PuzzleItem:
    puzzle: np.ndarray
    solution: np.ndarray | None = None


def check_input_file(path: Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a puzzle file")
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise UserError(f"{path} is {size / 2**20:.0f} MiB; the limit is {MAX_INPUT_BYTES // 2**20} MiB")
    if size == 0:
        raise UserError(f"{path} is empty")
    return path


def read_items(kind: str, path: Path) -> list[PuzzleItem]:
    from puzzles import maze, sudoku

    path = check_input_file(path)
    if kind == "sudoku":
        items = [PuzzleItem(p, s) for p, s in sudoku.read_file(path)]
    elif kind == "maze":
        items = [PuzzleItem(m) for m in maze.read_file(path)]
    else:
        raise UserError(f"reading {kind} files is not supported here")
    if not items:
        raise UserError(f"{path} holds no puzzles")
    return items


def validate_item(kind: str, item: PuzzleItem, where: str) -> None:
    """Reject puzzles the rules already break (contradictory givens, unreachable goal)."""
    from puzzles import maze, sudoku
    from puzzles.errors import PuzzleError

    try:
        if kind == "sudoku":
            sudoku.validate(item.puzzle)
        elif kind == "maze":
            maze.check_reachable(item.puzzle)
    except PuzzleError as exc:
        raise UserError(f"{where}: {exc}") from None


def encode_items(kind: str, items: list[PuzzleItem]) -> np.ndarray:
    from puzzles.kinds import get_kind

    spec = get_kind(kind)
    return np.stack([spec.encode(item.puzzle) for item in items]).astype(np.int32)


def decode_prediction(kind: str, tokens: np.ndarray, item: PuzzleItem) -> np.ndarray:
    from puzzles.kinds import get_kind

    if kind == "maze":
        from puzzles import maze

        return maze.decode(tokens, shape=item.puzzle.shape)
    return get_kind(kind).decode(tokens)


def verify(kind: str, item: PuzzleItem, prediction: np.ndarray):
    from puzzles.kinds import get_kind

    return get_kind(kind).verify(item.puzzle, prediction)


def run_model(model, tokens: np.ndarray, max_segments: int | None, stop_at_halt: bool,
              batch_size: int = 256, on_progress: Callable[[int], None] | None = None):
    """Final tokens, segments used and ACT's halting segment for every row, in chunks."""
    from models.act import trace

    preds, used, halted = [], [], []
    for start in range(0, len(tokens), batch_size):
        chunk = tokens[start:start + batch_size]
        final = None
        for rec in trace(model, chunk, max_segments=max_segments):
            live = (rec.halted_at == 0) | (rec.halted_at == rec.segment) if stop_at_halt else np.ones(len(chunk), bool)
            if final is None:
                final, seg = rec.h_tokens.copy(), np.zeros(len(chunk), np.int32)
            final[live] = rec.h_tokens[live]
            seg[live] = rec.segment
            last_halted = rec.halted_at
            if stop_at_halt and np.all(rec.halted_at > 0):
                break
        preds.append(final)
        used.append(seg)
        halted.append(last_halted)
        if on_progress:
            on_progress(len(chunk))
    return np.concatenate(preds), np.concatenate(used), np.concatenate(halted)


def format_prediction(kind: str, prediction: np.ndarray) -> Any:
    from puzzles import maze, sudoku

    if kind == "sudoku":
        return sudoku.format_line(prediction)
    return maze.format_maze(prediction).split("\n")


def result_record(kind: str, index: int, item: PuzzleItem, prediction: np.ndarray, segments: int,
                  halted_at: int) -> dict[str, Any]:
    verdict = verify(kind, item, prediction)
    record: dict[str, Any] = {
        "index": index,
        "prediction": format_prediction(kind, prediction),
        "segments": int(segments),
        "act_halted_at": int(halted_at) or None,
        "solved": bool(verdict.ok),
        "verdict": verdict.message,
    }
    if item.solution is not None:
        record["correct"] = bool(np.array_equal(prediction, item.solution))
    return record
