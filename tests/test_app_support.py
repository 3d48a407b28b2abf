"""Shared pieces of the app tests: tiny deterministic models, an app factory and helpers.

Other `test_app_*` modules import from here (pytest puts tests/ on sys.path). The models are
random (seed 0) and tiny, so solving takes milliseconds and pictures are stable for snapshots.
"""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path

import pytest

TINY = dict(hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=1, L_cycles=2,
            halt_max_steps=4, puzzle_emb_ndim=32)
SPECS = {
    "sudoku": dict(vocab_size=11, seq_len=81, grid_shape=(9, 9)),
    "maze": dict(vocab_size=6, seq_len=121, grid_shape=(11, 11)),  # an 11x11 canvas keeps it cheap
    "arc": dict(vocab_size=12, seq_len=900, grid_shape=(30, 30)),
}
NEWSPAPER = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
MAZE = "#####\n#S  #\n# # #\n#  G#\n#####\n"
TASK = {
    "train": [{"input": [[1, 0], [0, 2]], "output": [[0, 1], [2, 0]]},
              {"input": [[3, 3], [0, 4]], "output": [[3, 3], [4, 0]]}],
    "test": [{"input": [[5, 0], [0, 6]], "output": [[0, 5], [6, 0]]},
             {"input": [[7, 8], [0, 0]]}],
}
BIG_FILE = 30 * 2**20


def bad_files(root: Path) -> dict[str, Path]:
    """Files no puzzle screen should open, by what is wrong with them (written into `root`)."""
    contents = {
        "binary": bytes(range(256)) * 64,
        "utf16": NEWSPAPER.encode("utf-16"),
        "latin1": "caf\xe9\n".encode("latin-1"),
        "empty": b"",
        "huge": (NEWSPAPER + "\n").encode() * (BIG_FILE // 82 + 1),  # valid lines: too many of them
        "malformed json": b'{"train": [{"input": [[1, 2]], "output": ',
        "task without train": json.dumps({"train": [], "test": TASK["test"]}).encode(),
        "deep json": b"[" * 100_000,
        "maze without S": MAZE.replace("S", " ").encode(),
    }
    paths = {}
    for name, content in contents.items():
        paths[name] = root / name.replace(" ", "-")
        paths[name].write_bytes(content)
    paths["missing"] = root / "missing.txt"
    return paths


def pilot_test(test):
    """Run an async Pilot test with asyncio (the project has no async pytest plugin)."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))
    return run


def save_tiny_model(directory: Path, kind: str, **changes) -> Path:
    from models.checkpoint import save_weights
    from models.config import HRMConfig
    from models.hrm import HRM

    model = HRM(HRMConfig(puzzle_kind=kind, **{**SPECS[kind], **TINY, **changes}), seed=0)
    return save_weights(directory, model, card=f"# Tiny {kind} test model\n\nRandom weights, seed 0.\n",
                        metrics={"exact_accuracy": 0.0})


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("weights")
    return {kind: save_tiny_model(root / kind, kind) for kind in SPECS}


@pytest.fixture
def task_file(tmp_path) -> Path:
    path = tmp_path / "flip.json"
    path.write_text(json.dumps(TASK))
    return path


def make_app(kind: str, weights: dict[str, Path] | None):
    from hrm_tui.app.app import HRMApp

    return HRMApp(kind=kind, weights=weights)


async def settle(pilot) -> None:
    """Let workers finish and the UI catch up (thread workers post messages back)."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def solve(pilot) -> None:
    """Enter, wait for the trace, and stop playback on the last frame."""
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("end")
    await pilot.pause()


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]
