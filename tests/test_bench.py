"""`hrm bench`: the quick run writes its results and tables; the PyTorch reference is the same
model; the FLOP count matches a hand count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hrm_tui.bench import flops, report
from hrm_tui.bench.workloads import sudoku_config
from models.config import HRMConfig

REPO = Path(__file__).resolve().parents[1]


def test_flops_of_the_reference_sudoku_model():
    cfg = HRMConfig()  # d 512, 8 heads, 4+4 layers, 2x2 cycles, inter 1536, 81 + 1 positions
    per_token = 2 * (3 * 512 * 512 + 512 * 512 + 2 * 512 * 1536 + 1536 * 512)
    attention = 4 * 82 * 82 * 512
    assert flops.block_flops(cfg, 1) == 82 * per_token + attention
    heads = 2 * 81 * 512 * 11 + 2 * 512 * 2
    segment = (2 * 2 * 4 + 2 * 4) * flops.block_flops(cfg, 1) + heads
    assert flops.segment_flops(cfg, 1) == segment
    # segment + target segment + backward (2x forward) of the final L and H updates and heads
    assert flops.train_step_flops(cfg, 3) == pytest.approx(3 * (2 * segment + 2 * (8 * flops.block_flops(cfg, 1) + heads)))


def test_torch_reference_has_the_mlx_parameter_count():
    pytest.importorskip("torch")
    from hrm_tui.bench.torch_reference import TorchHRM
    from models.hrm import HRM, count_parameters

    cfg = sudoku_config(64, 2)
    torch_model = TorchHRM(cfg)
    assert sum(p.numel() for p in torch_model.parameters()) == count_parameters(HRM(cfg))


def test_quick_bench_writes_results_and_tables(tmp_path):
    script = Path(sys.executable).with_name("hrm")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hrm_tui"]
    done = subprocess.run([*command, "bench", "--quick", "--threads", "1", "--out", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "160"})
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["plan"]["quick"] and results["plan"]["threads"] == 1
    for row in results["training"]:
        assert row["mlx"]["ms_per_step"] > 0 and row["mlx"]["loss_finite"]
        assert 0 < row["mlx"]["utilisation"] < 1.5 and row["mlx"]["peak_rss_mb"] > row["mlx"]["base_rss_mb"]
        torch = row["torch"]
        assert "skipped" in torch or (torch["ms_per_step"] > 0 and row["speed_ratio"] > 0)
    measured = [r for r in results["inference"] if "skipped" not in r]
    assert measured and all(r["batch1_ms_per_segment"] > 0 for r in measured)
    assert all(r["pass_rows"] >= 1 and r["pass_ms_per_row_segment"] > 0 for r in measured)
    assert results["startup"]["help_s"] > 0
    assert {t["goal"] for t in results["targets"]} >= {"<= 10 ms", "< 0.3 s", ">= 2x", "<= 1.5x"}
    assert [r["side"] for r in results["grid_training"]] == [9] * 3 + [15] * 3
    assert len({r["attention"] for r in results["grid_training"]}) == 3
    assert all(r["mlx"]["tokens_per_s"] > 0 for r in results["grid_training"])
    runs = results["dynamic_scheduling"]["runs"]
    assert runs["dynamic_rules"]["exact_accuracy"] >= runs["fixed_segments"]["exact_accuracy"]
    assert runs["dynamic_rules_still"]["mean_segments"] <= runs["dynamic_rules"]["mean_segments"]
    assert set(results["under_load"]["seconds"]) == {"two threads", "one thread", "chosen by hrm"}
    markdown = (tmp_path / "benchmarks.md").read_text()
    for title, _, _ in report.tables(results):
        assert f"## {title}" in markdown
    assert "Training step" in done.stdout and "Targets" in done.stdout
