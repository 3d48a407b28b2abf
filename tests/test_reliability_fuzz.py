"""Issue 8, fuzzing the boundaries where user data enters: the `--file` front door (bytes in
any encoding -> check, parse, validate, encode), ARC task files, and weights directories
with mutated safetensors bytes and config values. The only exceptions allowed out are the
ones the CLI turns into one-line errors (UserError, PuzzleError, ModelError)."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrm_tui.errors import UserError
from hrm_tui.solving import check_input_file, encode_items, read_items, validate_item
from models.checkpoint import load_weights
from models.errors import ModelError
from puzzles.errors import PuzzleError
from test_reliability_support import MAZE, PUZZLE, SOLUTION, write_tiny_weights

EXPECTED = (UserError, PuzzleError, ModelError)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]


def front_door(kind: str, path: Path) -> None:
    """What `hrm solve KIND --file PATH` does with a file before the model sees it."""
    items = read_items(kind, path)
    for number, item in enumerate(items, start=1):
        validate_item(kind, item, f"puzzle {number}")
    encode_items(kind, items)


def mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply (position, deleted length, inserted text) edits to a valid file."""
    for position, length, insert in edits:
        position %= len(text) + 1
        text = text[:position] + insert + text[position + length:]
    return text


def edits(alphabet: str):
    return st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.text(alphabet, max_size=3)), max_size=6)


def run_front_door(kind: str, path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        front_door(kind, path)
    except EXPECTED:
        pass


@FAST
@given(data=st.binary(max_size=400))
@pytest.mark.parametrize("kind", ["sudoku", "maze"])
def test_random_bytes_at_the_front_door(tmp_path, kind, data):
    run_front_door(kind, tmp_path / "input.txt", data)


@FAST
@given(changes=edits("0123456789.,#x \n\r\t\u00e9\ufeff\x00"), encoding=st.sampled_from(ENCODINGS))
def test_near_miss_sudoku_files_in_any_encoding(tmp_path, changes, encoding):
    text = mutate(f"# puzzles\n{PUZZLE},{SOLUTION}\n{PUZZLE}\n", changes)
    run_front_door("sudoku", tmp_path / "sudoku.txt", text.encode(encoding, errors="replace"))


@FAST
@given(changes=edits("# SGox\n\r\t\u00e9"), encoding=st.sampled_from(ENCODINGS))
def test_near_miss_maze_files_in_any_encoding(tmp_path, changes, encoding):
    text = mutate(f"{MAZE}\n\n{MAZE}\n", changes)
    run_front_door("maze", tmp_path / "maze.txt", text.encode(encoding, errors="replace"))


@FAST
@given(rows=st.integers(1, 40), cols=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_mazes_of_any_size(tmp_path, rows, cols, seed):
    rng = np.random.default_rng(seed)
    grid = rng.choice(list("#    "), size=(rows, cols))
    cells = rng.choice(rows * cols, size=min(2, rows * cols), replace=False)
    for cell, char in zip(cells, "SG"):
        grid[cell // cols, cell % cols] = char
    run_front_door("maze", tmp_path / "maze.txt", "\n".join("".join(r) for r in grid).encode())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-20, 20) | st.floats(allow_nan=True) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["train", "test", "input", "output", "x"]), inner, max_size=3),
    max_leaves=30)


@FAST
@given(task=json_values, encoding=st.sampled_from(ENCODINGS))
def test_arc_task_files(tmp_path, task, encoding):
    from puzzles.arc import read_task

    path = tmp_path / "task.json"
    path.write_bytes(json.dumps(task).encode(encoding, errors="replace"))
    try:
        read_task(check_input_file(path))
    except EXPECTED:
        pass


# -- weights ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return write_tiny_weights(tmp_path_factory.mktemp("fuzz") / "good")


def load_variant(directory: Path, blob: bytes, config: dict) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "model.safetensors").write_bytes(blob)
    (directory / "config.json").write_text(json.dumps(config))
    try:
        load_weights(directory, expected_kind="sudoku")
    except ModelError:
        pass


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, 2**31)), header_bias=st.booleans())
def test_mutated_safetensors_bytes(tmp_path, weights, flips, cut, header_bias):
    """Byte flips (half of them inside the JSON header) and truncation never get past the
    loader as anything but ModelError; flips in the data give other finite weights or a
    NaN/inf error."""
    blob = bytearray((weights / "model.safetensors").read_bytes())
    header_end = 8 + struct.unpack("<Q", blob[:8])[0]
    for position, value in flips:
        blob[position % (header_end if header_bias else len(blob))] = value
    if cut is not None:
        blob = blob[: cut % len(blob)]
    load_variant(tmp_path / "w", bytes(blob), json.loads((weights / "config.json").read_text()))


config_values = (st.none() | st.booleans() | st.integers(-3, 70) | st.sampled_from([10**9, -1, 0, 2**63])
                 | st.floats(allow_nan=True) | st.text(max_size=3) | st.lists(st.integers(-1, 40), max_size=3)
                 | st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(
    ["hidden_size", "num_heads", "H_layers", "L_layers", "vocab_size", "seq_len", "num_puzzle_identifiers",
     "puzzle_emb_ndim", "expansion", "rope_theta", "rms_norm_eps", "halt_max_steps", "loss_type", "puzzle_kind",
     "grid_shape", "extra", "halt_exploration_prob", "unknown"]), config_values, min_size=1, max_size=3))
def test_config_values(tmp_path, weights, changes):
    """Any value in any config field is a ModelError or a model that loads; a config that
    describes a bigger model than the file is refused before anything is allocated."""
    config = {**json.loads((weights / "config.json").read_text()), **changes}
    load_variant(tmp_path / "w", (weights / "model.safetensors").read_bytes(), config)


def test_a_config_describing_a_giant_model_allocates_nothing(tmp_path, weights):
    """Building this model would need about 17 TB: refused from the sizes alone."""
    config = {**json.loads((weights / "config.json").read_text()), "hidden_size": 2**20, "num_heads": 2**10}
    with pytest.raises(ModelError, match="does not match its config"):
        load_variant_strict(tmp_path / "w", (weights / "model.safetensors").read_bytes(), config)


def load_variant_strict(directory: Path, blob: bytes, config: dict) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "model.safetensors").write_bytes(blob)
    (directory / "config.json").write_text(json.dumps(config))
    load_weights(directory, expected_kind="sudoku")


def test_parameter_count_matches_the_model():
    from models.checkpoint import model_arrays, parameter_count
    from models.config import HRMConfig
    from models.hrm import HRM

    for config in (HRMConfig(hidden_size=32, num_heads=2, H_layers=1, L_layers=2, puzzle_emb_ndim=0),
                   HRMConfig(hidden_size=64, num_heads=4, vocab_size=6, seq_len=900, expansion=2.5,
                             num_puzzle_identifiers=7, puzzle_emb_ndim=96)):
        assert parameter_count(config) == sum(math.prod(a.shape) for a in model_arrays(HRM(config)).values())
