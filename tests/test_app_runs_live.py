"""Reading a training run while another process writes it (issue #24, part 3).

A writer process saves checkpoints with the real `RunDir.save` (atomic), appends log lines
in pieces (a reader meets half a line), copies checkpoints in non-atomically in chunks (as
`cp` or `rsync` from another machine would: a reader meets half a file), and removes the
whole run directory at random moments. Meanwhile this process loads the run the way the
app's `w` picker does (`hrm_tui.app.weights.load`), from the run directory or the newest
checkpoint it listed, and reads the log. Every tensor the writer saves for step N holds the
value N, so a model mixed from two checkpoints (torn) cannot pass unnoticed.

Each load either gives a whole model of one step or raises `UserError` (the app shows it as
a notice); anything else fails the test. `HRM_RUNS_LIVE_SECONDS` lengthens the run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
from test_app_support import SPECS, TINY, make_app, pilot_test

SECONDS = float(os.environ.get("HRM_RUNS_LIVE_SECONDS", 8))


def tiny_config():
    from models.config import HRMConfig

    return HRMConfig(puzzle_kind="sudoku", **{**SPECS["sudoku"], **TINY})


def step_arrays(shapes: dict[str, tuple], step: int) -> dict:
    import mlx.core as mx

    return {name: mx.full(shape, float(step), mx.float32) for name, shape in shapes.items()}


def write_run(run: Path, seconds: float, seed: int) -> None:
    """The writer: until `seconds` pass, save, copy in, log and remove at random moments."""
    from models.checkpoint import RunDir, model_arrays, save_arrays
    from models.hrm import HRM

    rng = random.Random(seed)
    config = tiny_config()
    shapes = {name: tuple(array.shape) for name, array in model_arrays(HRM(config, seed=0)).items()}
    state = {"model_config": config.to_dict(), "elapsed": 0.0, "best_exact": None}
    step, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        step += 1
        action = rng.choices(("save", "copy", "log", "remove"), (5, 2, 4, 1))[0]
        if action == "save":
            groups = {"model": step_arrays(shapes, step), "ema": step_arrays(shapes, step)}
            RunDir(run, keep_last=2).save(step, groups, {**state, "step": step}, is_best=rng.random() < 0.3)
        elif action == "copy":
            staged = run.parent / f"staged-{step}"
            staged.mkdir()
            save_arrays(staged / "model.safetensors", step_arrays(shapes, step))
            copy_in_chunks(staged / "model.safetensors", run / "checkpoints" / f"step-{step:08d}", rng,
                           json.dumps({**state, "step": step}))
            shutil.rmtree(staged)
        elif action == "log":
            line = json.dumps({"step": step, "loss": 1.0 / step}) + "\n"
            run.mkdir(parents=True, exist_ok=True)
            with open(run / "log.jsonl", "a") as log:
                cut = rng.randrange(1, len(line))
                log.write(line[:cut])
                log.flush()
                time.sleep(rng.uniform(0, 0.01))
                log.write(line[cut:])
        else:
            shutil.rmtree(run, ignore_errors=True)
        time.sleep(rng.uniform(0, 0.02))


def copy_in_chunks(source: Path, target: Path, rng: random.Random, state: str) -> None:
    """A checkpoint arriving the way `cp -r` writes it: state.json first, then the weights in
    pieces with pauses, so a reader can find either file half written."""
    target.mkdir(parents=True, exist_ok=True)
    data = source.read_bytes()
    with open(target / "state.json", "w") as out:
        out.write(state[: len(state) // 2])
        out.flush()
        time.sleep(rng.uniform(0, 0.005))
        out.write(state[len(state) // 2:])
    with open(target / "model.safetensors", "wb") as out:
        for start in range(0, len(data), len(data) // 4 + 1):
            out.write(data[start:start + len(data) // 4 + 1])
            out.flush()
            time.sleep(rng.uniform(0, 0.005))


def check_whole(loaded) -> int:
    """The step a loaded model came from; fails unless every tensor holds that step."""
    from mlx.utils import tree_flatten

    step = loaded.metrics["step"]
    for name, array in tree_flatten(loaded.model.parameters()):
        values = np.asarray(array)
        assert (values == step).all(), f"torn model: {name} holds {np.unique(values)[:5]} in a step-{step} checkpoint"
    return step


def read_while_written(run: Path, seconds: float) -> Counter:
    """Load the run (or the newest checkpoint seen) and read its log until `seconds` pass."""
    from hrm_tui.app.weights import load
    from hrm_tui.errors import UserError

    outcomes: Counter = Counter()
    rng = random.Random(0)
    deadline = time.monotonic() + seconds
    while not run.is_dir() and time.monotonic() < deadline:  # the writer starts up (imports MLX)
        time.sleep(0.01)
    while time.monotonic() < deadline:
        target = newest_listed(run) if rng.random() < 0.3 else run
        try:
            check_whole(load("sudoku", target))
            outcomes["whole model"] += 1
        except UserError as exc:
            outcomes[f"notice: {notice_kind(str(exc))}"] += 1
        outcomes[read_log(run)] += 1
    return outcomes


def newest_listed(run: Path) -> Path:
    """The newest checkpoint as a person picks it in the `w` dialog, or the run when the list
    is empty or the run vanished while it was listed."""
    from models.checkpoint import RunDir

    try:
        listed = RunDir(run).checkpoints()
    except OSError:  # RunDir.checkpoints: is_dir() then glob(), and the directory went between
        return run
    return listed[-1] if listed else run


def read_log(run: Path) -> str:
    """Read the log as a training view would: complete records only, or the run is gone."""
    from models.checkpoint import RunDir

    try:
        records = RunDir(run).read_log()
    except OSError:  # removed between its is_file() and its read: a view shows a notice
        return "log gone while read"
    assert all(isinstance(r.get("step"), int) for r in records), "a half-written log line was read as a record"
    return "log read"


NOTICES = (("is not a directory", "run directory gone"), ("holds no weights", "no checkpoint yet"),
           ("no readable state.json", "state.json half written"), ("truncated", "weights half written"),
           ("not a safetensors file", "weights half written"), ("could not read", "removed while read"),
           ("no model.safetensors", "weights not there yet"), ("missing /", "removed while read"),
           ("not a readable safetensors", "removed while read"))


def notice_kind(message: str) -> str:
    """What a notice is about; an unforeseen one is kept whole (paths and numbers masked)."""
    found = next((kind for fragment, kind in NOTICES if fragment in message), None)
    return found or re.sub(r"\d+", "N", re.sub(r"/\S+", "PATH", message))


def test_loading_a_run_while_it_is_written(tmp_path):
    run = tmp_path / "run"
    writer = multiprocessing.get_context("spawn").Process(target=write_run, args=(run, SECONDS, 1))
    writer.start()
    try:
        outcomes = read_while_written(run, SECONDS)
    finally:
        writer.join(timeout=60)
    assert writer.exitcode == 0, "the writer process failed"
    print(f"\nrun read while written for {SECONDS:.0f} s: {dict(outcomes)}")
    assert outcomes["whole model"] > 0  # the race was run, not only its error paths


@pilot_test
async def test_the_app_reloads_a_run_while_it_is_written(tmp_path):
    """The same race through the app: each reload ends with a model of one step or a notice."""
    run = tmp_path / "run"
    writer = multiprocessing.get_context("spawn").Process(target=write_run, args=(run, SECONDS / 2, 2))
    writer.start()
    app = make_app("sudoku", {"sudoku": run})
    outcomes: Counter = Counter()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + SECONDS / 2
            while time.monotonic() < deadline:
                app.screen.load_model(run)
                while app.screen.loaded is None and app.screen.load_error is None:  # a model, or a notice
                    await pilot.pause(0.01)
                if app.screen.loaded is not None:
                    check_whole(app.screen.loaded)
                outcomes["whole model" if app.screen.loaded else "notice"] += 1
            assert app.is_running
    finally:
        writer.join(timeout=60)
    print(f"\napp reloads of a run while written for {SECONDS / 2:.0f} s: {dict(outcomes)}")
    assert sum(outcomes.values()) > 3
