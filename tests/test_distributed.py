"""Data-parallel training (models/distributed.py): the helpers are no-ops for one process, and
`hrm train` launched on 2 local ranks by `mlx.launch` (ring backend) follows the single-process
run on the same global batch, with only rank 0 writing, and resumes across rank counts.

Tolerance: final weights, EMA and optimiser state within 1e-5 absolute of the single-process
run, logged losses within 1e-5 relative (measured: 1e-7, 4e-9 and 4e-7; the only difference
is the order of float sums in the gradient average). Without the gather of the sparse update
the puzzle embedding differs by 0.6 and every other weight by 1e-3 after 3 steps."""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

from hrm_tui.recipes import cores_sentence, read_run
from models import distributed as dist
from models.checkpoint import RunDir
from models.errors import ModelError

pytestmark = pytest.mark.slow

LAUNCH = shutil.which("mlx.launch", path=str(Path(sys.executable).parent))
TINY = ["--hidden-size", 32, "--heads", 2, "--h-layers", 1, "--l-layers", 1, "--h-cycles", 1, "--l-cycles", 2,
        "--max-segments", 3, "--batch-size", 8, "--warmup", 0, "--lr", 1e-3, "--ema", 0.9, "--checkpoint-every", 2,
        "--eval-every", 3, "--eval-size", 4, "--log-every", 1, "--seed", 5]
WEIGHTS_ATOL = 1e-5
LOSS_RTOL = 1e-5


def test_one_process_is_a_world_of_one_and_every_helper_is_the_identity():
    w = dist.world()
    assert (w.rank, w.size, w.is_main) == (0, 1, True)
    tree = {"a": mx.arange(6).reshape(3, 2), "b": mx.array([True, False, True])}
    for helper in (dist.shard_rows, dist.gather_rows, dist.average_gradients, dist.sum_scalars, dist.from_main):
        assert helper(tree, w) is tree
    assert dist.any_rank(True, w) is True and dist.any_rank(False, w) is False
    dist.check_same("anything", "configuration", w)


def test_ranks_keep_contiguous_blocks_of_the_global_batch():
    batch = {"inputs": np.arange(8)[:, None], "ids": np.arange(8)}
    blocks = [dist.shard_rows(batch, dist.World(rank, 4))["inputs"][:, 0].tolist() for rank in range(4)]
    assert blocks == [[0, 1], [2, 3], [4, 5], [6, 7]]
    with pytest.raises(ModelError, match="does not split over 3 ranks"):
        dist.shard_rows(batch, dist.World(1, 3))


def test_a_batch_size_that_does_not_split_over_the_ranks_is_refused(monkeypatch):
    from hrm_tui.errors import UserError
    from hrm_tui.training_run import _world

    monkeypatch.setattr(dist, "_world", dist.World(0, 3))
    with pytest.raises(UserError, match="--batch-size 8 does not split over 3 ranks; use a multiple of 3"):
        _world(type("Options", (), {"batch_size": 8})())


# -- two ranks on this machine -----------------------------------------------------------------

def _free_ports() -> int:
    """A port p with p and p + 1 free (mlx.launch gives rank r port p + r)."""
    for _ in range(50):
        port = random.randint(20000, 60000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    pytest.skip("no two consecutive free ports")


def _train(run: Path, steps: int, ranks: int) -> subprocess.CompletedProcess:
    """`hrm train sudoku` (tiny) for `steps` total steps, alone or as `ranks` ranks of mlx.launch."""
    return _launch([sys.executable, "-m", "hrm_tui", "train", "sudoku", "--run", str(run), "--steps", str(steps),
                    *map(str, TINY)], ranks)


def _launch(command: list[str], ranks: int, timeout: float = 240) -> subprocess.CompletedProcess:
    """`command` alone or as `ranks` ranks of mlx.launch; killed with every rank if it hangs."""
    if ranks > 1:
        command = [LAUNCH, "-n", str(ranks), "--backend", "ring", "-p", str(_free_ports()), "--", *command]
    env = {**os.environ, "HRM_BLAS_THREADS": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{ranks} rank(s) did not finish in {timeout} s:\n{err[-3000:]}")
    # mlx.launch exits 0 even when a rank fails; it reports each rank's exit code.
    assert proc.returncode == 0 and "exited with code" not in err, err[-3000:]
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def _checkpoint(run: Path, step: int) -> tuple[dict, dict]:
    return RunDir.load(run / "checkpoints" / f"step-{step:08d}")


@pytest.mark.skipif(LAUNCH is None, reason="mlx.launch not installed")
def test_two_ranks_follow_one_process_and_resume_across_rank_counts(tmp_path):
    alone, mixed = tmp_path / "alone", tmp_path / "mixed"
    _train(alone, 6, ranks=1)
    first = _train(mixed, 2, ranks=2)  # a fresh start on 2 ranks
    _train(mixed, 4, ranks=1)  # resumes a 2-rank checkpoint alone
    last = _train(mixed, 6, ranks=2)  # and a 1-rank checkpoint on 2 ranks

    # Rank 0 alone reports and writes: one progress line and one log record per step.
    for result, steps in ((first, [1, 2]), (last, [5, 6])):
        progress = [line.split()[2] for line in result.stderr.splitlines() if re.match(r"\d\d:\d\d:\d\d step ", line)]
        assert progress == [f"{s}/{steps[-1]}" for s in steps]
        assert "training on 2 ranks, 4 puzzles each per step" in result.stderr
    a_log, m_log = RunDir(alone).read_log(), RunDir(mixed).read_log()
    assert [r["step"] for r in m_log] == [1, 2, 3, 4, 5, 6]
    assert [r["ranks"] for r in m_log] == [2, 2, 1, 1, 2, 2]  # cards say how many cores made the minutes
    assert "mixed on 2 ranks from step 1 (one core per rank)" in cores_sentence([read_run(mixed), read_run(alone)])
    assert ", except" not in cores_sentence([read_run(alone)])
    np.testing.assert_allclose([r["loss"] for r in m_log], [r["loss"] for r in a_log], rtol=LOSS_RTOL)
    evaluated = lambda log: {k: v for k, v in log[-1].items() if k.startswith("eval_")}  # noqa: E731
    assert evaluated(m_log) == evaluated(a_log) != {}  # rank 0 evaluated step 6 as the single process did

    (a_groups, a_state), (m_groups, m_state) = _checkpoint(alone, 6), _checkpoint(mixed, 6)
    assert (m_state["source"], m_state["rng"]) == (a_state["source"], a_state["rng"])  # same data position
    assert set(m_groups) == set(a_groups) == {"model", "optimizer", "carry", "ema"}
    for group in ("model", "optimizer", "ema"):
        for name, value in a_groups[group].items():
            np.testing.assert_allclose(np.array(m_groups[group][name]), np.array(value), rtol=0,
                                       atol=WEIGHTS_ATOL, err_msg=f"{group}/{name}")
    for name in ("steps", "halted", "inputs", "labels", "puzzle_identifiers"):  # the carry, in global row order
        np.testing.assert_array_equal(np.array(m_groups["carry"][name]), np.array(a_groups["carry"][name]))


TRAINER_SCRIPT = """
import sys
import models  # the optimised BLAS before mlx.core
import numpy as np
sys.path.insert(0, sys.argv[2])
from test_training import TINY, RandomSource
from models import distributed as dist
from models.checkpoint import model_arrays
from models.training import TrainConfig, Trainer

trainer = Trainer(TINY, TrainConfig(batch_size=8, lr=1e-3, lr_warmup_steps=0, puzzle_emb_lr=0.1, seed=3),
                  RandomSource(batch_size=8, seed=7))
for _ in range(3):
    trainer.train_step()
if dist.world().is_main:
    np.savez(sys.argv[1], **{k: np.array(v) for k, v in model_arrays(trainer.model).items()})
"""


@pytest.mark.skipif(LAUNCH is None, reason="mlx.launch not installed")
def test_the_sparse_puzzle_embedding_update_sums_every_ranks_rows_per_id(tmp_path):
    """Four puzzle ids spread over both ranks' rows: each rank's SignSGD step must use the
    per-id sum of the global batch's row gradients, or the embedding rows would differ by lr."""
    script = tmp_path / "train.py"
    script.write_text(TRAINER_SCRIPT)
    tests = str(Path(__file__).parent)
    _launch([sys.executable, str(script), str(tmp_path / "alone.npz"), tests], ranks=1)
    _launch([sys.executable, str(script), str(tmp_path / "two.npz"), tests], ranks=2)
    alone, two = np.load(tmp_path / "alone.npz"), np.load(tmp_path / "two.npz")
    assert set(alone) == set(two)
    assert (np.abs(alone["puzzle_emb"]).max(axis=1) > 0).sum() >= 2  # several ids were trained (from zero)
    for name in alone:
        np.testing.assert_allclose(two[name], alone[name], rtol=0, atol=WEIGHTS_ATOL, err_msg=name)
