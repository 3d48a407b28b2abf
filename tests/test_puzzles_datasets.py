"""Datasets: building, manifest and checksum, loader batches and resume; kinds; `hrm data`."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from puzzles import arc, datasets, maze, sudoku
from puzzles.errors import PuzzleError
from puzzles.kinds import IGNORE_LABEL, KINDS, get_kind


@pytest.fixture(scope="module")
def sudoku_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "sudoku"
    datasets.build_sudoku(out, level="medium", train=12, test=4, augment=2, seed=5)
    return out


def test_sudoku_dataset_layout_and_manifest(sudoku_dir):
    manifest = json.loads((sudoku_dir / "manifest.json").read_text())
    assert manifest["counts"] == {"train": 36, "test": 4}
    assert manifest["kind"] == "sudoku" and manifest["seq_len"] == 81 and manifest["vocab_size"] == 11
    assert manifest["seed"] == 5 and manifest["augment"] == 2 and manifest["generator"]["level"] == "medium"
    assert sorted(p.name for p in sudoku_dir.iterdir()) == ["manifest.json", "test.npz", "train.npz"]
    with np.load(sudoku_dir / "train.npz", allow_pickle=False) as data:
        puzzles, solutions = sudoku.decode(data["inputs"]), sudoku.decode(data["labels"])
    assert sudoku.solved_mask(puzzles, solutions).all()
    assert all(sudoku.count_solutions(p) == 1 for p in puzzles[::5])


def test_build_is_reproducible_and_refuses_to_overwrite(sudoku_dir, tmp_path):
    again = datasets.build_sudoku(tmp_path / "again", level="medium", train=12, test=4, augment=2, seed=5)
    assert again["checksum"] == datasets.read_dataset(sudoku_dir).manifest["checksum"]
    with pytest.raises(PuzzleError, match="already exists"):
        datasets.build_sudoku(tmp_path / "again", level="medium", train=1, test=1)
    datasets.build_sudoku(tmp_path / "again", level="easy", train=1, test=1, force=True)
    assert datasets.read_dataset(tmp_path / "again").manifest["counts"] == {"train": 1, "test": 1}


def test_corrupt_dataset_is_rejected(sudoku_dir, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in sudoku_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    with np.load(copy / "test.npz") as data:
        arrays = dict(data)
    arrays["labels"][0, 0] ^= 1
    np.savez(copy / "test.npz", **arrays)
    with pytest.raises(PuzzleError, match="checksum mismatch"):
        datasets.read_dataset(copy)
    with pytest.raises(PuzzleError, match="not a dataset directory"):
        datasets.read_dataset(tmp_path)


def test_loader_batches_and_resume(sudoku_dir):
    loader = datasets.DatasetLoader(sudoku_dir, "train", batch_size=8, seed=1)
    first = loader.next_batch()
    assert first["inputs"].dtype == first["labels"].dtype == first["puzzle_identifiers"].dtype == np.int32
    assert first["inputs"].shape == (8, 81) and first["puzzle_identifiers"].shape == (8,)
    for _ in range(3):
        loader.next_batch()  # crosses into epoch 1
    saved = loader.state()
    expected = [loader.next_batch()["inputs"] for _ in range(4)]
    resumed = datasets.DatasetLoader(sudoku_dir, "train", batch_size=8, seed=1)
    resumed.restore(json.loads(json.dumps(saved)))
    assert all((resumed.next_batch()["inputs"] == e).all() for e in expected)
    assert sum(len(b["inputs"]) for b in loader.epoch()) == 36


def test_loader_errors(sudoku_dir):
    with pytest.raises(PuzzleError, match="no 'valid' split"):
        datasets.DatasetLoader(sudoku_dir, "valid", 4)
    with pytest.raises(PuzzleError, match="fewer than one batch"):
        datasets.DatasetLoader(sudoku_dir, "test", 64)


def test_maze_dataset_labels_ignore_pad(tmp_path):
    spec = maze.MazeSpec(9, 9, min_path=8)
    manifest = datasets.build_maze(tmp_path / "m", spec, train=3, test=2, augment=1)
    assert manifest["counts"] == {"train": 6, "test": 2} and manifest["generator"]["height"] == 9
    batch = datasets.DatasetLoader(tmp_path / "m", "train", 6).next_batch()
    assert ((batch["inputs"] == 0) == (batch["labels"] == IGNORE_LABEL)).all()
    for x, y in zip(batch["inputs"], batch["labels"]):
        grid = maze.decode(x)
        assert maze.check_solution(grid, maze.decode(np.maximum(y, 0), grid.shape)).ok


def test_arc_dataset_identifiers_and_views(tmp_path):
    manifest = datasets.build_arc(tmp_path / "a", "arc1", augment=1, seed=3)
    training, evaluation = arc.load_collection("arc1")
    assert manifest["num_puzzle_identifiers"] == 1 + 2 * (len(training) + len(evaluation))
    assert manifest["identifiers"][:3] == ["<blank>", training[0].name, f"{training[0].name}|1"]
    test = datasets.read_dataset(tmp_path / "a").splits["test"]
    assert len(test["inputs"]) == 2 * sum(len(t.test) for t in evaluation)
    # Every test row maps back, through its view's transform, to the task's true output.
    by_name = {t.name: t for t in evaluation}
    for row in range(0, len(test["inputs"]), 97):
        pid = int(test["puzzle_identifiers"][row])
        task = by_name[manifest["identifiers"][pid].split("|")[0]]
        transform = arc.ArcTransform.from_text(manifest["transforms"][pid])
        expected = task.test[int(test["example_index"][row])].output
        assert (arc.map_back(test["labels"][row], transform) == expected).all()


def test_kinds_registry():
    assert {k: (v.vocab_size, v.seq_len) for k, v in KINDS.items()} == {
        "sudoku": (11, 81), "maze": (6, 900), "arc": (12, 900)}
    kind = get_kind("sudoku")
    puzzle, solution = sudoku.generate_level(np.random.default_rng(0), "easy")
    assert (kind.decode(kind.encode(puzzle)) == puzzle).all()
    assert kind.verify(puzzle, solution).ok
    with pytest.raises(PuzzleError, match="unknown puzzle kind"):
        get_kind("chess")


def test_cli_build_info_and_errors(tmp_path):
    import typer

    from hrm_tui.commands import data

    app = typer.Typer()
    data.register(app)
    app.command("noop")(lambda: None)  # keep `data` a sub-command
    runner = CliRunner()
    out = tmp_path / "s"
    build = ["data", "build", "sudoku", "--level", "easy", "--train", "3", "--test", "1"]
    result = runner.invoke(app, [*build, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "train 3, test 1" in result.output
    result = runner.invoke(app, ["data", "info", str(out)])
    assert result.exit_code == 0 and "MB on disk" in result.output
    result = runner.invoke(app, ["data", "build", "sudoku", "--level", "nope", "--out", str(tmp_path / "x")])
    assert isinstance(result.exception, PuzzleError) and "unknown level" in str(result.exception)


def test_speed_measurements_run():
    from puzzles.speed import measure

    rows = list(measure(["maze"], budget=0.001))
    assert [m.what.split()[1] for m in rows][:2] == ["generate", "check_solution"]
    assert all(m.items >= 1 and m.per_second > 0 for m in rows)
