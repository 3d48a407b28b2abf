"""The MLX measurements of `hrm bench`; each runs inside a `worker` subprocess.

Every function takes plain JSON-able arguments and returns a JSON-able dict of raw samples
(seconds per step or segment, CPU seconds, RSS); `runner` turns them into figures.
"""

from __future__ import annotations

import math
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from hrm_tui.bench.timing import sgemm_rates, timed
from models.config import HRMConfig


def sudoku_config(hidden_size: int, layers: int, halt_max_steps: int = 16) -> HRMConfig:
    """The Sudoku shape (81 cells, vocab 11, one puzzle-embedding position) at a width; head
    dimension 32 at d 128, else 64 as in the reference (4 heads at d 256, 8 at d 512)."""
    return HRMConfig(puzzle_kind="sudoku", vocab_size=11, seq_len=81, num_puzzle_identifiers=1,
                     puzzle_emb_ndim=hidden_size, hidden_size=hidden_size,
                     num_heads=max(4, hidden_size // 64), H_layers=layers, L_layers=layers,
                     halt_max_steps=halt_max_steps)


def grid_config(side: int, vocab_size: int = 6) -> HRMConfig:
    """The d 128, 2+2-layer shape on a side x side grid (maze and ARC canvases: 225 and 900
    cells), where attention's share of the work grows with the grid."""
    import dataclasses

    return dataclasses.replace(sudoku_config(128, 2), puzzle_kind="maze", vocab_size=vocab_size,
                               seq_len=side * side, grid_shape=(side, side))


class RandomSudokuBatches:
    """Sudoku-shaped batches of random tokens: the compute of a step does not depend on them."""

    def __init__(self, batch_size: int, seq_len: int, vocab_size: int, seed: int = 0):
        self.batch_size, self.seq_len, self.vocab_size = batch_size, seq_len, vocab_size
        self.rng = np.random.default_rng(seed)

    def next_batch(self) -> dict[str, np.ndarray]:
        shape = (self.batch_size, self.seq_len)
        return {"inputs": self.rng.integers(1, self.vocab_size, shape, dtype=np.int32),
                "labels": self.rng.integers(2, self.vocab_size, shape, dtype=np.int32),
                "puzzle_identifiers": np.zeros(self.batch_size, np.int32)}

    def state(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        pass


def rss_mb() -> float:
    """Current resident set size of this process."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def environment() -> dict[str, Any]:
    import mlx.core as mx

    from models.backend import blas_info
    from models.cpu_jit import jit_info, use_compile

    blas = blas_info()
    return {"mlx": mx.__version__, "device": str(mx.default_device()), "blas": blas.name,
            "blas_threads": blas.threads, "jit": jit_info().to_dict(), "compiled": use_compile()}


def mlx_sgemm_rates() -> dict[str, float]:
    import mlx.core as mx

    a, b = mx.random.normal((1024, 1024)), mx.random.normal((1024, 1024))
    mx.eval(a, b)
    return sgemm_rates(lambda: mx.eval(a @ b), 1024)


def mlx_train_step(config: dict[str, Any], batch_size: int, warmup: int, repeats: int) -> dict[str, Any]:
    """Wall and CPU seconds of `warmup + repeats` `Trainer.train_step`s, peak RSS, sgemm peak."""
    from models.hrm import count_parameters
    from models.training import TrainConfig, Trainer

    cfg = HRMConfig.from_dict(config)
    peak = mlx_sgemm_rates()
    base_rss = rss_mb()
    trainer = Trainer(cfg, TrainConfig(batch_size=batch_size, lr=1e-4, lr_warmup_steps=0),
                      RandomSudokuBatches(batch_size, cfg.seq_len, cfg.vocab_size))
    walls, cpus, loss = [], [], float("nan")
    for _ in range(warmup + repeats):
        out, wall, cpu = timed(trainer.train_step)
        loss = out["loss"]
        walls.append(wall)
        cpus.append(cpu)
    again = mlx_sgemm_rates()  # the best of before and after: less disturbed by other processes
    return {"first_step_s": walls[0], "step_s": walls[warmup:], "cpu_s": cpus[warmup:],
            "loss_finite": math.isfinite(loss), "parameters": count_parameters(trainer.model),
            "base_rss_mb": base_rss, "peak_rss_mb": peak_rss_mb(),
            **{k: max(peak[k], again[k]) for k in peak}, **environment()}


def _load(weights: str | None, config: dict[str, Any] | None):
    from models.checkpoint import load_weights
    from models.hrm import HRM

    if weights:
        return load_weights(Path(weights))
    return HRM(HRMConfig.from_dict(config))


def mlx_inference(weights: str | None, config: dict[str, Any] | None, large_batch: int,
                  segments: int) -> dict[str, Any]:
    """Batch 1 as the app runs it (`trace` with inner-update decodes): seconds per segment;
    then `large_batch` rows and the default rows per pass (`rows_per_pass`, what batch solving
    uses): seconds per segment (throughput)."""
    from models.act import rows_per_pass, trace

    model = _load(weights, config)
    cfg = model.config
    rng = np.random.default_rng(0)

    def per_segment(batch: int, inner: bool) -> tuple[list[float], list[float]]:
        """Wall and CPU seconds of each of `segments` segments of one trace."""
        inputs = rng.integers(1, cfg.vocab_size, (batch, cfg.seq_len), dtype=np.int32)
        records = iter(trace(model, inputs, max_segments=segments, inner_cycles=inner))
        samples = [timed(lambda: next(records))[1:] for _ in range(segments or cfg.halt_max_steps)]
        walls, cpus = zip(*samples)
        return list(walls), list(cpus)

    walls, cpus = per_segment(1, inner=True)
    again_walls, again_cpus = per_segment(1, inner=True)
    large_walls, large_cpus = per_segment(large_batch, inner=False)
    pass_walls, pass_cpus = per_segment(rows_per_pass(cfg), inner=False)
    return {"config": cfg.to_dict(), "first_segment_s": walls[0],
            "pass_rows": rows_per_pass(cfg), "pass_segment_s": pass_walls[1:], "pass_segment_cpu_s": pass_cpus[1:],
            "batch1_segment_s": walls[1:] + again_walls[1:], "batch1_segment_cpu_s": cpus[1:] + again_cpus[1:],
            "large_batch": large_batch, "large_first_segment_s": large_walls[0],
            "large_segment_s": large_walls[1:], "large_segment_cpu_s": large_cpus[1:],
            "peak_rss_mb": peak_rss_mb(), **environment()}


def mlx_dynamic(weights: str, puzzles: int, slots: int | None, givens: tuple[int, int]) -> dict[str, Any]:
    """Sudoku batch solving four ways on the same generated puzzles: fixed segments (every
    puzzle runs halt_max_steps, the reference's evaluation), fixed batches that stop when all
    rows have halted, dynamic slot scheduling (`solve_dynamic`) at ACT's halt, and dynamic
    scheduling where a row stops as soon as its answer follows the rules (what `hrm solve`
    does with views; it can only gain accuracy over fixed segments), and also when its state
    has stopped moving (`STILL_STATE`, as `hrm solve` with views)."""
    from models.act import STILL_STATE, predict, rows_per_pass, solve_dynamic
    from puzzles import sudoku

    model = _load(weights, None)
    slots = slots or rows_per_pass(model.config)  # what `hrm solve` runs
    inputs, labels = sudoku.make_batch(np.random.default_rng(1), puzzles, *givens)
    boards = sudoku.decode(inputs)

    def rules_met(rows: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        return sudoku.solved_mask(boards[rows], sudoku.decode(tokens))

    solve_dynamic(model, inputs[:slots], slots=slots)  # compile both batch shapes first
    predict(model, inputs[:slots])

    def fixed(stop_at_halt: bool):
        chunks = [predict(model, inputs[i:i + slots], stop_at_halt=stop_at_halt) for i in range(0, puzzles, slots)]
        return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])

    runs = {}
    for name, run in (("fixed_segments", lambda: fixed(False)), ("batch_halting", lambda: fixed(True)),
                      ("dynamic", lambda: solve_dynamic(model, inputs, slots=slots)[:2]),
                      ("dynamic_rules", lambda: solve_dynamic(model, inputs, slots=slots, stop_at_halt=False,
                                                              settled=rules_met)[:2]),
                      ("dynamic_rules_still", lambda: solve_dynamic(model, inputs, slots=slots, stop_at_halt=False,
                                                                    settled=rules_met, still_below=STILL_STATE)[:2])):
        (predictions, used), wall, cpu = timed(run)
        runs[name] = {"seconds": wall, "cpu_seconds": cpu,
                      "exact_accuracy": float((predictions == labels).all(axis=1).mean()),
                      "mean_segments": float(used.mean())}
    return {"puzzles": puzzles, "slots": slots, "givens": list(givens), "runs": runs, **environment()}


def app_first_screen() -> float:
    """Wall-clock time (time.time()) when the app's first screen is up under Pilot."""
    import asyncio

    async def run() -> float:
        from hrm_tui.app.app import HRMApp

        app = HRMApp(kind="sudoku")
        async with app.run_test(size=(100, 36)) as pilot:
            await pilot.pause()
            return time.time()

    return asyncio.run(run())


def busy_core(seconds: float) -> dict[str, Any]:
    """A competing job for `seconds`: float32 matmuls on one BLAS thread, as a training run
    beside the measured work keeps one core busy."""
    import mlx.core as mx

    a = mx.random.normal((512, 512))
    end, rounds = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        mx.eval(a @ a)
        rounds += 1
    return {"rounds": rounds}
