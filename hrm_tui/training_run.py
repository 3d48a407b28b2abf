"""Glue behind `hrm train`: options -> configs, data source, progress display, export."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hrm_tui.errors import UserError


@dataclass
class TrainOptions:
    kind: Any
    run: Optional[Path]
    resume: bool
    steps: int
    minutes: Optional[float]
    batch_size: int
    lr: float
    warmup: int
    schedule: str
    min_lr_ratio: float
    weight_decay: float
    puzzle_emb_lr: float
    ema: float
    hidden_size: int
    heads: int
    h_layers: int
    l_layers: int
    h_cycles: int
    l_cycles: int
    expansion: float
    max_segments: int
    explore: float
    loss: Any
    pos_encodings: Any
    absolute_positions: bool
    rope_boxes: int
    attention_window: int
    window_prefix: bool
    distance_classes: int
    segment_gradient: Any
    givens_min: int
    givens_max: int
    curriculum: int
    curriculum_start: int
    data: list[str]
    generated_weight: float
    data_holdout: int
    maze_size: int
    maze_min_size: Optional[int]
    maze_style: Any
    maze_loops: float
    canvas: int
    augment: int
    init_from: Optional[Path]
    seed: int
    checkpoint_every: int
    eval_every: int
    log_every: int
    eval_size: int
    export: Optional[Path]
    plot: bool

    @property
    def kind_name(self) -> str:
        return getattr(self.kind, "value", self.kind)


def _validate(o: TrainOptions) -> None:
    import math

    floats = {"--lr": o.lr, "--min-lr-ratio": o.min_lr_ratio, "--weight-decay": o.weight_decay,
              "--puzzle-emb-lr": o.puzzle_emb_lr, "--ema": o.ema, "--expansion": o.expansion,
              "--explore": o.explore, "--generated-weight": o.generated_weight, "--maze-loops": o.maze_loops, "--minutes": o.minutes or 1.0}
    for flag, value in floats.items():
        if not math.isfinite(value):
            raise UserError(f"{flag} must be a finite number, got {value}")
    checks = [
        (o.steps > 0, "--steps must be positive"),
        (o.batch_size > 0, "--batch-size must be positive"),
        (o.lr > 0, "--lr must be positive"),
        (o.warmup >= 0, "--warmup must be >= 0"),
        (o.schedule in ("constant", "cosine"), "--schedule must be constant or cosine"),
        (0 <= o.ema < 1, "--ema must be in [0, 1)"),
        (o.max_segments >= 1, "--max-segments must be >= 1"),
        (0 <= o.explore <= 1, "--explore must be in [0, 1]"),
        (0 <= o.givens_min <= o.givens_max <= 81, "need 0 <= --givens-min <= --givens-max <= 81"),
        (17 <= o.curriculum_start <= 81, "--curriculum-start must be 17-81 givens"),
        (min(o.checkpoint_every, o.eval_every, o.log_every) > 0,
         "--checkpoint-every, --eval-every and --log-every must be positive"),
        (o.minutes is None or o.minutes > 0, "--minutes must be positive"),
        (1 <= o.canvas <= 30, "--canvas must be between 1 and 30"),
        (o.augment >= 0, "--augment must be >= 0"),
        (0 <= o.maze_loops <= 1, "--maze-loops must be between 0 and 1"),
        (o.distance_classes == 0 or o.kind_name == "maze" and o.distance_classes >= 2,
         "--distance-classes is for maze and must be 0 or >= 2"),
        (min(o.hidden_size, o.heads, o.h_layers, o.l_layers, o.h_cycles, o.l_cycles) > 0,
         "--hidden-size, --heads, --h-layers, --l-layers, --h-cycles and --l-cycles must be positive"),
        (o.expansion > 0, "--expansion must be positive"),
        (o.eval_size > 0, "--eval-size must be positive"),
        (o.generated_weight >= 0, "--generated-weight must be >= 0"),
        (o.data_holdout >= 0, "--data-holdout must be >= 0"),
        (not o.data or o.kind_name == "sudoku", "--data is for sudoku (maze and ARC build their own data)"),
        (o.kind_name != "maze" or 5 <= o.maze_size <= o.canvas,
         f"--maze-size must be between 5 and {o.canvas} (the --canvas)"),
        (o.kind_name != "maze" or o.maze_min_size is None or 5 <= o.maze_min_size <= o.maze_size,
         "--maze-min-size must be between 5 and --maze-size"),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(message)


def model_config(o: TrainOptions, num_puzzle_identifiers: int = 1):
    from models.config import HRMConfig

    vocab_size, seq_len, grid_shape = kind_geometry(o.kind_name)
    if o.kind_name == "maze":  # a smaller canvas trains far faster (attention is quadratic)
        seq_len, grid_shape = o.canvas * o.canvas, (o.canvas, o.canvas)
    config = HRMConfig(
        puzzle_kind=o.kind_name, vocab_size=vocab_size, seq_len=seq_len,
        num_puzzle_identifiers=num_puzzle_identifiers, puzzle_emb_ndim=o.hidden_size, hidden_size=o.hidden_size,
        num_heads=o.heads, H_layers=o.h_layers, L_layers=o.l_layers, H_cycles=o.h_cycles,
        L_cycles=o.l_cycles, expansion=o.expansion, halt_max_steps=o.max_segments,
        halt_exploration_prob=o.explore, loss_type=getattr(o.loss, "value", o.loss),
        pos_encodings=getattr(o.pos_encodings, "value", o.pos_encodings),
        absolute_positions=o.absolute_positions, rope_boxes=o.rope_boxes, attention_window=o.attention_window,
        window_prefix=o.window_prefix, distance_classes=o.distance_classes, segment_gradient=getattr(o.segment_gradient, "value", o.segment_gradient),
        grid_shape=grid_shape,
    )
    if o.kind_name == "arc":
        from hrm_tui.arc.training import arc_model_fields

        config = dataclasses.replace(config, **arc_model_fields(o))
    return config


def kind_geometry(kind: str) -> tuple[int, int, tuple[int, int]]:
    """(vocab size, sequence length, grid shape) of a puzzle kind's token encoding."""
    from puzzles.kinds import get_kind

    spec = get_kind(kind)
    side = int(round(spec.seq_len ** 0.5))
    return spec.vocab_size, spec.seq_len, (side, side)


def train_config(o: TrainOptions):
    from models.training import TrainConfig

    return TrainConfig(
        batch_size=o.batch_size, total_steps=o.steps, lr=o.lr, lr_warmup_steps=o.warmup,
        lr_min_ratio=o.min_lr_ratio, lr_schedule=o.schedule, weight_decay=o.weight_decay,
        puzzle_emb_lr=o.puzzle_emb_lr, puzzle_emb_weight_decay=o.weight_decay, ema_decay=o.ema,
        seed=o.seed, checkpoint_every=o.checkpoint_every, eval_every=o.eval_every,
        log_every=o.log_every,
    )


def data_sources(o: TrainOptions):
    """(training source, held-out evaluation batch, number of puzzle identifiers) for the kind."""
    from hrm_tui import data_sources as ds

    if o.kind_name == "sudoku" and o.data:
        return sudoku_file_sources(o)
    if o.kind_name == "sudoku":
        schedule = ds.GivensSchedule.starting_at(o.givens_min, o.givens_max, o.curriculum, o.curriculum_start)
        source = ds.SudokuSource(o.batch_size, schedule, o.seed)
        evaluation = ds.SudokuSource(o.eval_size, ds.GivensSchedule(o.givens_min, o.givens_max),
                                     o.seed, stream=ds.EVAL_STREAM).next_batch()
        return source, evaluation, 1
    if o.kind_name == "maze":
        from puzzles.maze import every_open_cell_path

        style = getattr(o.maze_style, "value", o.maze_style)
        source = ds.MazeSource(o.batch_size, o.maze_size, o.seed, canvas=o.canvas, min_size=o.maze_min_size,
                               style=style, loops=o.maze_loops, distance_classes=o.distance_classes)
        evaluation = ds.MazeSource(o.eval_size, o.maze_size, o.seed, stream=ds.EVAL_STREAM,
                                   canvas=o.canvas, style=style, loops=o.maze_loops).next_batch()
        evaluation["floor"] = every_open_cell_path(evaluation["inputs"])  # logged beside each evaluation
        return source, evaluation, 1
    from hrm_tui.arc.training import arc_sources

    return arc_sources(o)


def parse_data_option(value: str) -> tuple[Path, float]:
    """`FILE` or `FILE:WEIGHT` (a path may itself hold ':' when no weight follows)."""
    path, _, weight = value.rpartition(":")
    try:
        return (Path(path), float(weight)) if path else (Path(value), 1.0)
    except ValueError:
        return Path(value), 1.0


def benchmark_puzzles() -> set[str]:
    """The 81-character puzzles of the Sudoku benchmarks, which no training stream may hold."""
    from puzzles import sudoku

    root = Path(__file__).resolve().parents[1] / "benchmarks"
    return {sudoku.format_line(puzzle) for path in sorted(root.glob("sudoku*/*.txt"))
            for puzzle, _ in sudoku.read_file(path)}


def sudoku_file_sources(o: TrainOptions):
    """Training files mixed with the generator; each file's fixed held-out slice evaluates."""
    from hrm_tui import data_sources as ds
    from puzzles.errors import PuzzleError
    from puzzles.sudoku.files import read_training_file

    files, holdouts, facts, exclude = [], [], [], benchmark_puzzles()
    for value in o.data:
        path, weight = parse_data_option(value)
        if not weight >= 0 or weight == float("inf"):
            raise UserError(f"--data {value}: the weight must be a finite number >= 0")
        try:
            read = read_training_file(path, exclude, progress=_solving_progress(path))
        except PuzzleError as exc:
            raise UserError(f"--data: {exc}") from None
        train_rows, held_rows = read.split(o.data_holdout)
        if not len(train_rows):
            raise UserError(f"--data {path}: no puzzles left to train on")
        files.append(ds.WeightedFile(read, train_rows, weight))
        holdouts.append(held_rows)
        facts.append({**read.facts(o.data_holdout), "weight": weight})
    if o.generated_weight + sum(f.weight for f in files) <= 0:
        raise UserError("--data weights and --generated-weight are all 0: nothing to train on")
    schedule = ds.GivensSchedule.starting_at(o.givens_min, o.givens_max, o.curriculum, o.curriculum_start)
    source = ds.SudokuMixSource(o.batch_size, schedule, o.seed, files, o.generated_weight)
    source.facts = facts
    if not any(len(rows) for rows in holdouts):
        evaluation = ds.SudokuSource(o.eval_size, ds.GivensSchedule(o.givens_min, o.givens_max),
                                     o.seed, stream=ds.EVAL_STREAM).next_batch()
    else:
        evaluation = ds.heldout_batch([f for f, r in zip(files, holdouts) if len(r)],
                                      [r for r in holdouts if len(r)], o.eval_size)
    return source, evaluation, 1


def _solving_progress(path: Path):
    """Progress lines on stderr while a file's puzzle-only lines are solved (none when it has none)."""
    from rich.console import Console

    console = Console(stderr=True)

    def update(done: int, total: int) -> None:
        if done == 1 or done == total or done % 500 == 0:
            console.print(f"solving {path.name}: {done:,}/{total:,} puzzles", highlight=False)

    return update


def run_training(o: TrainOptions) -> None:
    _validate(o)
    from models.errors import ModelError
    from models.training import Trainer, TrainingInterrupted

    world = _world(o)
    run_dir = o.run or Path("runs") / o.kind_name
    source, evaluation, num_ids = data_sources(o)
    mcfg, tcfg = model_config(o, num_ids), train_config(o)
    display = ProgressDisplay(tcfg.total_steps, quiet=not world.is_main)
    trainer = Trainer(mcfg, tcfg, source, run_dir=run_dir, eval_batch=evaluation, on_log=display.update)
    main = trainer.run  # None on ranks other than 0: they neither read nor write the run directory
    try:
        _open_run_dir(main, o, run_dir, world)
        if o.resume and trainer.resume():
            display.note(f"resumed {run_dir} at step {trainer.step}")
        elif o.init_from:
            _warm_start(trainer.model, o.init_from, o.kind_name)
            display.note(f"started from the weights of {o.init_from}")
        if main:
            _write_run_json(run_dir, "options.json", dataclasses.asdict(o))
            if getattr(source, "facts", None):
                _write_run_json(run_dir, "data.json", source.facts)
        if world.size > 1:
            display.note(f"training on {world.size} ranks, {o.batch_size // world.size} puzzles each per step")
        with display:
            display.start(trainer.step)
            trainer.run_steps(time_limit=o.minutes * 60 if o.minutes else None)
    except TrainingInterrupted as stop:
        latest = main.latest() if main else None
        if stop.saved:
            display.note(f"interrupted at step {stop.step}; checkpoint saved in {latest}; "
                         f"resume with the same command")
        else:
            display.note(f"interrupted again at step {stop.step}: stopped without saving; "
                         f"the last checkpoint is {latest}")
        raise SystemExit(128 + stop.signum)
    except KeyboardInterrupt:
        display.note("interrupted before training started; the run directory is as it was")
        raise SystemExit(130)
    except ModelError as exc:  # raised on every rank alike; rank 0 says it
        raise (UserError(str(exc)) if main else SystemExit(2)) from None
    display.note(f"step {trainer.step}/{tcfg.total_steps}, {trainer.elapsed / 60:.1f} min; checkpoints in {run_dir}")
    if not main:
        return
    if o.export:
        from hrm_tui.cards import export_run

        export_run(run_dir, o.export)
        display.note(f"exported weights to {o.export}")
    if o.plot:
        from hrm_tui.curves import plot_terminal

        plot_terminal(trainer.run.read_log())


def _warm_start(model, source: Path, kind: str) -> None:
    """Load another model's weights into a fresh run's model. Every tensor must have the same
    shape, so only the grid may differ, and only for a size-free (2-D RoPE) model; a RoPE donor
    may gain an absolute position table, which starts at zero and so changes nothing."""
    from models.checkpoint import apply_arrays, load_weights, model_arrays
    from models.hrm import size_free

    donor = load_weights(source, expected_kind=kind)
    if donor.config.grid_shape != model.config.grid_shape and not size_free(donor.config):
        raise UserError(f"--init-from {source}: its {donor.config.positions} positions tie it to a "
                        f"{donor.config.grid_shape[0]}x{donor.config.grid_shape[1]} grid; this run's is "
                        f"{model.config.grid_shape[0]}x{model.config.grid_shape[1]}")
    arrays = model_arrays(donor)
    if model.config.absolute_positions and not donor.config.absolute_positions:
        arrays["embed_pos"] = model.embed_pos
    apply_arrays(model, arrays, f"--init-from {source}")


def _world(o: TrainOptions):
    """The ranks of this run (one process unless started by `mlx.launch`; docs/distributed.md)."""
    from models.distributed import world

    w = world()
    if o.batch_size % w.size:
        raise UserError(f"--batch-size {o.batch_size} does not split over {w.size} ranks; use a multiple of {w.size}")
    return w


def _open_run_dir(main, o: TrainOptions, run_dir: Path, world) -> None:
    """Rank 0 (`main`, the RunDir) creates the run directory or refuses it; the other ranks
    wait for its answer, so a refusal stops every rank before any of them trains."""
    from models.distributed import from_main
    from models.errors import ModelError

    refusal = None
    if main:
        try:
            main.create()
            if not o.resume and main.latest() is not None:
                refusal = f"{run_dir} already has checkpoints; pass --resume or choose another --run"
        except ModelError as exc:
            refusal = str(exc)
    refusal = from_main(refusal, world)
    if refusal:
        raise UserError(refusal) if main else SystemExit(2)


def _write_run_json(run_dir: Path, name: str, data) -> None:
    """A JSON file of the run directory (options.json; data.json: each training file's name,
    lines and digest, for the card), written atomically; failing is a one-line error."""
    from models.checkpoint import atomic_write_text

    try:
        atomic_write_text(run_dir / name, json.dumps(_jsonable(data), indent=2) + "\n")
    except OSError as exc:
        raise UserError(f"cannot write {run_dir / name}: {exc.strerror or exc}") from None


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return getattr(value, "value", value)


class ProgressDisplay:
    """Rich progress bar on a terminal; one plain line per log record otherwise (background runs)."""

    def __init__(self, total: int, quiet: bool = False):
        from rich.console import Console

        self.console = Console(stderr=True, quiet=quiet)  # quiet: ranks other than 0 print nothing
        self.total = total
        self.interactive = self.console.is_terminal and not quiet
        self.progress = None
        self.task = None

    def __enter__(self):
        if self.interactive:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), TextColumn("{task.description}"),
                                     console=self.console)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.__exit__(*exc)
        return False

    def start(self, step: int) -> None:
        if self.progress:
            self.task = self.progress.add_task("", total=self.total, completed=step)

    def note(self, text: str) -> None:
        self.console.print(text, soft_wrap=True)

    def update(self, record: dict[str, Any]) -> None:
        parts = [f"loss {record['loss']:.3f}"]
        if "accuracy" in record:
            parts.append(f"acc {record['accuracy']:.3f} exact {record.get('exact_accuracy', 0):.3f} "
                         f"seg {record.get('segments', 0):.1f}")
        if "eval_exact_accuracy" in record:
            parts.append(f"eval exact {record['eval_exact_accuracy']:.3f} tok {record['eval_token_accuracy']:.3f}")
            if "eval_floor_exact_accuracy" in record:
                parts.append(f"(all-path {record['eval_floor_exact_accuracy']:.3f} / "
                             f"{record['eval_floor_token_accuracy']:.3f})")
        parts.append(f"{record['puzzles_per_s']:.1f} puzzles/s")
        text = "  ".join(parts)
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=record["step"], description=text)
        else:
            self.console.print(f"{time.strftime('%H:%M:%S')} step {record['step']}/{self.total}  {text}",
                               highlight=False, soft_wrap=True)
