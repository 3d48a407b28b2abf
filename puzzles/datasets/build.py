"""Building datasets: generated Sudoku and mazes, and ARC collections, with augmentation.

Every builder is reproducible from its seed (train and test draw from independent
streams of it), reports progress as (done, total), and returns the manifest it wrote.
Stored arrays: `inputs` and `labels` uint8 tokens (label 0 = ignored), and
`puzzle_identifiers` int32; see `loader` for what training receives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from puzzles import arc, maze, sudoku
from puzzles.datasets.store import write_dataset
from puzzles.errors import PuzzleError
from puzzles.kinds import get_kind

Progress = Callable[[int, int], None]
Pair = tuple[np.ndarray, np.ndarray]
SPLIT_STREAMS = {"train": 1, "test": 2}


def _no_progress(done: int, total: int) -> None:
    """Default progress callback: report nothing."""


def _stack(rows: list[Pair], identifiers: list[int]) -> dict[str, np.ndarray]:
    return {
        "inputs": np.stack([i for i, _ in rows]).astype(np.uint8),
        "labels": np.stack([l for _, l in rows]).astype(np.uint8),
        "puzzle_identifiers": np.array(identifiers, np.int32),
    }


def _generated_splits(
    make_pair: Callable[[np.random.Generator], Pair],
    augment_pair: Callable[[np.ndarray, np.ndarray, np.random.Generator], Pair],
    encode: Callable[[np.ndarray], np.ndarray],
    counts: dict[str, int],
    augment: int,
    seed: int,
    progress: Progress,
) -> dict[str, dict[str, np.ndarray]]:
    """Splits of fresh puzzles; each training puzzle also appears in `augment` random
    symmetric variants (the test split is never augmented). Identifiers are all 0."""
    total = counts["train"] * (1 + augment) + counts["test"]
    done, splits = 0, {}
    for split, count in counts.items():
        rng = np.random.default_rng([seed, SPLIT_STREAMS[split]])
        variants = 1 + augment if split == "train" else 1
        rows = []
        for _ in range(count):
            puzzle, solution = make_pair(rng)
            rows.append((puzzle, solution))
            rows.extend(augment_pair(puzzle, solution, rng) for _ in range(variants - 1))
            done += variants
            progress(done, total)
        splits[split] = _stack([(encode(p), encode(s)) for p, s in rows], [0] * len(rows))
    return splits


def _check_counts(train: int, test: int, augment: int) -> dict[str, int]:
    if train < 1 or test < 0 or augment < 0:
        raise PuzzleError(f"need train >= 1, test >= 0 and augment >= 0, got {train}, {test}, {augment}")
    return {"train": train, "test": test}


def _manifest(kind: str, seed: int, augment: int, generator: dict, identifiers: int) -> dict:
    spec = get_kind(kind)
    return {
        "kind": kind,
        "vocab_size": spec.vocab_size,
        "seq_len": spec.seq_len,
        "num_puzzle_identifiers": identifiers,
        "seed": seed,
        "augment": augment,
        "generator": generator,
    }


def build_sudoku(out: Path, level: str = "extreme", train: int = 1000, test: int = 200, augment: int = 0,
                 seed: int = 0, force: bool = False, progress: Progress = _no_progress) -> dict:
    """Unique-solution puzzles of one level (see `sudoku.LEVELS`)."""
    counts = _check_counts(train, test, augment)
    givens = sudoku.level_givens(level)
    splits = _generated_splits(lambda rng: sudoku.generate_level(rng, level), sudoku.augment,
                               sudoku.encode, counts, augment, seed, progress)
    generator = {"level": level, "givens": list(givens), "unique": True}
    return write_dataset(out, splits, _manifest("sudoku", seed, augment, generator, 1), force)


def build_maze(out: Path, spec: maze.MazeSpec, train: int = 1000, test: int = 200, augment: int = 0,
               seed: int = 0, force: bool = False, progress: Progress = _no_progress) -> dict:
    """Mazes of one generator setting, each labelled with its unique shortest path."""
    counts = _check_counts(train, test, augment)
    if max(spec.height, spec.width) > maze.CANVAS:
        raise PuzzleError(f"mazes larger than the {maze.CANVAS}x{maze.CANVAS} canvas cannot be encoded")
    splits = _generated_splits(lambda rng: maze.generate_spec(rng, spec), maze.augment,
                               maze.encode, counts, augment, seed, progress)
    return write_dataset(out, splits, _manifest("maze", seed, augment, asdict(spec), 1), force)


def _arc_view_rows(task: arc.ArcTask, transform: arc.ArcTransform, pairs, rng, translate: bool) -> list[Pair]:
    """Encoded (input, output) rows of `pairs` under one transform; with `translate`, each
    example lands at a random canvas offset (inputs and outputs together)."""
    rows = []
    for pair in pairs:
        grids = [transform.apply(pair.input), transform.apply(pair.output)]
        offset = arc.random_offset(rng, grids) if translate else (0, 0)
        # uint8 as stored: tens of thousands of rows, so this keeps peak memory 4x lower.
        rows.append(tuple(arc.encode_grid(g, offset).astype(np.uint8) for g in grids))
    return rows


def build_arc(out: Path, collection: str = "arc1", augment: int = 8, seed: int = 0,
              force: bool = False, progress: Progress = _no_progress) -> dict:
    """A collection's tasks as in the reference builder.

    Every task gets one puzzle identifier per view (the original plus `augment` random
    transforms; 0 is reserved for "no puzzle"). Train: all pairs of training tasks and
    the demonstration pairs of evaluation tasks, since the model can only learn a task's
    identifier embedding from its demonstrations; augmented views are also translated.
    Test: the evaluation tasks' test pairs in every view, untranslated, with
    `example_index` naming the test input, so predictions can be mapped back
    (manifest `transforms`, see `ArcTransform.from_text`) and voted on.
    """
    if augment < 0:
        raise PuzzleError(f"augment must be >= 0, got {augment}")
    training, evaluation = arc.load_collection(collection)
    rng = np.random.default_rng(seed)
    names, transforms = ["<blank>"], [None]
    rows: dict[str, list[Pair]] = {"train": [], "test": []}
    ids: dict[str, list[int]] = {"train": [], "test": []}
    example_index: list[int] = []
    tasks = [(task, True) for task in training] + [(task, False) for task in evaluation]
    for done, (task, is_training) in enumerate(tasks, start=1):
        views = [arc.IDENTITY] + [arc.random_transform(rng) for _ in range(augment)]
        for v, transform in enumerate(views):
            pid = len(names)
            names.append(task.name if v == 0 else f"{task.name}|{v}")
            transforms.append(transform.to_text())
            demos = task.train + task.test if is_training else task.train
            new = _arc_view_rows(task, transform, demos, rng, translate=v > 0)
            rows["train"] += new
            ids["train"] += [pid] * len(new)
            if not is_training:
                new = _arc_view_rows(task, transform, task.test, rng, translate=False)
                rows["test"] += new
                ids["test"] += [pid] * len(new)
                example_index += range(len(new))
        progress(done, len(tasks))
    splits = {split: _stack(rows[split], ids[split]) for split in rows}
    splits["test"]["example_index"] = np.array(example_index, np.int32)
    manifest = _manifest("arc", seed, augment, {"collection": collection}, len(names))
    manifest |= {
        "tasks": {"train": [t.name for t in training], "evaluation": [t.name for t in evaluation]},
        "identifiers": names,
        "transforms": transforms,
    }
    return write_dataset(out, splits, manifest, force)
