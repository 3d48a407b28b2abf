"""Clocks for `hrm bench`: every sample is taken on the wall clock and on this process's CPU
clock. With one thread the CPU time is the time the work actually ran, so on a machine that
other processes share it is the figure rates are computed from (see `runner.basis`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def timed(run: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def sgemm_rates(matmul: Callable[[], Any], n: int, repeats: int = 5) -> dict[str, float]:
    """Best-of-`repeats` GFLOP/s of an n x n x n matmul (`matmul` runs one to completion), on
    both clocks, after one warm-up call."""
    matmul()
    walls, cpus = zip(*(timed(matmul)[1:] for _ in range(repeats)))
    flop = 2.0 * n**3
    return {"sgemm_gflops": flop / min(walls) / 1e9, "sgemm_gflops_cpu": flop / max(min(cpus), 1e-9) / 1e9}
