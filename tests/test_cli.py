"""The real `hrm` CLI in a subprocess: help, the train -> export -> eval -> solve path with a
tiny model, the batch JSONL contract, and one-line errors for bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

PUZZLE = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3.."
SOLUTION = "483921657967345821251876493548132976729564138136798245372689514814253769695417382"


def hrm(*args, timeout=300, input=None, env=None):
    env = {**os.environ, "HRM_BLAS_THREADS": "1", "COLUMNS": "120", **(env or {})}
    return subprocess.run([sys.executable, "-m", "hrm_tui", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, input=input)


def test_help_lists_every_command():
    result = hrm("--help")
    assert result.returncode == 0
    for command in ("solve", "train", "eval", "export", "doctor"):
        assert command in result.stdout


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A tiny Sudoku model trained for real for 100 steps (about half a minute)."""
    root = tmp_path_factory.mktemp("tiny")
    result = hrm("train", "sudoku", "--run", root / "run", "--steps", 100, "--hidden-size", 64, "--heads", 2,
                 "--h-layers", 1, "--l-layers", 1, "--h-cycles", 1, "--l-cycles", 2, "--max-segments", 2,
                 "--batch-size", 32, "--lr", 3e-3, "--warmup", 10, "--loss", "softmax", "--givens-min", 45,
                 "--givens-max", 60, "--eval-every", 50, "--eval-size", 16, "--checkpoint-every", 50,
                 "--export", root / "weights")
    assert result.returncode == 0, result.stderr
    return root


def test_training_writes_log_checkpoints_and_a_card(tiny_weights):
    log = [json.loads(line) for line in (tiny_weights / "run" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 100
    assert {"loss", "accuracy", "puzzles_per_s", "wall_time"} <= set(log[-1])
    assert sorted(p.name for p in (tiny_weights / "run" / "checkpoints").iterdir()) == [
        "best", "step-00000050", "step-00000100"]
    weights = tiny_weights / "weights"
    for name in ("config.json", "model.safetensors", "card.md", "metrics.json", "curve.svg"):
        assert (weights / name).is_file(), name
    assert "trainable parameters" in (weights / "card.md").read_text()


def test_tiny_model_beats_chance_on_blank_cells(tiny_weights):
    out = tiny_weights / "eval.json"
    result = hrm("eval", "sudoku", "--weights", tiny_weights / "weights", "--levels", "easy", "--count", 30,
                 "--json", out)
    assert result.returncode == 0, result.stderr
    easy = json.loads(out.read_text())["results"][0]
    assert easy["set"] == "easy" and easy["puzzles"] == 30
    assert easy["cell_accuracy"] > 0.15  # chance is 1/9 = 0.111 on blank cells
    assert set(easy["repeats"]) == {"row", "column", "box"} and sum(easy["repeats"].values()) > 0
    assert "repeats" in result.stdout


def test_the_card_command_types_switches_that_were_turned_off():
    """The card's training command reproduces the run: `--no-window-prefix` when a run turned
    the window prefix off, nothing for a switch at its default, and zeros and ones kept."""
    from hrm_tui.cards import training_flags

    run = {"kind": "maze", "run": "runs/x", "rope_boxes": 0, "min_lr_ratio": 1.0, "attention_window": 5,
           "window_prefix": False, "absolute_positions": False, "resume": True, "maze_size": 15}
    assert training_flags(run, "maze") == ("--rope-boxes 0 --min-lr-ratio 1.0 --attention-window 5 "
                                           "--no-window-prefix --maze-size 15")
    assert "window-prefix" not in training_flags({**run, "window_prefix": True}, "maze")
    assert "--absolute-positions" in training_flags({**run, "absolute_positions": True}, "maze")


def test_card_carries_the_evaluation_with_its_views(tiny_weights, tmp_path):
    """An evaluation with several views puts a 'views run' column and the exact command,
    --views included, on the card; `export --max-segments` sets the default segments."""
    evaluation = tmp_path / "eval.json"
    measured = hrm("eval", "sudoku", "--weights", tiny_weights / "weights", "--levels", "easy", "--count", 5,
                   "--views", 4, "--json", evaluation)
    assert measured.returncode == 0, measured.stderr
    out = tmp_path / "weights"
    exported = hrm("export", tiny_weights / "run", "--out", out, "--eval", evaluation, "--max-segments", 4)
    assert exported.returncode == 0, exported.stderr
    card = (out / "card.md").read_text()
    # --max-segments changes only the default segments, and the card says what training used.
    assert json.loads((out / "config.json").read_text())["halt_max_steps"] == 4
    assert json.loads((out / "metrics.json").read_text())["trained_max_segments"] == 2
    assert "up to 4 ACT segments (trained with up to 2; exported with `--max-segments 4`)" in card
    puzzles = tmp_path / "puzzles.txt"
    puzzles.write_text(PUZZLE + "\n")
    solved = hrm("solve", "sudoku", "--file", puzzles, "--jsonl", "--weights", out, "--views", 1)
    assert solved.returncode == 0, solved.stderr
    assert json.loads(solved.stdout)["segments"] == 4  # all segments run by default (--full)
    (easy,) = json.loads(evaluation.read_text())["results"]
    assert "| set | puzzles | exact | cell acc | repeats row / col / box | views run | mean segments |" in card
    assert f"| {easy['mean_views_run']:.2f} | {easy['mean_segments']:.1f} |" in card
    assert f"hrm eval sudoku --weights {out} --seed 1234 --levels easy --count 5 --views 4" in card
    # --best exports the checkpoint kept at the best held-out evaluation, and the card says so.
    best_state = json.loads((tiny_weights / "run" / "checkpoints" / "best" / "state.json").read_text())
    exported = hrm("export", tiny_weights / "run", "--out", tmp_path / "best", "--best")
    assert exported.returncode == 0, exported.stderr
    assert json.loads((tmp_path / "best" / "metrics.json").read_text())["steps"] == best_state["step"]
    assert f"at step {best_state['step']}" in (tmp_path / "best" / "card.md").read_text()
    assert f"`--best`: its best held-out exact accuracy, {best_state['best_exact']:.1%}" in \
        (tmp_path / "best" / "card.md").read_text()
    no_best = tmp_path / "fresh"
    (no_best / "checkpoints").mkdir(parents=True)
    refused = hrm("export", no_best, "--out", tmp_path / "none", "--best")
    assert refused.returncode != 0 and refused.stderr.startswith("error:") and "best" in refused.stderr


def test_repeats_count_the_rule_each_wrong_digit_breaks():
    from hrm_tui.evaluation import sudoku_repeats

    solution = np.array([int(c) for c in SOLUTION])
    swapped = solution.copy()
    swapped[[0, 1]] = swapped[[1, 0]]  # same row and box, two columns broken
    assert sudoku_repeats([solution, swapped]) == {"row": 0, "column": 2, "box": 0}


def test_batch_solve_follows_the_jsonl_contract(tiny_weights, tmp_path):
    puzzles = tmp_path / "puzzles.txt"
    puzzles.write_text(f"{PUZZLE},{SOLUTION}\n{PUZZLE.replace('.', '0')}\n")
    result = hrm("solve", "sudoku", "--file", puzzles, "--jsonl", "--weights", tiny_weights / "weights")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    for record in lines:
        assert len(record["prediction"]) == 81 and set(record["prediction"]) <= set("123456789.")
        assert 1 <= record["segments"] <= 2
        assert isinstance(record["solved"], bool)
    assert "correct" in lines[0] and "correct" not in lines[1]


def test_single_solve_prints_the_segment_trace(tiny_weights):
    result = hrm("solve", "sudoku", PUZZLE, "--weights", tiny_weights / "weights")
    assert result.returncode == 0, result.stderr
    assert "ACT segments" in result.stdout and "q_halt" in result.stdout


def test_resume_continues_a_run(tiny_weights, tmp_path):
    run = tmp_path / "run"
    first = hrm("train", "sudoku", "--run", run, "--steps", 4, "--hidden-size", 32, "--heads", 2,
                "--h-layers", 1, "--l-layers", 1, "--max-segments", 2, "--batch-size", 4, "--checkpoint-every", 2)
    assert first.returncode == 0, first.stderr
    again = hrm("train", "sudoku", "--run", run, "--steps", 6, "--hidden-size", 32, "--heads", 2,
                "--h-layers", 1, "--l-layers", 1, "--max-segments", 2, "--batch-size", 4, "--checkpoint-every", 2)
    assert again.returncode == 0, again.stderr
    assert "resumed" in again.stderr
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 6


def test_recipe_comparison_on_the_card_is_reproduced_by_hrm_compare(tiny_weights, tmp_path):
    out = tmp_path / "weights"
    exported = hrm("export", tiny_weights / "run", "--out", out, "--compare", tiny_weights / "run")
    assert exported.returncode == 0, exported.stderr
    card = (out / "card.md").read_text()
    assert "## Recipes compared" in card and (out / "runs" / "run" / "log.jsonl").is_file()
    compared = hrm("compare", out / "runs" / "run", "--markdown")
    assert compared.returncode == 0, compared.stderr
    assert compared.stdout.strip() in card  # the card's table is exactly what the command prints
    row = compared.stdout.splitlines()[2]  # header, separator, then the run
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "100"  # steps of the tiny run
    missing = hrm("compare", tmp_path / "nowhere")
    assert missing.returncode != 0 and "not a training run" in missing.stderr


def test_compare_reads_each_run_s_held_out_accuracy_at_equal_minutes(tmp_path):
    from hrm_tui.recipes import read_run

    for name, evals in (("fast", [(300, 0.5), (900, 0.7), (1800, 0.8)]), ("short", [(300, 0.6), (600, 0.65)])):
        run = tmp_path / name
        run.mkdir()
        (run / "options.json").write_text(json.dumps({"kind": "sudoku", "lr": 0.001 if name == "fast" else 0.002}))
        (run / "log.jsonl").write_text("".join(json.dumps({"step": t // 10, "wall_time": t, "eval_token_accuracy": a,
                                                           "eval_exact_accuracy": 0.0}) + "\n" for t, a in evals))
    fast, short = read_run(tmp_path / "fast"), read_run(tmp_path / "short")
    assert [fast.value_at("eval_token_accuracy", m) for m in (4, 10, 20, 30)] == [None, 0.5, 0.7, 0.8]
    assert short.value_at("eval_token_accuracy", 10) == 0.65 and short.value_at("eval_token_accuracy", 20) is None
    compared = hrm("compare", tmp_path / "fast", tmp_path / "short", "--at-minutes", "10,30", "--markdown")
    assert compared.returncode == 0, compared.stderr
    header, _, first, second = compared.stdout.splitlines()[:4]
    assert header.endswith("| tok @10 min | tok @30 min |")
    assert first.endswith("| 0.500 | 0.800 |") and second.endswith("| 0.650 | - |")
    bad = hrm("compare", tmp_path / "fast", "--at-minutes", "ten")
    assert bad.returncode == 2 and "--at-minutes ten" in bad.stderr and "Traceback" not in bad.stderr


def test_maze_model_on_a_small_canvas_trains_evaluates_and_solves(tmp_path):
    """--canvas makes the model's sequence canvas**2, and eval/solve encode onto that canvas."""
    weights = tmp_path / "weights"
    trained = hrm("train", "maze", "--run", tmp_path / "run", "--steps", 3, "--canvas", 9, "--maze-size", 9,
                  "--hidden-size", 32, "--heads", 2, "--h-layers", 1, "--l-layers", 1, "--max-segments", 2,
                  "--batch-size", 4, "--eval-size", 4, "--export", weights)
    assert trained.returncode == 0, trained.stderr
    assert json.loads((weights / "config.json").read_text())["seq_len"] == 81
    # Held-out evaluations carry the all-path floor, scored on the same mazes, in the log and progress.
    evaluated = [r for r in map(json.loads, (tmp_path / "run" / "log.jsonl").read_text().splitlines())
                 if "eval_exact_accuracy" in r]
    assert evaluated and all(0 < r["eval_floor_token_accuracy"] < 1 for r in evaluated)
    assert "(all-path " in trained.stderr
    evaluated = hrm("eval", "maze", "--weights", weights, "--count", 3, "--json", tmp_path / "eval.json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "skipping 15" in evaluated.stderr and "skipping 30hard" in evaluated.stderr
    (nine,) = json.loads((tmp_path / "eval.json").read_text())["results"]
    assert nine["set"] == "9x9" and 0 <= nine["path_recall"] <= 1 and 0 <= nine["path_precision"] <= 1
    maze_file = tmp_path / "maze.txt"
    maze_file.write_text("#######\n#S   G#\n#######\n")
    solved = hrm("solve", "maze", "--file", maze_file, "--jsonl", "--weights", weights)
    assert solved.returncode == 0, solved.stderr
    assert len(json.loads(solved.stdout)["prediction"]) == 3
    too_big = hrm("eval", "maze", "--weights", weights, "--sizes", "15", "--count", 2)
    assert too_big.returncode != 0 and "canvas" in too_big.stderr and "Traceback" not in too_big.stderr


def test_a_grid_rope_maze_model_reads_mazes_larger_than_its_training_canvas(tmp_path):
    """2-D RoPE leaves no weight tied to the canvas: eval and solve move the model to a canvas
    as large as the maze, and the default sets include 30x30 hard."""
    weights = tmp_path / "weights"
    trained = hrm("train", "maze", "--run", tmp_path / "run", "--steps", 2, "--canvas", 7, "--maze-size", 7,
                  "--pos-encodings", "rope2d", "--hidden-size", 32, "--heads", 2, "--h-layers", 1,
                  "--l-layers", 1, "--max-segments", 2, "--batch-size", 4, "--eval-size", 4, "--export", weights)
    assert trained.returncode == 0, trained.stderr
    evaluated = hrm("eval", "maze", "--weights", weights, "--sizes", "7,11,11hard-scattered", "--count", 2,
                    "--json", tmp_path / "eval.json")
    assert evaluated.returncode == 0, evaluated.stderr
    results = json.loads((tmp_path / "eval.json").read_text())["results"]
    assert [(r["set"], r["canvas"]) for r in results] == [("7x7", 7), ("11x11", 11), ("11x11 hard scattered", 11)]
    assert all(0 <= r["baseline_cell_accuracy"] <= 1 for r in results) and "all-path" in evaluated.stdout
    assert "2-D RoPE runs it on larger ones" in " ".join(evaluated.stdout.split())
    maze_file = tmp_path / "maze.txt"
    maze_file.write_text("\n".join(["#" * 13, "#S" + " " * 9 + "G#", "#" * 13]) + "\n")
    solved = hrm("solve", "maze", "--file", maze_file, "--jsonl", "--weights", weights)
    assert solved.returncode == 0, solved.stderr
    assert [len(row) for row in json.loads(solved.stdout)["prediction"]] == [13, 13, 13]
    from hrm_tui.evaluation import default_maze_sizes
    from models.checkpoint import load_weights

    assert default_maze_sizes(load_weights(weights).config) == "15,30hard,15-scattered,30hard-scattered"
    # The segment curve reads one run at several depths, beyond the trained maximum too; at the
    # trained depth it scores what a plain evaluation scores.
    curve = hrm("eval", "maze", "--weights", weights, "--sizes", "7,11,30hard-scattered", "--count", 3,
                "--segment-curve", "4,1,2,8", "--json", tmp_path / "curve.json", env={"COLUMNS": "80"})
    assert curve.returncode == 0, curve.stderr
    assert "…" not in curve.stdout and "30x30 hard scattered" in curve.stdout  # whole at 80 columns
    rows = json.loads((tmp_path / "curve.json").read_text())["results"]
    assert [(r["set"], r["segments"]) for r in rows][-1] == ("30x30 hard scattered", [1, 2, 4, 8])
    curve = hrm("eval", "maze", "--weights", weights, "--sizes", "7,11", "--count", 3, "--segment-curve", "4,1,2",
                "--json", tmp_path / "curve.json")
    assert curve.returncode == 0, curve.stderr
    recorded = json.loads((tmp_path / "curve.json").read_text())
    rows = recorded["results"]
    assert [(r["set"], r["segments"]) for r in rows] == [("7x7", [1, 2, 4]), ("11x11", [1, 2, 4])]
    assert recorded["views"] == 1 and "--views 1 " in recorded["flags"], recorded["flags"]  # one plain run, said so
    plain = hrm("eval", "maze", "--weights", weights, "--sizes", "7,11", "--count", 3, "--json", tmp_path / "plain.json")
    assert plain.returncode == 0, plain.stderr
    for row, ref in zip(rows, json.loads((tmp_path / "plain.json").read_text())["results"]):
        assert (row["exact_accuracy"][1], row["cell_accuracy"][1]) == (ref["exact_accuracy"], ref["cell_accuracy"])
    for bad in ("0,2", "x", "2,5000"):
        refused = hrm("eval", "maze", "--weights", weights, "--segment-curve", bad)
        assert refused.returncode == 2 and refused.stderr.startswith("error: --segment-curve")


@pytest.mark.parametrize("args, message", [
    (["solve", "sudoku", "123"], "81"),
    (["solve", "sudoku", "x" * 81], "character"),
    (["solve", "sudoku", "11" + "." * 79], "duplicate 1 in row 1"),
    (["solve", "sudoku"], "either a PUZZLE"),
    (["solve", "sudoku", "--file", "/nonexistent/puzzles.txt"], "no such file"),
    (["solve", "sudoku", PUZZLE, "--weights", "/nonexistent/weights"], "does not exist"),
    (["eval", "sudoku", "--levels", "impossible", "--weights", "/tmp"], "unknown level"),
    (["train", "sudoku", "--steps", "0"], "--steps"),
    (["train", "maze", "--maze-loops", "1.5"], "--maze-loops"),
    (["train", "sudoku", "--segment-gradient", "all"], "segment-gradient"),
    (["train", "sudoku", "--pos-encodings", "learned", "--absolute-positions", "--steps", "1"], "already is one"),
])
def test_bad_input_gets_one_line_error(args, message):
    result = hrm(*args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_path_overlap_tells_a_missed_path_from_extra_marks():
    from hrm_tui.data_sources import maze_eval_set
    from hrm_tui.evaluation import maze_path_overlap
    from hrm_tui.solving import PuzzleItem
    from puzzles.maze import every_open_cell_path
    from puzzles.maze.grid import PATH

    (maze,), (solution,) = maze_eval_set(7, 1, 0, False, "carved")
    item = PuzzleItem(maze, solution)
    path, opened = int((solution == PATH).sum()), int((every_open_cell_path(maze) == PATH).sum())
    assert maze_path_overlap([item], [solution]) == {"path_recall": 1.0, "path_precision": 1.0}
    assert maze_path_overlap([item], [every_open_cell_path(maze)]) == {"path_recall": 1.0,
                                                                       "path_precision": path / opened}
    assert maze_path_overlap([PuzzleItem(maze, None)], [solution]) == {}


def test_a_rope_model_warm_starts_with_an_absolute_position_table(tiny_weights, tmp_path):
    """--absolute-positions on top of a trained RoPE model's weights: the table starts at zero,
    and the card's command and model line say the run used it."""
    run = hrm("train", "sudoku", "--run", tmp_path / "run", "--steps", 2, "--hidden-size", 64, "--heads", 2,
              "--h-layers", 1, "--l-layers", 1, "--h-cycles", 1, "--l-cycles", 2, "--max-segments", 2,
              "--batch-size", 4, "--eval-size", 4, "--loss", "softmax", "--absolute-positions",
              "--init-from", tiny_weights / "weights", "--export", tmp_path / "weights")
    assert run.returncode == 0, run.stderr
    card = (tmp_path / "weights" / "card.md").read_text()
    assert "--absolute-positions" in card and "RoPE positions + learned absolute positions" in card
    assert json.loads((tmp_path / "weights" / "config.json").read_text())["absolute_positions"] is True


def test_a_run_can_start_from_another_models_weights_on_a_larger_canvas(tmp_path):
    """--init-from grows a size-free maze model stage by stage; a model whose tensors differ,
    or a 1-D RoPE one on another canvas, is refused in one line."""
    tiny = ["--hidden-size", 32, "--heads", 2, "--h-layers", 1, "--l-layers", 1, "--max-segments", 2,
            "--batch-size", 4, "--eval-size", 4]
    for run, canvas, positions in (("small", 5, "rope2d"), ("flat", 5, "rope")):
        made = hrm("train", "maze", "--run", tmp_path / run, "--steps", 2, "--canvas", canvas, "--maze-size", 5,
                   "--pos-encodings", positions, *tiny)
        assert made.returncode == 0, made.stderr
    grown = hrm("train", "maze", "--run", tmp_path / "grown", "--steps", 1, "--canvas", 7, "--maze-size", 7,
                "--pos-encodings", "rope2d", "--init-from", tmp_path / "small", *tiny)
    assert grown.returncode == 0, grown.stderr
    assert "started from the weights of" in grown.stdout + grown.stderr
    options = json.loads((tmp_path / "grown" / "options.json").read_text())
    assert options["init_from"] == str(tmp_path / "small")
    wider = hrm("train", "maze", "--run", tmp_path / "wider", "--steps", 1, "--canvas", 7, "--maze-size", 7,
                "--pos-encodings", "rope2d", "--init-from", tmp_path / "small", *tiny, "--hidden-size", 64)
    assert wider.returncode != 0 and "has shape" in wider.stderr and "Traceback" not in wider.stderr
    flat = hrm("train", "maze", "--run", tmp_path / "flat7", "--steps", 1, "--canvas", 7, "--maze-size", 7,
               "--init-from", tmp_path / "flat", *tiny)
    assert flat.returncode != 0 and "tie it to a 5x5 grid" in flat.stderr and "Traceback" not in flat.stderr


@pytest.mark.parametrize("columns", ["80", "120", None])
def test_single_solve_keeps_every_number_of_the_segment_table_whole(columns):
    """At 80 columns, wider, and with no terminal (piped, no COLUMNS) the segment table shows
    whole numbers: probabilities with 3 decimals and the signed Q margin; the verdict folds."""
    import re

    env = {**os.environ, "HRM_BLAS_THREADS": "1"}
    env.pop("COLUMNS", None)
    if columns:
        env["COLUMNS"] = columns
    result = subprocess.run([sys.executable, "-m", "hrm_tui", "solve", "sudoku", PUZZLE, "--views", "1",
                             "--max-segments", "3"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    assert all(len(line) <= int(columns or 80) for line in result.stdout.splitlines())
    rows = [line for line in result.stdout.splitlines() if re.match(r"^\s+[123] │", line)]
    assert len(rows) == 3
    for row in rows:
        q_halt, q_cont, margin = row.split("│")[1:4]
        assert re.fullmatch(r"\s*[01]\.\d{3}\s*", q_halt) and re.fullmatch(r"\s*[01]\.\d{3}\s*", q_cont)
        assert re.fullmatch(r"\s*[+-]\d+\.\d\d\s*", margin)


def test_a_maze_model_with_a_distance_head_trains_resumes_and_answers(tmp_path):
    """--distance-classes adds the auxiliary wavefront loss: the log reports its accuracy, the
    run resumes, and the exported model answers and evaluates like any other."""
    weights = tmp_path / "weights"
    options = ["train", "maze", "--run", tmp_path / "run", "--canvas", 7, "--maze-size", 7, "--maze-min-size", 5,
               "--maze-style", "all", "--pos-encodings", "rope2d", "--attention-window", 3, "--distance-classes", 8,
               "--hidden-size", 32, "--heads", 2, "--h-layers", 1, "--l-layers", 1, "--max-segments", 2,
               "--batch-size", 4, "--eval-size", 4, "--log-every", 2, "--checkpoint-every", 2]
    first = hrm(*options, "--steps", 4)
    assert first.returncode == 0, first.stderr
    resumed = hrm(*options, "--steps", 6, "--export", weights)
    assert resumed.returncode == 0, resumed.stderr
    logged = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if "distance_accuracy" in r][-1] == 6
    assert all(0 <= r["distance_accuracy"] <= 1 for r in logged if "distance_accuracy" in r)
    assert json.loads((weights / "config.json").read_text())["distance_classes"] == 8
    evaluated = hrm("eval", "maze", "--weights", weights, "--sizes", "9", "--count", 2)
    assert evaluated.returncode == 0, evaluated.stderr
    for bad in (["maze", "--distance-classes", "1"], ["sudoku", "--distance-classes", "4"]):
        refused = hrm("train", *bad, "--run", tmp_path / "bad", "--steps", 1)
        assert refused.returncode == 2 and "--distance-classes" in refused.stderr and "Traceback" not in refused.stderr
