"""`hrm train sudoku --data FILE`: the three file forms, the fixed held-out slice, dropping
benchmark puzzles, the mixed stream (and its resume), and one-line errors through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hrm_tui.data_sources import GivensSchedule, SudokuMixSource, WeightedFile, heldout_batch
from hrm_tui.training_run import benchmark_puzzles, parse_data_option
from puzzles import sudoku
from puzzles.errors import PuzzleError
from puzzles.sudoku.files import read_training_file
from test_cli import PUZZLE, SOLUTION, hrm


def _pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    pairs = [sudoku.generate_level(rng, "easy") for _ in range(count)]
    return [(sudoku.format_line(p), sudoku.format_line(s)) for p, s in pairs]


def test_the_three_forms_read_to_the_same_puzzles(tmp_path):
    pairs = _pairs(6)
    pairs_file, bare_file, csv_file = tmp_path / "pairs.txt", tmp_path / "bare.txt", tmp_path / "extreme.csv"
    pairs_file.write_text("# a comment\n" + "".join(f"{p},{s}\n" for p, s in pairs) + "\n")
    bare_file.write_text("".join(f"{p.replace('.', '0')}\n" for p, _ in pairs))
    csv_file.write_text("source,question,answer,rating\n" + "".join(f"x{i},{p},{s},3\n" for i, (p, s) in enumerate(pairs)))
    solved = []
    read = [read_training_file(path, progress=lambda done, total: solved.append((done, total)))
            for path in (pairs_file, bare_file, csv_file)]
    for other in read[1:]:
        np.testing.assert_array_equal(other.puzzles, read[0].puzzles)
        np.testing.assert_array_equal(other.solutions, read[0].solutions)
    assert sudoku.solved_mask(read[0].puzzles, read[0].solutions).all()
    assert solved[-1] == (6, 6)  # only the puzzle-only file needed the solver
    assert read[0].lines == 6 and len(read[0].sha256) == 64 and read[0].sha256 != read[2].sha256


@pytest.mark.parametrize("text, message", [
    ("123\n", "line 1: the puzzle has 3 cells, expected 81"),
    (f"{PUZZLE},{SOLUTION[:-1]}x\n", "bad character 'x' in the solution"),
    (f"{PUZZLE},{SOLUTION[1:]}1\n", "the solution does not solve the puzzle"),
    (f"{PUZZLE},{SOLUTION},{SOLUTION}\n", "got 3 fields"),
    ("." * 81 + "\n", "line 1: the puzzle has more than one solution"),
    ("11" + "." * 79 + "\n", "line 1: the puzzle has no solution"),
    ("\n# nothing\n", "no puzzles"),
])
def test_bad_lines_name_the_line_and_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(PuzzleError, match=message.replace("(", r"\(")):
        read_training_file(path)


def test_the_held_out_slice_is_fixed_and_never_in_the_training_rows(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("".join(f"{p},{s}\n" for p, s in _pairs(40)))
    file = read_training_file(path)
    train, held = file.split(8)
    assert len(held) == 8 and len(train) == 32 and not set(train) & set(held)
    np.testing.assert_array_equal(held, read_training_file(path).split(8)[1])  # the same every time
    assert len(file.split(1000)[1]) == 10  # never more than a quarter of the file


def test_benchmark_puzzles_are_dropped_from_training_files(tmp_path):
    benchmark = sorted(benchmark_puzzles())
    assert len(benchmark) >= 100
    entries = [(p, s) for p, s in sudoku.read_file(next(iter(
        __import__("pathlib").Path(__file__).resolve().parents[1].glob("benchmarks/sudoku17/*.txt"))))][:3]
    path = tmp_path / "p.txt"
    path.write_text("".join(f"{p},{s}\n" for p, s in _pairs(5))
                    + "".join(f"{sudoku.format_line(p).replace('.', '0')},{sudoku.format_line(s)}\n" for p, s in entries))
    file = read_training_file(path, exclude=benchmark)
    assert file.lines == 8 and file.dropped == 3 and len(file.puzzles) == 5


def test_the_mixed_stream_draws_by_weight_augments_and_resumes(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("".join(f"{p},{s}\n" for p, s in _pairs(20)))
    file = read_training_file(path)
    train, held = file.split(4)
    files = [WeightedFile(file, train, 1.0)]
    source = SudokuMixSource(16, GivensSchedule(40, 50), seed=3, files=files, generated_weight=0.0)
    batch = source.next_batch()
    puzzles, solutions = sudoku.decode(batch["inputs"]), sudoku.decode(batch["labels"])
    assert sudoku.solved_mask(puzzles, solutions).all()
    held_forms = {sudoku.format_line(file.puzzles[r]) for r in held}
    # Augmented copies of training rows: the same number of givens, and no held-out puzzle.
    givens = set(np.count_nonzero(file.puzzles[train], axis=1).tolist())
    assert set(np.count_nonzero(puzzles, axis=1).tolist()) <= givens
    assert not {sudoku.format_line(p) for p in puzzles} & held_forms
    mixed = SudokuMixSource(64, GivensSchedule(40, 50), seed=3, files=files, generated_weight=1.0)
    givens = np.count_nonzero(sudoku.decode(mixed.next_batch()["inputs"]), axis=1)
    assert 10 < int(((givens >= 40) & (givens <= 50)).sum()) < 60  # about half generated
    state = mixed.state()
    after = mixed.next_batch()
    mixed.restore(json.loads(json.dumps(state)))
    np.testing.assert_array_equal(mixed.next_batch()["inputs"], after["inputs"])
    evaluation = heldout_batch(files, [held], 64)
    assert evaluation["inputs"].shape == (4, 81)


def test_a_curriculum_shows_file_puzzles_with_more_givens_then_their_own(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("".join(f"{p},{s}\n" for p, s in _pairs(12)))
    file = read_training_file(path)
    own = set(np.count_nonzero(file.puzzles, axis=1).tolist())
    schedule = GivensSchedule.starting_at(40, 50, steps=4, start=70)
    source = SudokuMixSource(8, schedule, seed=5, files=[WeightedFile(file, np.arange(12), 1.0)],
                             generated_weight=0.0)
    counts = []
    for _ in range(5):
        batch = source.next_batch()
        puzzles, solutions = sudoku.decode(batch["inputs"]), sudoku.decode(batch["labels"])
        assert sudoku.solved_mask(puzzles, solutions).all()  # shown cells come from the solution
        counts.append(np.count_nonzero(puzzles, axis=1))
    assert (counts[0] == 70).all()
    assert all(70 > g > min(own) for g in counts[2])  # halfway between the start and their own
    assert set(counts[4].tolist()) <= own  # the curriculum is over: the puzzles as they are


def test_data_option_takes_an_optional_weight():
    assert parse_data_option("a/b.txt") == (__import__("pathlib").Path("a/b.txt"), 1.0)
    assert parse_data_option("a/b.txt:2.5")[1] == 2.5
    assert parse_data_option("C:/x.txt")[0].name == "x.txt"


def test_training_on_a_file_records_its_facts_and_refuses_bad_files(tmp_path):
    data = tmp_path / "hard.txt"
    data.write_text("".join(f"{p},{s}\n" for p, s in _pairs(12)))
    tiny = ["--hidden-size", 32, "--heads", 2, "--h-layers", 1, "--l-layers", 1, "--h-cycles", 1, "--l-cycles", 1,
            "--max-segments", 2, "--batch-size", 4, "--eval-every", 2, "--eval-size", 4, "--log-every", 1]
    result = hrm("train", "sudoku", "--run", tmp_path / "run", "--steps", 2, *tiny, "--data", f"{data}:2",
                 "--generated-weight", 0, "--data-holdout", 2, "--export", tmp_path / "w")
    assert result.returncode == 0, result.stderr
    facts = json.loads((tmp_path / "run" / "data.json").read_text())
    assert facts[0]["file"] == "hard.txt" and facts[0]["lines"] == 12 and facts[0]["heldout"] == 2
    assert facts[0]["weight"] == 2.0
    card = (tmp_path / "w" / "card.md").read_text()
    assert "hard.txt" in card and facts[0]["sha256"][:12] in card and "12 lines" in card
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{PUZZLE},{SOLUTION[1:]}1\n")
    refused = hrm("train", "sudoku", "--run", tmp_path / "run2", "--steps", 2, *tiny, "--data", bad)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().count("\n") == 0 and "line 1" in refused.stderr
    missing = hrm("train", "maze", "--run", tmp_path / "run3", "--steps", 1, "--data", data)
    assert missing.returncode == 2 and "--data is for sudoku" in missing.stderr
