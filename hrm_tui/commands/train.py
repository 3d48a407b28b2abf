"""`hrm train KIND`: train or resume an HRM with a live progress display and checkpoints."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from hrm_tui.commands._options import Kind


class Loss(str, Enum):
    stablemax = "stablemax"
    softmax = "softmax"


class PosEncodings(str, Enum):
    rope = "rope"
    learned = "learned"
    rope2d = "rope2d"


class SegmentGradient(str, Enum):
    one_step = "one_step"
    segment = "segment"


class MazeStyle(str, Enum):
    carved = "carved"
    scattered = "scattered"
    mixed = "mixed"
    all = "all"


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    kind: Kind = typer.Argument(..., help="Puzzle kind to train on."),
    run: Optional[Path] = typer.Option(None, help="Run directory for log and checkpoints \\[default: runs/KIND]."),
    resume: bool = typer.Option(True, help="Continue from the run directory's latest checkpoint if there is one."),
    steps: int = typer.Option(20000, help="Total optimiser steps (one per ACT segment)."),
    minutes: Optional[float] = typer.Option(None, help="Stop (with a checkpoint) after this many minutes."),
    batch_size: int = typer.Option(64, help="Puzzles per batch."),
    lr: float = typer.Option(1e-4, help="Peak learning rate (AdamATan2)."),
    warmup: int = typer.Option(2000, help="Linear warmup steps."),
    schedule: str = typer.Option("constant", help="After warmup: constant (reference) or cosine."),
    min_lr_ratio: float = typer.Option(1.0, help="Cosine floor as a fraction of --lr."),
    weight_decay: float = typer.Option(0.1),
    puzzle_emb_lr: float = typer.Option(1e-2, help="SignSGD learning rate of the puzzle embedding."),
    ema: float = typer.Option(0.0, help="EMA decay of weights used for eval/export (0 = off)."),
    hidden_size: int = typer.Option(128),
    heads: int = typer.Option(4),
    h_layers: int = typer.Option(2),
    l_layers: int = typer.Option(2),
    h_cycles: int = typer.Option(2),
    l_cycles: int = typer.Option(2),
    expansion: float = typer.Option(4.0),
    max_segments: int = typer.Option(8, help="ACT halt_max_steps."),
    explore: float = typer.Option(0.1, help="ACT halt exploration probability."),
    loss: Loss = typer.Option(Loss.stablemax, help="Token loss."),
    pos_encodings: PosEncodings = typer.Option(PosEncodings.rope, help="Positions: RoPE (reference default), a learned absolute table (reference option) or 2-D RoPE by row and column (ours)."),
    absolute_positions: bool = typer.Option(False, "--absolute-positions", help="Add a learned absolute position table (zero at the start) to RoPE or 2-D RoPE, so a cell knows where it is, e.g. which Sudoku box; ties the model to its grid."),
    rope_boxes: int = typer.Option(0, help="2-D RoPE: the side of the grid's boxes (3 for Sudoku), so attention can tell the cell's own box (0 = none)."),
    attention_window: int = typer.Option(0, help="Each grid cell attends only to a k x k window of cells (odd k >= 3; 0 = full attention, the reference): cost grows with the window, not the grid."),
    window_prefix: bool = typer.Option(True, "--window-prefix/--no-window-prefix", help="With --attention-window: whether grid cells also attend to the puzzle-embedding position (--no-window-prefix: a cell's update depends on its window only, the same at any position and grid size)."),
    distance_classes: int = typer.Option(0, help="Maze: an auxiliary head learns each open cell's steps from S and from G modulo K (a distance wavefront, which loops need; 0 = none, the reference); answers never read it."),
    segment_gradient: SegmentGradient = typer.Option(SegmentGradient.one_step, help="Gradient: through the last L and H update of each segment (reference one-step) or through every update of the segment (slower steps)."),
    givens_min: int = typer.Option(30, help="Sudoku: fewest givens in training puzzles."),
    givens_max: int = typer.Option(45, help="Sudoku: most givens in training puzzles."),
    curriculum: int = typer.Option(0, help="Sudoku: steps to move from --curriculum-start givens to the final range (0 = off); --data puzzles start with cells of their solution shown, up to that many givens, and reach their own givens by the end."),
    curriculum_start: int = typer.Option(60, help="Sudoku: givens at the curriculum's start (generated puzzles draw this to 15 more)."),
    data: list[str] = typer.Option([], "--data", help="Sudoku: a training file FILE or FILE:WEIGHT (repeatable): 'puzzle,solution' lines, puzzle-only lines (solved when read) or the Sudoku-Extreme CSV; mixed with generated puzzles by weight; a fixed slice is held out for evaluation."),
    generated_weight: float = typer.Option(1.0, help="Sudoku with --data: the generator's weight in the mix (0 = files only)."),
    data_holdout: int = typer.Option(256, help="Sudoku with --data: puzzles of each file held out for evaluation, never trained on."),
    maze_size: int = typer.Option(15, help="Maze: side length of generated training mazes (and of the held-out ones)."),
    maze_min_size: Optional[int] = typer.Option(None, help="Maze: train on sizes drawn from this to --maze-size (small mazes are an easier start) \\[default: --maze-size only]."),
    maze_style: MazeStyle = typer.Option(MazeStyle.carved, help="Maze: carved corridors, scattered walls (like the public Maze-Hard set), mixed (each maze either), or all (a third each: perfect carved, carved with --maze-loops, scattered)."),
    maze_loops: float = typer.Option(0.05, help="Maze, carved style: fraction of inner walls opened to make loops (0 = perfect mazes, where every dead end can simply be filled in)."),
    canvas: int = typer.Option(30, help="ARC and maze: side of the square canvas (smaller trains far faster; ARC skips larger grids, mazes must fit)."),
    augment: int = typer.Option(8, help="ARC: augmented views per task besides the original."),
    init_from: Optional[Path] = typer.Option(None, help="Start a new run from these weights (a weights or run directory of the same architecture; a 2-D RoPE model may change canvas), e.g. to grow maze sizes stage by stage."),
    seed: int = typer.Option(0),
    checkpoint_every: int = typer.Option(200),
    eval_every: int = typer.Option(500),
    log_every: int = typer.Option(10, help="Steps per log line (JSON lines in RUN/log.jsonl)."),
    eval_size: int = typer.Option(64, help="Held-out puzzles evaluated every --eval-every steps."),
    export: Optional[Path] = typer.Option(None, help="Write a weights directory (config, safetensors, card) at the end."),
    plot: bool = typer.Option(False, help="Show the loss/accuracy curves in the terminal at the end."),
) -> None:
    """Train (or resume) an HRM; checkpoints are atomic and the run resumes where it stopped."""
    from hrm_tui.training_run import TrainOptions, run_training

    options = TrainOptions(**{k: v for k, v in locals().items() if k in TrainOptions.__dataclass_fields__})
    run_training(options)
