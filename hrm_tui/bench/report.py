"""`hrm bench` results as tables: one set of rows, rendered as markdown and in the terminal."""

from __future__ import annotations

from typing import Any

Table = tuple[str, list[str], list[list[str]]]  # title, header, rows


def _num(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _mb(figures: dict[str, Any]) -> str:
    return _num(figures.get("peak_rss_mb"), "{:.0f} MB")


def _ms(figures: dict[str, Any]) -> str:
    if "ms_per_step" not in figures:
        return figures.get("error", "-")
    return f"{figures['ms_per_step']:.0f} ({figures['cpu_ms_per_step']:.0f})"


def _rate(figures: dict[str, Any]) -> str:
    if "gflops" not in figures:
        return "-"
    return f"{figures['gflops']:.0f} ({figures['utilisation']:.0%} of {figures['sgemm_gflops']:.0f})"


def tables(results: dict[str, Any]) -> list[Table]:
    plan = results["plan"]
    out: list[Table] = []

    shape = (f"Sudoku shape: batch {plan['batch']}, 81 cells + 1 puzzle position, {plan['layers']}+{plan['layers']} "
             f"layers, 2x2 cycles, {plan['threads']} thread(s)")
    speed, efficiency = [], []
    for r in results["training"]:
        mlx, torch = r["mlx"], r["torch"]
        skipped = torch.get("skipped") or torch.get("error")
        speed.append([
            str(r["hidden_size"]), _num(mlx.get("parameters"), "{:,}"), f"{r['gflop_per_step']:.0f}", _ms(mlx),
            skipped or _ms(torch), _num(r.get("speed_ratio"), "{:.2f}x"), _num(r.get("speed_ratio_wall"), "{:.2f}x"),
        ])
        efficiency.append([
            str(r["hidden_size"]), _num(mlx.get("tokens_per_s"), "{:,.0f}"), _rate(mlx),
            "-" if skipped else _rate(torch), _num(mlx.get("first_step_s"), "{:.1f} s"), _mb(mlx), _mb(torch),
        ])
    on = "CPU time" if results["basis"] == "cpu" else "wall time"
    out.append((f"Training step ({shape})",
                ["d", "parameters", "GFLOP/step", "MLX ms/step (CPU ms)", "PyTorch ms/step (CPU ms)",
                 f"speed, PyTorch/MLX {on}", "speed, PyTorch/MLX wall time"], speed))
    out.append((f"Training step: throughput, share of the sgemm peak, memory (rates on {on})",
                ["d", "MLX tokens/s", "MLX GFLOP/s (% of sgemm)", "PyTorch GFLOP/s (% of sgemm)",
                 "MLX first step", "MLX peak RSS", "PyTorch peak RSS"], efficiency))

    rows = []
    for r in results["inference"]:
        if "skipped" in r or "error" in r:
            rows.append([r["model"], r.get("skipped") or r.get("error"), "", "", "", "", ""])
            continue
        rows.append([
            f"{r['model']} (d {r['hidden_size']}, {r['layers']} layers)",
            f"{r['batch1_ms_per_segment']:.1f}", f"{r['first_segment_ms']:.0f}",
            f"{r['large_ms_per_segment']:.0f} (batch {r['large_batch']})",
            f"{r['puzzle_segments_per_s']:,.0f}",
            f"{r['large_ms_per_row_segment']:.2f} / {r['pass_ms_per_row_segment']:.2f} ({r['pass_rows']} rows)",
            _mb(r),
        ])
    out.append((f"Inference: one ACT segment, batch 1 as the app animates it ({on})",
                ["model", "batch-1 ms/segment", "first segment ms", "large batch ms/segment",
                 "puzzle-segments/s", "ms per row-segment: large batch / default rows per pass", "peak RSS"], rows))

    dynamic = results["dynamic_scheduling"]
    if "runs" in dynamic:
        names = {"fixed_segments": "fixed segments (every puzzle runs halt_max_steps)",
                 "batch_halting": "fixed batches, stop when every row halted",
                 "dynamic": f"dynamic ACT scheduling ({dynamic['slots']} slots)",
                 "dynamic_rules": "dynamic, a row stops when its answer follows the rules",
                 "dynamic_rules_still": "dynamic, rules or a still state (as `hrm solve` with views)"}
        rows = [[names[k], f"{v['puzzles_per_s']:.1f}", f"{v['exact_accuracy']:.1%}", f"{v['mean_segments']:.2f}"]
                for k, v in dynamic["runs"].items()]
        out.append((f"Batch solving ({on}) {dynamic['puzzles']} Sudoku puzzles ({dynamic['givens'][0]}-{dynamic['givens'][1]} "
                    f"givens): dynamic is {dynamic['speedup_vs_fixed_segments']:.2f}x fixed segments"
                    + (f", with the rule check {dynamic['speedup_rules_vs_fixed_segments']:.2f}x"
                       if "speedup_rules_vs_fixed_segments" in dynamic else "")
                    + (f", with rules and the still state {dynamic['speedup_rules_still_vs_fixed_segments']:.2f}x"
                       if "speedup_rules_still_vs_fixed_segments" in dynamic else ""),
                    ["mode", "puzzles/s", "exact accuracy", "mean segments"], rows))
    else:
        out.append(("Batch solving: dynamic ACT scheduling", ["status"],
                    [[dynamic.get("skipped") or dynamic.get("error", "")]]))

    grid = results.get("grid_training") or []
    if grid:
        out.append((f"Training step on larger grids (d 128, 2+2 layers, 2x2 cycles, rates on {on})",
                    ["grid", "cells", "batch", "attention", "MLX ms/step (CPU ms)", "tokens/s"],
                    [[f"{r['side']}x{r['side']}", str(r["cells"]), str(r["batch"]), r["attention"], _ms(r["mlx"]),
                      _num(r["mlx"].get("tokens_per_s"), "{:,.0f}")] for r in grid]))
    loaded = results.get("under_load") or {}
    if "seconds" in loaded:
        out.append((f"One hard Sudoku with {loaded['views']} views (`hrm solve`) while another process keeps one core busy",
                    ["BLAS threads", "wall seconds"],
                    [[name, f"{value:.1f}"] for name, value in loaded["seconds"].items()]))
    elif loaded:
        out.append(("Solving beside a busy core", ["status"], [[loaded.get("skipped") or loaded.get("error", "")]]))

    start = results["startup"]
    app = start.get("app_first_screen")
    out.append(("Start-up", ["what", "seconds"], [
        ["`hrm --help` (median)", _num(start.get("help_s"), "{:.2f}")],
        ["app to first screen (Pilot, from process start)",
         _num(start.get("app_first_screen_s"), "{:.2f}") if app is None else app.get("skipped") or app.get("error")],
    ]))

    out.append(("Targets", ["target", "goal", "measured", "met"],
                [[t["target"], t["goal"], t["measured"] or "not measured",
                  "-" if t["met"] is None else ("yes" if t["met"] else "no")] for t in results["targets"]]))
    return out


def summary(results: dict[str, Any]) -> str:
    m, plan, load = results["machine"], results["plan"], results["load_average"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    blas = next((r["mlx"].get("blas") for r in results["training"] if "blas" in r["mlx"]), None)
    compiled = next((r["mlx"].get("compiled") for r in results["training"] if "compiled" in r["mlx"]), None)
    return (f"{m['cpu']}, {m['logical_cores']} logical cores, {plan['threads']} thread(s) for BLAS and PyTorch; "
            f"MLX BLAS: {blas}; MLX step {'compiled' if compiled else 'eager'}; {packages}. Load average {load['start']} at the start, {load['end']} at the end "
            f"(above {plan['threads']} means other processes shared the cores). Took {results['seconds']:.0f} s.")


def markdown(results: dict[str, Any], command: str) -> str:
    lines = ["# Benchmarks", "",
             f"Measured by `{command}` on {results['created']}. {summary(results)}", ""]
    for title, header, rows in tables(results):
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
        lines.append("")
    lines += ["## Method", "", METHOD, "", "## What makes the MLX step fast", "", FAST, ""]
    return "\n".join(lines)


METHOD = """\
- Every measurement runs in a fresh process, so peak RSS is that of one workload and no run
  warms another. Times are medians of the repeats after warm-up; the first MLX step (which
  compiles the step, and on a fresh machine builds the vectorised kernels once) is shown apart.
- The training step is `Trainer.train_step`: refill of halted rows, the segment with the
  one-step gradient, the no-grad target-Q segment, backward, AdamATan2, SignSGD on the puzzle
  embedding. The PyTorch column (`hrm_tui/bench/torch_reference.py`) is the same model and step,
  eager, float32, with the same thread count.
- GFLOP/s counts matrix products only (`hrm_tui/bench/flops.py`); the sgemm peak is the best
  of five 1024^3 float32 matmuls, measured in the same process as the step (before and after).
- With one thread, rates, ratios and targets are computed from the process CPU time: the time
  the work actually ran, which other processes sharing the cores do not inflate (the wall
  time, also shown, does include their interference). With more threads, from wall time.
- Inference batch 1 is what the app runs per animation frame: one segment plus the H and L
  decodes of every inner update. Without shipped weights an untrained model of the
  `hrm train sudoku` shape stands in, and dynamic scheduling (which depends on learned halting)
  is skipped. Batch solving runs about 650 positions per forward pass on a CPU
  (`models.act.rows_per_pass`: 8 Sudoku rows), where a pass's activations stay in the core's
  cache; the inference table shows the cost per row there and at batch 256, and the batch
  solving comparison uses that width for every mode.
- On a shared machine the load average tells how much other processes took; ratios are
  measured back to back in one run, MLX and PyTorch alternating size by size."""


FAST = """\
- An optimised sgemm under MLX's CPU backend (models/backend.py, docs/architecture.md).
- The whole step (refill, forward, target Q, backward, AdamATan2) is one `mx.compile` with the
  model and optimiser state declared as inputs and outputs (models/training.py); inference runs
  one compiled function per segment (models/act.py).
- MLX builds its CPU compiled kernels with plain `g++ -O3`: scalar loops and out-of-line
  exp/sigmoid. models/cpu_jit.py adds `-march=native -fno-math-errno -fno-trapping-math` and an
  inline limit through a g++ wrapper (IEEE semantics kept), which makes the fused SiLU and
  softmax loops vectorised (a fused SiLU*up went from 39 ms to 0.9 ms on the d 128 shapes).
- SwiGLU and softmax have explicit gradients inside the compiled step so no transcendental is
  shared between forward and backward (a shared one runs alone in MLX's scalar kernel); q, k, v
  and gate, up are separate matmuls on the fused weights so elementwise work sees contiguous
  operands (models/fastmath.py, models/layers.py).
- The target-Q segment computes only position 0 in its final H block, the only one the Q head
  reads (models/hrm.py); MLX's allocator keeps a step's worth of buffers between steps; `hrm
  train` draws the next batch on a helper thread while the step runs.
- Without g++ (or with HRM_COMPILE=0) the eager path uses a polynomial exp built from cheap
  vectorised ops instead of MLX's scalar one."""
