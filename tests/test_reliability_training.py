"""Issue 8, training faults: `kill -9` at random moments, Ctrl-C and SIGTERM, a failed write
(file-size limit standing in for a full disk), a NaN loss, and the crash windows inside
the run directory. Nothing trained may be lost, and a resumed run must end with exactly the
weights (every byte of every safetensors group) of a run that was never interrupted.

All runs are the real `hrm train` on a tiny model that checkpoints every step, so kills and
signals land in the middle of checkpoint writes as often as in training steps.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

from models.checkpoint import RunDir, load_run_model, model_arrays
from models.errors import ModelError
from models.training import NonFiniteLoss, TrainConfig, Trainer, TrainingInterrupted
from test_reliability_support import TINY_TRAIN, error_lines, hrm, hrm_command, hrm_env

STEPS = 400  # room for 12 kills: a fast machine runs ~12 tiny steps between a kill and the next one
GROUPS = ("model", "ema", "optimizer", "carry")


def train_args(run: Path, steps: int = STEPS, *extra) -> list:
    return ["train", "sudoku", "--run", run, "--steps", steps, *TINY_TRAIN, *extra]


def start_training(run: Path, steps: int = STEPS, *extra) -> subprocess.Popen:
    return subprocess.Popen(hrm_command(*train_args(run, steps, *extra)), env=hrm_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def latest_step(run: Path) -> int:
    latest = RunDir(run).latest()
    return int(latest.name.rsplit("-", 1)[1]) if latest else 0


def wait_for_step(proc: subprocess.Popen, run: Path, step: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if (reached := latest_step(run)) >= step:
            return reached
        time.sleep(0.02)
    return latest_step(run)


def final_files(run: Path, steps: int = STEPS) -> dict[str, bytes]:
    ckpt = run / "checkpoints" / f"step-{steps:08d}"
    return {group: (ckpt / f"{group}.safetensors").read_bytes() for group in GROUPS}


def assert_loadable(run: Path) -> int:
    """The latest checkpoint loads completely (all groups, state, model); its step."""
    latest = RunDir(run).latest()
    assert latest is not None, f"no checkpoint in {run}"
    groups, state = RunDir.load(latest)
    assert set(GROUPS) <= set(groups) and state["step"] == int(latest.name.rsplit("-", 1)[1])
    load_run_model(run)
    return state["step"]


def assert_same_training(run: Path, reference: Path) -> None:
    """Same final bytes in every group and the same loss curve, step for step."""
    assert final_files(run) == final_files(reference)
    curve = lambda r: [(x["step"], x["loss"]) for x in RunDir(r).read_log()]  # noqa: E731
    assert curve(run) == curve(reference)
    assert [x[0] for x in curve(run)] == list(range(1, STEPS + 1))


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted reference run (started at once, in parallel with the test using it)."""
    run = tmp_path_factory.mktemp("straight") / "run"
    proc = start_training(run)

    def finished() -> Path:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        return run

    yield finished
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_kill_9_at_random_moments_never_loses_a_checkpoint(straight, tmp_path):
    """At least 10 SIGKILLs at random moments (start-up, training steps, checkpoint writes,
    resumes): after each one the latest checkpoint loads and is no older than before, and
    the run resumed after the last one ends byte-identical to the uninterrupted run."""
    run = tmp_path / "run"
    rng = random.Random(8)
    kills, mid_write, previous = 0, 0, 0
    while kills < 12:
        proc = start_training(run)
        if kills < 2:  # anywhere from interpreter start-up on
            time.sleep(rng.uniform(0.0, 2.5))
        else:  # once it has made progress, so the run keeps moving towards the end
            # a short random delay: long enough to land inside steps and checkpoint writes,
            # short enough that a slow or busy poller still gets its 10 kills before the run ends
            wait_for_step(proc, run, previous + 1)
            time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is not None:  # finished (or failed) before the kill
            assert proc.returncode == 0, proc.stderr.read()
            break
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        kills += 1
        leftovers = [p.name for p in (run / "checkpoints").glob(".*")] if (run / "checkpoints").is_dir() else []
        mid_write += bool(leftovers)
        if previous or RunDir(run).latest():
            step = assert_loadable(run)
            assert step >= previous, f"kill {kills} lost checkpoints: step {step} after {previous}"
            previous = step
    assert kills >= 10, f"only {kills} kills landed before the run finished"
    result = hrm(*train_args(run))
    assert result.returncode == 0, result.stderr
    assert not list((run / "checkpoints").glob(".*")), "a killed writer's leftovers were not cleaned up"
    assert_same_training(run, straight())
    print(f"\nkill -9: {kills} kills ({mid_write} inside a checkpoint write), last checkpoint before the "
          f"final resume at step {previous}; final weights identical to the uninterrupted run")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_signal_saves_the_step_reached_and_exits_cleanly(straight, tmp_path, sig, code):
    run = tmp_path / "run"
    proc = start_training(run)
    wait_for_step(proc, run, 3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    note = [line for line in err.splitlines() if "interrupted" in line]
    assert len(note) == 1 and "checkpoint saved in" in note[0], err
    step = assert_loadable(run)
    assert f"interrupted at step {step};" in note[0]
    assert not list((run / "checkpoints").glob(".*"))
    if sig == signal.SIGINT:  # (SIGTERM takes the same path; resuming once is enough)
        result = hrm(*train_args(run))
        assert result.returncode == 0 and f"resumed {run} at step {step}" in result.stderr, result.stderr
        assert_same_training(run, straight())


def _train_with(preamble: str, run: Path, steps: int) -> subprocess.CompletedProcess:
    """`hrm train` (its real `main()`) in a subprocess that first runs `preamble`."""
    code = (preamble + "\nimport sys\nfrom hrm_tui.cli import main\n"
            f"sys.argv = ['hrm'] + {[str(a) for a in train_args(run, steps)]!r}\nmain()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=hrm_env(), timeout=120)


def _fsize_limited_train(run: Path, limit: int, steps: int) -> subprocess.CompletedProcess:
    """No file may grow past `limit` bytes: writes fail with EFBIG exactly as on a full disk
    (SIGXFSZ ignored), through MLX's own writer as well as Python's."""
    return _train_with("import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                       f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))", run, steps)


READ_ONLY_CHECKPOINTS = """
import errno, tempfile
_mkdtemp = tempfile.mkdtemp
def mkdtemp(*args, dir=None, **kwargs):  # what a read-only checkpoints/ does, even to root
    if dir is not None and str(dir).endswith("checkpoints"):
        raise PermissionError(errno.EACCES, "Permission denied", str(dir))
    return _mkdtemp(*args, dir=dir, **kwargs)
tempfile.mkdtemp = mkdtemp
"""


def test_read_only_checkpoint_directory_keeps_the_previous_one_and_says_so(tmp_path):
    run = tmp_path / "run"
    assert hrm(*train_args(run, 2)).returncode == 0
    before = final_files(run, 2)
    result = _train_with(READ_ONLY_CHECKPOINTS, run, 4)
    errors = [line for line in error_lines(result) if line.startswith("error:")]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(errors) == 1 and "Permission denied; the previous checkpoint" in errors[0], result.stderr
    assert final_files(run, 2) == before and assert_loadable(run) == 2


def test_failed_checkpoint_write_keeps_the_previous_one_and_says_so(tmp_path):
    run = tmp_path / "run"
    first = hrm(*train_args(run, 3))
    assert first.returncode == 0, first.stderr
    before = final_files(run, 3)
    model_bytes = len(before["model"])
    result = _fsize_limited_train(run, model_bytes // 2, 6)  # every checkpoint write now fails
    errors = [line for line in error_lines(result) if line.startswith("error:")]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(errors) == 1 and "could not write checkpoint" in errors[0], result.stderr
    assert f"the previous checkpoint {run / 'checkpoints' / 'step-00000003'} is intact" in errors[0]
    assert final_files(run, 3) == before and assert_loadable(run) == 3
    assert not list((run / "checkpoints").glob(".*")), "temporary files of the failed write were left behind"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories anyway")
def test_read_only_run_directory_is_reported_in_one_line(tmp_path):
    run = tmp_path / "run"
    assert hrm(*train_args(run, 2)).returncode == 0
    (run / "checkpoints").chmod(0o555)
    try:
        result = hrm(*train_args(run, 4))
    finally:
        (run / "checkpoints").chmod(0o755)
    errors = [line for line in error_lines(result) if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert assert_loadable(run) == 2


def test_nan_loss_stops_without_writing_poisoned_weights(tmp_path):
    run = tmp_path / "run"
    result = hrm(*train_args(run, 20, "--lr", 1e30, "--warmup", 0))
    errors = [line for line in error_lines(result) if line.startswith("error:")]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(errors) == 1 and "stopped without saving" in errors[0], result.stderr
    assert "became nan" in errors[0] or "NaN or inf" in errors[0]
    for ckpt in RunDir(run).checkpoints():  # every checkpoint written is finite and loads
        load_run_model(run, checkpoint=ckpt)


# -- in-process: the same guarantees at the level of RunDir and Trainer -----------------------

TINY = dict(vocab_size=11, seq_len=16, hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=1,
            L_cycles=1, halt_max_steps=2, puzzle_emb_ndim=32, grid_shape=(4, 4))


class CopySource:
    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def next_batch(self):
        x = self.rng.integers(1, 11, size=(4, 16)).astype(np.int32)
        return {"inputs": x, "labels": x.copy(), "puzzle_identifiers": np.zeros(4, np.int32)}

    def state(self):
        return {"rng": self.rng.bit_generator.state}

    def restore(self, state):
        self.rng.bit_generator.state = state["rng"]


def tiny_trainer(run: Path | None, **train) -> Trainer:
    from models.config import HRMConfig

    cfg = TrainConfig(**{"batch_size": 4, "lr": 1e-3, "lr_warmup_steps": 0, "total_steps": 20,
                         "checkpoint_every": 100, "log_every": 1, **train})
    return Trainer(HRMConfig(**TINY), cfg, CopySource(), run_dir=run)


def test_second_signal_stops_at_once_without_saving(tmp_path):
    trainer = tiny_trainer(tmp_path / "run", checkpoint_every=2)
    calls, previous = [], signal.getsignal(signal.SIGINT)

    def signal_twice():
        calls.append(1)
        if len(calls) == 4:  # after step 3: the checkpoint of step 2 exists
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return False

    with pytest.raises(TrainingInterrupted) as stop:
        trainer.run_steps(should_stop=signal_twice)
    assert not stop.value.saved and stop.value.step == 3
    assert [p.name for p in trainer.run.checkpoints()] == ["step-00000002"]
    assert signal.getsignal(signal.SIGINT) is previous  # handlers restored


def test_one_signal_stops_at_the_step_boundary_and_saves(tmp_path):
    trainer = tiny_trainer(tmp_path / "run")
    calls, previous = [], signal.getsignal(signal.SIGTERM)

    def signal_once():
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return False

    with pytest.raises(TrainingInterrupted) as stop:
        trainer.run_steps(should_stop=signal_once)
    # the signal came before step 3 began: step 3 completes, is saved, and training stops
    assert stop.value.saved and stop.value.signum == signal.SIGTERM and stop.value.step == 3
    assert trainer.run.latest().name == "step-00000003"
    assert signal.getsignal(signal.SIGTERM) == previous


def test_save_refuses_non_finite_weights(tmp_path):
    trainer = tiny_trainer(tmp_path / "run")
    trainer.run_steps(num_steps=1)
    trainer.model.lm_head.weight = mx.full(trainer.model.lm_head.weight.shape, float("nan"))
    with pytest.raises(NonFiniteLoss, match="NaN or inf at step 1"):
        trainer.save()
    load_run_model(tmp_path / "run")  # the step-1 checkpoint is still the clean one


def _one_checkpoint(run: Path, step: int) -> dict:
    from models.config import HRMConfig
    from models.hrm import HRM

    arrays = {"model": model_arrays(HRM(HRMConfig(**TINY)))}
    state = {"step": step, "model_config": HRMConfig(**TINY).to_dict()}
    return RunDir(run).save(step, arrays, state), arrays, state


def test_a_write_failing_half_way_leaves_no_trace(tmp_path, monkeypatch):
    import models.checkpoint as checkpoint

    run = tmp_path / "run"
    _, arrays, state = _one_checkpoint(run, 1)
    real = checkpoint.save_arrays
    calls = []

    def fail_second(path, tree):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, tree)

    monkeypatch.setattr(checkpoint, "save_arrays", fail_second)
    with pytest.raises(ModelError, match="No space left on device; the previous checkpoint .*step-00000001 is intact"):
        RunDir(run).save(2, {"model": arrays["model"], "optimizer": arrays["model"]}, {**state, "step": 2})
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-00000001"]


def test_a_kill_between_the_renames_of_a_resave_is_recovered(tmp_path):
    """Re-saving step N renames the old copy aside first; killed right there, readers still
    find step N in the aside and the next writer puts it back."""
    run = tmp_path / "run"
    ckpt, _, _ = _one_checkpoint(run, 5)
    aside = ckpt.with_name(".old-" + ckpt.name)
    os.replace(ckpt, aside)  # the state a kill between the two renames leaves
    assert RunDir(run).latest() == aside
    load_run_model(run)
    RunDir(run).create()
    assert RunDir(run).latest() == ckpt and not aside.exists()


def test_a_kill_while_replacing_best_keeps_a_best(tmp_path):
    run = tmp_path / "run"
    rundir = RunDir(run)
    ckpt, arrays, state = _one_checkpoint(run, 1)
    rundir.save(2, arrays, {**state, "step": 2}, is_best=True)
    best = run / "checkpoints" / "best"
    os.replace(best, best.with_name(".old-best"))  # killed after moving the old best aside
    assert rundir.best() == best.with_name(".old-best")
    rundir.create()
    assert rundir.best() == best and json.loads((best / "state.json").read_text())["step"] == 2


def test_leftover_temporary_directories_are_ignored_then_removed(tmp_path):
    run = tmp_path / "run"
    _one_checkpoint(run, 1)
    junk = run / "checkpoints" / ".tmp-step-00000002-abc"
    junk.mkdir()
    (junk / "model.safetensors").write_bytes(b"half a file")
    assert RunDir(run).latest().name == "step-00000001"
    RunDir(run).create()
    assert not junk.exists()


def test_a_log_line_cut_by_a_kill_is_skipped(tmp_path):
    rundir = RunDir(tmp_path / "run")
    rundir.create()
    rundir.append_log({"step": 1, "loss": 2.0})
    with open(rundir.log_path, "a") as fh:
        fh.write('{"step": 2, "lo')
    assert rundir.read_log() == [{"step": 1, "loss": 2.0}]
    rundir.truncate_log(1)
    assert rundir.log_path.read_text() == '{"step": 1, "loss": 2.0}\n'
