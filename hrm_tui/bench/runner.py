"""Plan and run `hrm bench`: each measurement in a fresh worker process, then the figures.

All ratios come from measurements of this one run, on this machine, with the same thread
count for MLX's BLAS and PyTorch. Times are medians over the repeats after warm-up (the first
MLX step includes compiling the step). Rates, ratios and targets use `basis`: with one thread
the process CPU time (the time the work actually ran, which other processes on a shared machine
do not inflate), with more threads the wall time; both are kept in the results.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hrm_tui.bench import flops
from hrm_tui.bench.worker import MARKER

WORKER_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...] = (128, 256, 512)
    layers: int = 2
    batch: int = 64
    warmup: int = 2
    repeats: int = 4
    threads: int = 1
    torch: bool = True
    inference_batch: int = 256
    inference_segments: int | None = None  # None: each model's halt_max_steps
    dynamic_puzzles: int = 512
    slots: int | None = None  # None: the rows per pass `hrm solve` uses (models.act.rows_per_pass)
    startup_repeats: int = 5
    quick: bool = False


QUICK = Plan(sizes=(64, 128), batch=16, warmup=1, repeats=2, inference_batch=32, inference_segments=4,
             dynamic_puzzles=32, slots=16, startup_repeats=2, quick=True)


def default_threads() -> int:
    raw = os.environ.get("HRM_BLAS_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def basis(plan: Plan) -> str:
    return "cpu" if plan.threads == 1 else "wall"


def run(plan: Plan, say: Callable[[str], None] = lambda message: None) -> dict[str, Any]:
    """Every section of the benchmark; `say` reports progress (one line per measurement)."""
    results: dict[str, Any] = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "plan": asdict(plan),
        "basis": basis(plan),
        "machine": machine(),
        "load_average": {"start": _load()},
    }
    started = time.perf_counter()
    results["training"] = [training(plan, size, say) for size in plan.sizes]
    results["grid_training"] = grid_training(plan, say)
    results["inference"], results["dynamic_scheduling"] = inference(plan, say)
    results["under_load"] = under_load(plan, say)
    results["startup"] = startup(plan, say)
    results["load_average"]["end"] = _load()
    results["seconds"] = time.perf_counter() - started
    results["targets"] = targets(results)
    return results


# -- sections -----------------------------------------------------------------------------

def training(plan: Plan, size: int, say: Callable[[str], None]) -> dict[str, Any]:
    from hrm_tui.bench.workloads import sudoku_config

    cfg = sudoku_config(size, plan.layers)
    step_flops = flops.train_step_flops(cfg, plan.batch)
    row: dict[str, Any] = {"hidden_size": size, "layers": plan.layers, "heads": cfg.num_heads,
                           "batch": plan.batch, "gflop_per_step": step_flops / 1e9}
    say(f"training step d {size}: MLX")
    task = {"config": cfg.to_dict(), "batch_size": plan.batch, "warmup": plan.warmup, "repeats": plan.repeats}
    row["mlx"] = _step_figures(_worker({"task": "mlx_train_step", **task}, plan.threads), step_flops, plan, cfg)
    if not plan.torch:
        row["torch"] = {"skipped": "--no-torch"}
    elif not torch_available():
        row["torch"] = {"skipped": "PyTorch is not installed (pip install 'hrm-tui[bench]')"}
    else:
        say(f"training step d {size}: PyTorch")
        result = _worker({"task": "torch_train", **task, "threads": plan.threads}, plan.threads, torch=True)
        row["torch"] = _step_figures(result, step_flops, plan, cfg)
    if "busy_ms" in row["mlx"] and "busy_ms" in row["torch"]:
        row["speed_ratio"] = row["torch"]["busy_ms"] / row["mlx"]["busy_ms"]
        row["speed_ratio_wall"] = row["torch"]["ms_per_step"] / row["mlx"]["ms_per_step"]
    return row


GRID_SIDES = (9, 15, 30)  # Sudoku-sized, a 15x15 maze, the 30x30 maze and ARC canvas


LOCAL_WINDOW = 5  # the window measured against full and masked full attention
ATTENTION_MODES = {"full": ({}, 0), f"{LOCAL_WINDOW}x{LOCAL_WINDOW} window, tiles": ({"HRM_LOCAL_ATTENTION": "tiles"}, LOCAL_WINDOW),
                   f"{LOCAL_WINDOW}x{LOCAL_WINDOW} window, masked full": ({"HRM_LOCAL_ATTENTION": "dense"}, LOCAL_WINDOW)}


def grid_training(plan: Plan, say: Callable[[str], None]) -> list[dict[str, Any]]:
    """The d 128 training step on larger grids, with about the same tokens per step, with full
    attention and with a window (tiled, and as masked full attention): the cost per token of
    full attention grows with the grid, a window's should not."""
    import dataclasses

    from hrm_tui.bench.workloads import grid_config

    rows = []
    for side in GRID_SIDES[:2] if plan.quick else GRID_SIDES:
        for mode, (env, window) in ATTENTION_MODES.items():
            cfg = dataclasses.replace(grid_config(side), attention_window=window)
            batch = max(2, plan.batch * 81 // cfg.seq_len)
            say(f"training step on a {side}x{side} grid (batch {batch}): {mode} attention")
            result = _worker({"task": "mlx_train_step", "config": cfg.to_dict(), "batch_size": batch,
                              "warmup": plan.warmup, "repeats": plan.repeats}, plan.threads, env=env)
            step_flops = flops.train_step_flops(cfg, batch)
            rows.append({"side": side, "cells": cfg.seq_len, "batch": batch, "attention": mode,
                         "mlx": _step_figures(result, step_flops, dataclasses.replace(plan, batch=batch), cfg)})
    return rows


def _step_figures(result: dict[str, Any], step_flops: float, plan: Plan, cfg) -> dict[str, Any]:
    if "error" in result:
        return result
    cpu = basis(plan) == "cpu"
    busy = statistics.median(result["cpu_s"] if cpu else result["step_s"])
    peak = result["sgemm_gflops_cpu" if cpu else "sgemm_gflops"]
    figures = {
        "ms_per_step": 1000 * statistics.median(result["step_s"]),
        "ms_best": 1000 * min(result["step_s"]),
        "cpu_ms_per_step": 1000 * statistics.median(result["cpu_s"]),
        "busy_ms": 1000 * busy,
        "first_step_s": result["first_step_s"],
        "tokens_per_s": plan.batch * cfg.seq_len / busy,
        "gflops": step_flops / busy / 1e9,
        "sgemm_gflops": peak,
        "utilisation": step_flops / busy / 1e9 / peak,
        "loss_finite": result["loss_finite"],
    }
    for key in ("parameters", "peak_rss_mb", "base_rss_mb", "version", "mlx", "blas", "compiled", "threads",
                "blas_threads"):
        if key in result:
            figures[key] = result[key]
    return figures


def inference(plan: Plan, say: Callable[[str], None]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from hrm_tui.bench.workloads import sudoku_config
    from hrm_tui.model_store import default_weights_dir

    rows = []
    shipped = {kind: default_weights_dir(kind) for kind in ("sudoku", "maze")}
    for kind, directory in shipped.items():
        if not (directory / "model.safetensors").is_file():
            rows.append({"model": f"weights/{kind}", "skipped": f"no shipped weights in {directory}"})
            continue
        say(f"inference: weights/{kind}")
        rows.append({"model": f"weights/{kind}", **_inference_figures(
            _worker({"task": "mlx_inference", "weights": str(directory), "config": None,
                     "large_batch": plan.inference_batch, "segments": plan.inference_segments}, plan.threads), plan)})
    if "skipped" in rows[0]:
        stand_in = sudoku_config(128, 2, halt_max_steps=8)  # `hrm train sudoku` defaults
        say("inference: untrained model of the `hrm train sudoku` default shape")
        rows.append({"model": "untrained, `hrm train sudoku` shape", **_inference_figures(
            _worker({"task": "mlx_inference", "weights": None, "config": stand_in.to_dict(),
                     "large_batch": plan.inference_batch, "segments": plan.inference_segments}, plan.threads), plan)})

    if not (shipped["sudoku"] / "model.safetensors").is_file():
        dynamic = {"skipped": "needs the shipped Sudoku model (halting decides the gain)"}
    else:
        say("batch solving: fixed segments vs dynamic ACT scheduling")
        dynamic = _worker({"task": "mlx_dynamic", "weights": str(shipped["sudoku"]), "puzzles": plan.dynamic_puzzles,
                           "slots": plan.slots, "givens": [26, 40]}, plan.threads)
        if "runs" in dynamic:
            runs = dynamic["runs"]
            key = "cpu_seconds" if basis(plan) == "cpu" else "seconds"
            for run_ in runs.values():
                run_["puzzles_per_s"] = plan.dynamic_puzzles / run_[key]
            dynamic["speedup_vs_fixed_segments"] = runs["fixed_segments"][key] / runs["dynamic"][key]
            dynamic["speedup_vs_batch_halting"] = runs["batch_halting"][key] / runs["dynamic"][key]
            dynamic["speedup_rules_vs_fixed_segments"] = runs["fixed_segments"][key] / runs["dynamic_rules"][key]
            dynamic["speedup_rules_still_vs_fixed_segments"] = (runs["fixed_segments"][key]
                                                                / runs["dynamic_rules_still"][key])
    return rows, dynamic


def _inference_figures(result: dict[str, Any], plan: Plan) -> dict[str, Any]:
    if "error" in result:
        return result
    cfg, suffix = result["config"], "_cpu_s" if basis(plan) == "cpu" else "_s"
    batch1 = statistics.median(result["batch1_segment" + suffix])
    large = statistics.median(result["large_segment" + suffix])
    per_pass = statistics.median(result["pass_segment" + suffix])
    return {
        "hidden_size": cfg["hidden_size"], "layers": f"{cfg['H_layers']}+{cfg['L_layers']}",
        "halt_max_steps": cfg["halt_max_steps"],
        "batch1_ms_per_segment": 1000 * batch1,
        "batch1_wall_ms_per_segment": 1000 * statistics.median(result["batch1_segment_s"]),
        "first_segment_ms": 1000 * result["first_segment_s"],
        "large_batch": result["large_batch"],
        "large_ms_per_segment": 1000 * large,
        "puzzle_segments_per_s": result["large_batch"] / large,
        "pass_rows": result["pass_rows"],
        "pass_ms_per_row_segment": 1000 * per_pass / result["pass_rows"],
        "large_ms_per_row_segment": 1000 * large / result["large_batch"],
        "peak_rss_mb": result["peak_rss_mb"],
        "compiled": result["compiled"],
    }


def under_load(plan: Plan, say: Callable[[str], None]) -> dict[str, Any]:
    """Wall seconds of `hrm solve` on one hard Sudoku with 8 views while another process keeps
    one core busy, with two BLAS threads forced, one, and the thread count it chooses itself
    (none forced): spinning BLAS threads that wait for a busy core collapse."""
    from hrm_tui.data_sources import sudoku_level_set
    from hrm_tui.model_store import default_weights_dir
    from puzzles import sudoku

    if not (default_weights_dir("sudoku") / "model.safetensors").is_file():
        return {"skipped": "needs the shipped Sudoku model"}
    puzzle = sudoku.format_line(sudoku_level_set("hard", 1, 1234)[0][0])
    script = Path(sys.executable).with_name("hrm")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hrm_tui"]
    views = 2 if plan.quick else 8
    solve = [*command, "solve", "sudoku", puzzle, "--views", str(views)]
    base = {k: v for k, v in os.environ.items() if k not in ("HRM_BLAS_THREADS", "OPENBLAS_NUM_THREADS",
                                                                "MKL_NUM_THREADS", "OMP_NUM_THREADS")}
    settings = {"two threads": {"HRM_BLAS_THREADS": "2"}, "one thread": {"HRM_BLAS_THREADS": "1"},
                "chosen by hrm": {}}
    seconds: dict[str, float] = {}
    load = subprocess.Popen([sys.executable, "-m", "hrm_tui.bench.worker",
                             json.dumps({"task": "busy_core", "seconds": 3600})],
                            env={**base, "HRM_BLAS_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(2.0)  # the competing job is running before the first solve starts
        for name, extra in settings.items():
            say(f"one hard Sudoku, {views} views, beside a busy core: {name}")
            start = time.perf_counter()
            subprocess.run(solve, env={**base, **extra}, capture_output=True, timeout=WORKER_TIMEOUT_S, check=False)
            seconds[name] = time.perf_counter() - start
    finally:
        load.kill()
        load.wait()
    return {"puzzle": puzzle, "views": views, "seconds": seconds,
            "slowdown_two_threads": seconds["two threads"] / seconds["one thread"],
            "chosen_vs_one_thread": seconds["chosen by hrm"] / seconds["one thread"]}


def startup(plan: Plan, say: Callable[[str], None]) -> dict[str, Any]:
    script = Path(sys.executable).with_name("hrm")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hrm_tui"]
    say("start-up: hrm --help")
    times = []
    for _ in range(plan.startup_repeats):
        start = time.perf_counter()
        subprocess.run([*command, "--help"], capture_output=True, check=False, timeout=120)
        times.append(time.perf_counter() - start)
    figures: dict[str, Any] = {"help_s": statistics.median(times), "help_best_s": min(times)}
    if importlib.util.find_spec("hrm_tui.app.app") is None:
        figures["app_first_screen"] = {"skipped": "no hrm_tui.app.app"}
        return figures
    say("start-up: app first screen (Pilot)")
    screens = []
    for _ in range(max(1, plan.startup_repeats // 2)):
        launched = time.time()
        ready = _worker({"task": "app_first_screen"}, plan.threads)
        if isinstance(ready, dict):  # an error
            figures["app_first_screen"] = ready
            return figures
        screens.append(ready - launched)
    figures["app_first_screen_s"] = statistics.median(screens)
    return figures


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with what this run measured."""
    rows = []
    d256 = next((r for r in results["training"] if r["hidden_size"] == 256), None)
    if d256 is not None:
        rows.append(_target("MLX training step at least as fast as PyTorch at d 256", ">= 1.0x",
                            d256.get("speed_ratio"), lambda v: v >= 1.0, "{:.2f}x"))
        rows.append(_target("share of the sgemm peak in the MLX training step at d 256", ">= 40%",
                            d256["mlx"].get("utilisation"), lambda v: v >= 0.40, "{:.0%}"))
    shipped = next((r for r in results["inference"] if r["model"] == "weights/sudoku"), {})
    rows.append(_target("batch-1 segment of the shipped Sudoku model", "<= 10 ms",
                        shipped.get("batch1_ms_per_segment"), lambda v: v <= 10, "{:.1f} ms"))
    dynamic = results["dynamic_scheduling"]
    runs = dynamic.get("runs", {})
    # What `hrm solve` runs (rules and the still state), at equal or better accuracy only.
    equal = runs and runs["dynamic_rules_still"]["exact_accuracy"] >= runs["fixed_segments"]["exact_accuracy"]
    rows.append(_target("dynamic batching over fixed segments, at equal or better accuracy", ">= 2x",
                        dynamic.get("speedup_rules_still_vs_fixed_segments") if equal else None, lambda v: v >= 2,
                        "{:.2f}x"))
    loaded = results.get("under_load", {})
    rows.append(_target("hard Sudoku, 8 views, beside a busy core: threads chosen by hrm vs one thread",
                        "<= 1.5x", loaded.get("chosen_vs_one_thread"), lambda v: v <= 1.5, "{:.2f}x"))
    rows.append(_target("`hrm --help`", "< 0.3 s", results["startup"].get("help_s"), lambda v: v < 0.3, "{:.2f} s"))
    return rows


def _target(name: str, goal: str, value: float | None, test: Callable[[float], bool], fmt: str) -> dict[str, Any]:
    if value is None:
        return {"target": name, "goal": goal, "measured": None, "met": None}
    return {"target": name, "goal": goal, "measured": fmt.format(value), "value": value, "met": bool(test(value))}


# -- plumbing -----------------------------------------------------------------------------

def _worker(task: dict[str, Any], threads: int, torch: bool = False, env: dict[str, str] | None = None) -> Any:
    """Run one task in a fresh interpreter with `threads` BLAS/PyTorch threads (and `env`)."""
    env = {**os.environ, "HRM_BLAS_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads), **(env or {})}
    if torch:
        env["HRM_BLAS"] = "off"  # keep MLX's BLAS out of the PyTorch process
    try:
        done = subprocess.run([sys.executable, "-m", "hrm_tui.bench.worker", json.dumps(task)], env=env,
                              capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT_S} s"}
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    detail = (done.stderr or done.stdout).strip().splitlines()
    return {"error": detail[-1] if detail else f"exit status {done.returncode}"}


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    import importlib.metadata

    def version(name: str) -> str | None:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(),
            "packages": {name: version(name) for name in ("mlx", "numpy", "torch", "scipy-openblas32", "textual")}}
