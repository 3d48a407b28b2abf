"""Shared by the reliability tests (issue 8): the real `hrm` in a subprocess, tiny weights
and training-run arguments small enough to keep the whole suite under two minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

PUZZLE = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3.."
SOLUTION = "483921657967345821251876493548132976729564138136798245372689514814253769695417382"
MAZE = "#######\n#S    #\n# ### #\n#    G#\n#######"

# A tiny `hrm train sudoku` that checkpoints every step (about 10 steps a second here).
TINY_TRAIN = ["--hidden-size", 32, "--heads", 2, "--h-layers", 1, "--l-layers", 1, "--h-cycles", 1,
              "--l-cycles", 1, "--max-segments", 2, "--batch-size", 4, "--warmup", 2, "--lr", 1e-3,
              "--ema", 0.9, "--givens-min", 45, "--givens-max", 60, "--eval-size", 4, "--eval-every", 10,
              "--log-every", 1, "--checkpoint-every", 1, "--seed", 5]


def hrm_env() -> dict[str, str]:
    return {**os.environ, "HRM_BLAS_THREADS": "1", "COLUMNS": "200", "PYTHONDONTWRITEBYTECODE": "1"}


def hrm_command(*args) -> list[str]:
    return [sys.executable, "-m", "hrm_tui", *map(str, args)]


def hrm(*args, timeout: float = 120, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(hrm_command(*args), capture_output=True, text=True, timeout=timeout,
                          env=hrm_env(), input=input)


def hrm_many(arg_lists: dict[str, list], workers: int = 2, timeout: float = 120) -> dict[str, subprocess.CompletedProcess]:
    """Run many `hrm` invocations, each in its own process, forked from one server process
    that has imported what `python -m hrm_tui` imports before `main()` (Python, typer, numpy),
    so a case costs its own work rather than an interpreter start. Never imports MLX before
    forking (its threads do not survive a fork). `test_fork_server_matches_a_cold_start`
    checks the results equal those of `python -m hrm_tui`."""
    request = json.dumps({"cases": {key: list(map(str, args)) for key, args in arg_lists.items()},
                          "workers": workers, "timeout": timeout})
    server = subprocess.run([sys.executable, __file__], input=request, capture_output=True, text=True,
                            env=hrm_env(), timeout=timeout * len(arg_lists) / workers + 60)
    if server.returncode != 0:
        raise RuntimeError(f"fork server failed: {server.stderr}")
    return {key: subprocess.CompletedProcess(arg_lists[key], code, out, err)
            for key, (code, out, err) in json.loads(server.stdout).items()}


def _serve() -> None:
    """The fork server behind `hrm_many`: JSON request on stdin, JSON results on stdout."""
    if "mlx.core" in sys.modules:
        raise RuntimeError("the fork server must not import MLX before forking")
    import signal
    import tempfile
    import traceback

    import importlib

    import numpy  # noqa: F401 - preloaded: what `hrm` imports on every run, never MLX

    import puzzles.kinds  # noqa: F401
    from hrm_tui import cli, solving  # noqa: F401
    from hrm_tui.commands import command_modules

    for name in command_modules():  # what main() imports first (registering stays in main)
        importlib.import_module(f"hrm_tui.commands.{name}")

    request = json.load(sys.stdin)
    pending = list(request["cases"].items())
    running: dict[int, tuple[str, float, object, object]] = {}
    results = {}
    while pending or running:
        while pending and len(running) < request["workers"]:
            key, args = pending.pop(0)
            out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child is one `hrm` run
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.argv = ["hrm", *args]
                code = 0
                try:
                    cli.main()
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                except BaseException:  # what the interpreter would print for an escaped exception
                    traceback.print_exc()
                    code = 1
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
            running[pid] = (key, time.monotonic(), out, err)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for child, (key, started, _, _) in running.items():
                if time.monotonic() - started > request["timeout"]:
                    os.kill(child, signal.SIGKILL)
            time.sleep(0.005)
            continue
        key, _, out, err = running.pop(pid)
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        results[key] = (code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))
    json.dump(results, sys.stdout)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def tiny_config(kind: str = "sudoku", **overrides):
    from models.config import HRMConfig

    geometry = {"sudoku": dict(vocab_size=11, seq_len=81, grid_shape=(9, 9)),
                "maze": dict(vocab_size=6, seq_len=900, grid_shape=(30, 30))}[kind]
    fields = dict(puzzle_kind=kind, hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=1,
                  L_cycles=1, halt_max_steps=2, puzzle_emb_ndim=32, **geometry)
    fields.update(overrides)
    return HRMConfig(**fields)


def write_tiny_weights(directory: Path, kind: str = "sudoku", **overrides) -> Path:
    """An untrained but complete weights directory (built in-process in milliseconds)."""
    from models.checkpoint import save_weights
    from models.hrm import HRM

    return save_weights(directory, HRM(tiny_config(kind, **overrides)), card="# tiny\n", metrics={})


if __name__ == "__main__":
    _serve()
