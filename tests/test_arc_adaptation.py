"""The whole ARC path for real with a tiny model: train it for a few seconds on a synthetic
task family, answer with voted views, adapt to an unseen task of the family, and drive
`hrm adapt` / `hrm solve arc` / `hrm eval arc` through the CLI.

The family: "recolour every coloured cell to the task's colour k" on random grids up to 4x4
(5x5 canvas). The rule's parameter lives only in the task's puzzle embedding, so a task the
model never saw is unanswerable until adaptation learns its embedding from three
demonstrations; colour-permutation views change k, symmetry views test the inverse mapping.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hrm_tui.arc.adaptation import AdaptSettings, adapt, fitted_fraction
from hrm_tui.arc.evaluation import score
from hrm_tui.arc.solving import answer_tasks
from hrm_tui.arc.training import ArcSource, TaskData, plan_tasks
from models.checkpoint import load_weights, model_arrays, save_weights
from models.config import HRMConfig
from models.training import TrainConfig, Trainer
from puzzles.arc.task import ArcTask, Pair

pytestmark = pytest.mark.slow
CANVAS = 5
# Eager training: a tiny model gains nothing from compiled kernels, and a fresh machine would
# first spend most of a minute compiling them.
NO_COMPILE = {"HRM_COMPILE": "0"}


@pytest.fixture(scope="module", autouse=True)
def eager_training():
    with pytest.MonkeyPatch.context() as patch:
        for name, value in NO_COMPILE.items():
            patch.setenv(name, value)
        yield


def recolour_pairs(k: int, rng: np.random.Generator, count: int) -> tuple[Pair, ...]:
    pairs = []
    for _ in range(count):
        h, w = rng.integers(2, 5, size=2)
        g = (rng.integers(1, 10, (h, w)) * (rng.random((h, w)) < 0.6)).astype(np.uint8)
        pairs.append(Pair(g, np.where(g > 0, k, 0).astype(np.uint8)))
    return tuple(pairs)


def new_task(k: int, seed: int) -> ArcTask:
    rng = np.random.default_rng(seed)
    return ArcTask(f"recolour-{k}-new", recolour_pairs(k, rng, 3), recolour_pairs(k, rng, 2))


def task_json(task: ArcTask, with_outputs=True) -> str:
    def pair(p, output):
        return {"input": p.input.tolist(), **({"output": p.output.tolist()} if output else {})}

    return json.dumps({"train": [pair(p, True) for p in task.train],
                       "test": [pair(p, with_outputs) for p in task.test]})


def pretrain(directory, **config_fields):
    """Nine family members (one per colour), 40 pairs each in 4 views, trained ~200 steps."""
    rng = np.random.default_rng(0)
    tasks = [TaskData(f"recolour-{k}", recolour_pairs(k, rng, 40), held_out=recolour_pairs(k, rng, 2))
             for k in range(1, 10)]
    plan = plan_tasks(tasks, CANVAS, augment=3, seed=0)
    config = HRMConfig(puzzle_kind="arc", vocab_size=12, seq_len=CANVAS ** 2, grid_shape=(CANVAS, CANVAS),
                       num_puzzle_identifiers=plan.num_puzzle_identifiers, puzzle_emb_ndim=32, hidden_size=32,
                       num_heads=2, H_layers=1, L_layers=1, H_cycles=1, L_cycles=2, halt_max_steps=2,
                       loss_type="softmax", extra=plan.info.to_extra(), **config_fields)
    trainer = Trainer(config, TrainConfig(batch_size=32, total_steps=200, lr=3e-3, lr_warmup_steps=10,
                                          puzzle_emb_lr=3e-2, log_every=50),
                      ArcSource(plan.examples, CANVAS, 32, seed=0))
    trainer.run_steps()
    save_weights(directory, trainer.model)
    return directory, plan


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    return pretrain(tmp_path_factory.mktemp("arc") / "weights")


@pytest.fixture(scope="module")
def size_free(tmp_path_factory):
    """The same with 2-D RoPE: no weight is tied to the 5x5 canvas."""
    return pretrain(tmp_path_factory.mktemp("arc-rope2d") / "weights", pos_encodings="rope2d")


def test_trained_tasks_answer_new_inputs_through_their_learned_views(pretrained):
    directory, plan = pretrained
    model = load_weights(directory, expected_kind="arc")
    tasks = [ArcTask(name, (), tuple(Pair(ex.input, ex.output) for ex in plan.held_out
                                     if ex.identifier == views[0].identifier))
             for name, views in plan.info.task_views.items()]
    answers = answer_tasks(model, tasks)
    assert all(a.learned and a.views == 4 for a in answers)
    assert score(answers)["pass_at_2"] >= 0.9


def test_a_test_input_larger_than_the_canvas_gets_placeholder_attempts_not_an_error(pretrained):
    directory, _ = pretrained
    big = np.ones((6, 6), np.uint8)
    (answer,) = answer_tasks(load_weights(directory), [ArcTask("big", (), (Pair(big, 2 * big),))])
    assert answer.views == 0 and answer.voted == 0 and not answer.correct
    assert [a.shape for a in answer.attempts] == [(6, 6), (6, 6)]


def test_a_size_free_model_answers_grids_larger_than_its_canvas(size_free, tmp_path):
    directory, plan = size_free
    model = load_weights(directory)
    rng = np.random.default_rng(5)
    big = (rng.integers(1, 10, (7, 6)) * (rng.random((7, 6)) < 0.6)).astype(np.uint8)
    name = next(iter(plan.info.task_views))  # recolour-1: every coloured cell becomes 1
    (answer,) = answer_tasks(model, [ArcTask(name, (), (Pair(big, np.where(big > 0, 1, 0).astype(np.uint8)),))])
    assert answer.views == 4 and answer.voted >= 1  # the model's own answers, read on a 7x7 canvas
    assert answer.correct
    # The same through the batch contract: no placeholder note, and the model's attempts.
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"train": [{"input": [[3]], "output": [[1]]}], "test": [{"input": big.tolist()}]}))
    result = hrm("solve", "arc", "--file", path, "--jsonl", "--weights", directory)
    assert result.returncode == 0 and "placeholder" not in result.stderr
    assert json.loads(result.stdout)["views"] == 8


def test_a_size_free_model_adapts_on_the_task_s_own_canvas(size_free):
    directory, _ = size_free
    rng = np.random.default_rng(3)
    pairs = recolour_pairs(4, rng, 3) + (Pair(np.full((6, 7), 2, np.uint8), np.full((6, 7), 4, np.uint8)),)
    task = ArcTask("recolour-4-large", pairs, recolour_pairs(4, rng, 1))
    adapted = adapt(load_weights(directory), task, AdaptSettings(seconds=20, max_steps=5, batch_size=8, seed=0))
    assert adapted.steps > 0 and adapted.model.config.extra["canvas"] == 7
    assert adapted.model.config.grid_shape == (7, 7)
    (answer,) = answer_tasks(adapted.model, [task])
    assert answer.views == 8


def test_adaptation_learns_an_unseen_task_from_its_demonstrations(pretrained):
    directory, _ = pretrained
    base = load_weights(directory)
    before = model_arrays(base)
    task = new_task(k=6, seed=11)
    assert not answer_tasks(base, [task])[0].learned
    adapted = adapt(base, task, AdaptSettings(seconds=30, batch_size=16, seed=0))
    assert adapted.stopped == "fitted" and adapted.steps > 0
    assert fitted_fraction(adapted.model, task) == 1.0
    answers = answer_tasks(adapted.model, [task])
    assert all(a.learned and a.correct for a in answers)
    # The base model is untouched; the adapted one keeps every old row and adds 8 new ones.
    after = model_arrays(adapted.model)
    cfg = adapted.model.config
    assert cfg.num_puzzle_identifiers == base.config.num_puzzle_identifiers + 8
    assert cfg.extra["task_ids"][task.name] == base.config.num_puzzle_identifiers
    for name, value in model_arrays(base).items():
        np.testing.assert_array_equal(np.array(value), np.array(before[name]))
        if name != "puzzle_emb":
            np.testing.assert_array_equal(np.array(after[name]), np.array(value), err_msg=name)
    np.testing.assert_array_equal(np.array(after["puzzle_emb"])[: base.config.num_puzzle_identifiers],
                                  np.array(before["puzzle_emb"]))


def hrm(*args, timeout=120):
    env = {**os.environ, **NO_COMPILE, "HRM_BLAS_THREADS": "1", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "hrm_tui", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_hrm_adapt_then_solve_with_the_saved_weights(pretrained, tmp_path):
    directory, _ = pretrained
    task = new_task(k=4, seed=12)
    path = tmp_path / "mytask.json"
    path.write_text(task_json(task))
    result = hrm("adapt", path, "--weights", directory, "--seconds", 30, "--jsonl",
                 "--out", tmp_path / "attempts.json", "--save", tmp_path / "adapted")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["index"] for r in records] == [0, 1]
    assert all(r["correct"] and r["learned_task"] and len(r["attempts"]) == 2 for r in records), result.stderr
    assert records[0]["attempts"][0] == task.test[0].output.tolist()
    submission = json.loads((tmp_path / "attempts.json").read_text())
    assert list(submission) == ["mytask"] and set(submission["mytask"][0]) == {"attempt_1", "attempt_2"}
    assert "reproduces 100%" in result.stderr
    solved = hrm("solve", "arc", "--file", path, "--jsonl", "--weights", tmp_path / "adapted")
    assert solved.returncode == 0, solved.stderr
    assert [json.loads(line)["correct"] for line in solved.stdout.splitlines()] == [True, True]
    shown = hrm("solve", "arc", "--file", path, "--weights", tmp_path / "adapted")
    assert shown.returncode == 0 and "attempt 1" in shown.stdout and "solved" in shown.stdout


@pytest.mark.parametrize("content, message", [
    ('{"train": [', "malformed JSON"),
    ('{"train": [{"input": [[1]], "output": [[12]]}], "test": [{"input": [[1]]}]}', "expected a colour 0-9"),
    ('{"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": [{"input": [[1]]}]}', "grids are rectangular"),
    ('{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1, 2, 3, 4, 5, 6]]}]}',
     "test input 1 is 1x6; these weights use a 5x5 canvas"),
])
def test_bad_tasks_get_one_line_errors(pretrained, tmp_path, content, message):
    directory, _ = pretrained
    path = tmp_path / "task.json"
    path.write_text(content)
    commands = [("adapt", path, "--seconds", 1)] + ([] if "canvas" in message else [("solve", "arc", "--file", path, "--jsonl")])
    for command in commands:
        result = hrm(*command, "--weights", directory)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("budget", [[], ["--budget", 1]])
def test_a_valid_task_larger_than_the_canvas_is_still_answered(pretrained, tmp_path, budget):
    """The batch contract answers every well-formed task: two attempts, with a note, no exit;
    with a budget too (nothing to train for: no test input fits)."""
    directory, _ = pretrained
    path = tmp_path / "task.json"
    path.write_text('{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1, 2, 3, 4, 5, 6]]}]}')
    result = hrm("solve", "arc", "--file", path, "--jsonl", "--weights", directory, *budget)
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(record["attempts"]) == 2 and record["voted"] == 0
    assert "test input 1 is 1x6; these weights use a 5x5 canvas" in result.stderr and "placeholders" in result.stderr
    assert ("not trained: no test input fits the canvas" in result.stderr) == bool(budget)


def test_missing_weights_and_unknown_task_ids_are_one_line_errors(tmp_path):
    result = hrm("solve", "arc", "--file", tmp_path / "none.json", "--weights", tmp_path)
    assert result.returncode == 2 and "no such file" in result.stderr
    result = hrm("solve", "arc", "notatask", "--weights", tmp_path / "missing")
    assert result.returncode == 2 and "not an ARC-AGI-1 task id" in result.stderr


def test_eval_reports_pass_at_2_next_to_the_reference_and_writes_the_card_json(pretrained, tmp_path):
    from hrm_tui.arc.evaluation import eval_arc_cli

    directory, _ = pretrained
    report = eval_arc_cli(directory, "evaluation", None, tmp_path / "eval.json", limit=5)
    saved = json.loads((tmp_path / "eval.json").read_text())
    assert saved == report
    assert saved["kind"] == "arc" and "--limit 5" in saved["command"]
    (row,) = saved["results"]
    assert row["puzzles"] == 5 and {"set", "exact_accuracy", "cell_accuracy", "mean_segments"} <= set(row)
    assert saved["reference"]["HRM paper (27M parameters, ARC-AGI-1)"] == 0.403


# -- test-time training (`--budget`) ----------------------------------------------------------

def test_test_time_training_holds_out_a_demonstration_and_keeps_to_its_budget(pretrained):
    from hrm_tui.arc.test_time import answer_with_budget, train_for_task

    directory, _ = pretrained
    base = load_weights(directory)
    task = new_task(k=7, seed=13)
    records = []
    trained = train_for_task(base, task, budget=3.0, on_log=records.append)
    adapted = trained.adapted
    assert adapted is not None and adapted.stopped in ("budget", "held-out solved", "fitted")
    assert adapted.cpu_seconds < 3.0 + 2.0  # the last step and the last held-out answer may run over
    # The held-out (last) demonstration is answered as a test input every 5 steps; the kept state is the best.
    checked = [r for r in records if r["step"] % 5 == 0]
    assert checked and all("held_out_cells" in r and "cpu_seconds" in r for r in checked)
    assert 0 <= adapted.held_out["step"] <= adapted.steps
    assert trained.model.config.extra["task_views"][task.name]  # answered with its own new views
    answers, results = answer_with_budget(base, [task], 0)
    assert results == [] and not answers[0].learned  # budget 0: as before, untrained


def test_solve_arc_with_a_budget_keeps_the_batch_contract_and_shows_progress_on_stderr(pretrained, tmp_path):
    directory, _ = pretrained
    task = new_task(k=3, seed=14)
    path = tmp_path / "mytask.json"
    path.write_text(task_json(task))
    result = hrm("solve", "arc", "--file", path, "--jsonl", "--weights", directory, "--budget", 2)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]  # stdout holds JSON lines only
    assert [r["index"] for r in records] == [0, 1]
    for record in records:
        assert set(record) == {"task", "index", "attempts", "voted", "views", "learned_task", "segments", "correct"}
        assert len(record["attempts"]) == 2 and record["learned_task"] and record["views"] == 4
    assert "test-time training mytask: " in result.stderr and "CPU s" in result.stderr


@pytest.mark.parametrize("command", [("solve", "arc", "--jsonl"), ("eval", "arc")])
@pytest.mark.parametrize("value, message", [("-1", "--budget must be a number of CPU seconds >= 0, got -1"),
                                            ("nan", "--budget must be a number of CPU seconds >= 0")])
def test_a_bad_budget_is_a_one_line_error(tmp_path, command, value, message):
    path = tmp_path / "task.json"
    path.write_text(task_json(new_task(k=2, seed=15)))
    result = hrm(*command, *(["--file", path] if command[0] == "solve" else []), "--budget", value)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout
    other = hrm("solve", "sudoku", "--budget", "3", "." * 81)
    assert other.returncode == 2 and "--budget is for arc" in other.stderr


def test_eval_scores_a_task_sample_with_a_budget_and_says_what_training_cost(pretrained, tmp_path):
    from hrm_tui.arc.evaluation import eval_arc_cli

    directory, _ = pretrained
    sample = tmp_path / "sample.txt"
    sample.write_text("# two tasks\n00576224\n0692e18c  # every grid fits 10x10, not this 5x5 canvas\n")
    report = eval_arc_cli(directory, "evaluation", None, tmp_path / "eval.json", budget=1, sample=sample)
    assert report["summary"]["tasks"] == 2 and "--tasks" in report["command"] and "--budget 1" in report["command"]
    trained = report["summary"]["test_time"]
    assert trained["budget_cpu_seconds"] == 1 and [t["task"] for t in trained["per_task"]] == ["00576224", "0692e18c"]
    assert trained["cpu_seconds_per_task"] > 0
    sample.write_text("nota-task\n")
    with pytest.raises(Exception, match="'nota-task' is not an ARC-AGI-1 evaluation task id"):
        eval_arc_cli(directory, "evaluation", None, None, sample=sample)
