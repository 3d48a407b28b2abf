"""The training loop: one optimiser step per ACT segment, persistent carry, checkpoints,
resume, EMA, evaluation and callbacks for the UI (the CLI's rich progress, tests)."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import mlx.core as mx
import numpy as np
from mlx.utils import tree_flatten, tree_unflatten

from models import distributed as dist
from models import fastmath
from models.act import Carry, act_train_segment, initial_carry, predict, refill
from models.checkpoint import RunDir, all_finite, apply_arrays, model_arrays, numpy_rng_state, restore_numpy_rng
from models.config import HRMConfig
from models.cpu_jit import use_compile
from models.errors import ModelError
from models.hrm import HRM
from models.losses import IGNORE_LABEL
from models.optim import AdamATan2, learning_rate, sign_sgd_sparse_update


@dataclass
class TrainConfig:
    """Optimiser, schedule and bookkeeping. Defaults are the reference's (cfg_pretrain)."""

    batch_size: int = 64
    total_steps: int = 10000
    lr: float = 1e-4
    lr_warmup_steps: int = 2000
    lr_min_ratio: float = 1.0
    lr_schedule: str = "constant"  # "constant" (reference) or "cosine"
    beta1: float = 0.9
    beta2: float = 0.95
    weight_decay: float = 0.1
    puzzle_emb_lr: float = 1e-2
    puzzle_emb_weight_decay: float = 0.1
    ema_decay: float = 0.0  # 0 disables the exponential moving average of weights
    seed: int = 0
    checkpoint_every: int = 200
    keep_last: int = 3
    eval_every: int = 500
    log_every: int = 10

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class BatchSource(Protocol):
    """Supplies training batches {"inputs", "labels", "puzzle_identifiers"} as numpy arrays and
    can save/restore its position so a resumed run sees the same data."""

    def next_batch(self) -> dict[str, np.ndarray]: ...

    def state(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


class NonFiniteLoss(ModelError):
    """Raised instead of writing poisoned weights when the loss becomes NaN or inf.

    The run stops rather than rolling back: the same data would poison the same weights
    again, so the user chooses what to change (usually a lower --lr) and resumes from the
    last checkpoint, which `Trainer.save` guarantees is finite."""


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM stopped `run_steps`; `saved` says whether a checkpoint of
    the step reached was written (False only when a second signal cut a step short)."""

    def __init__(self, signum: int, step: int, saved: bool):
        super().__init__(f"{signal.Signals(signum).name} at step {step}")
        self.signum, self.step, self.saved = signum, step, saved


class _DeferredSignals:
    """While training, the first SIGINT/SIGTERM only asks the loop to stop at the next step
    boundary, so the checkpoint written on the way out holds one consistent step (weights,
    optimiser, carry, data position). A second signal interrupts at once, without saving.
    Handlers are only installed from the main thread (Python delivers signals there)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, trainer: "Trainer"):
        self.trainer = trainer
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_DeferredSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame) -> None:
        if self.received is not None:
            raise TrainingInterrupted(signum, self.trainer.step, saved=False)
        self.received = signum

    def __exit__(self, *exc) -> bool:
        for sig, handler in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        return False


def evaluate_exact(model: HRM, batch: dict[str, np.ndarray], max_segments: int | None = None,
                   stop_at_halt: bool = False) -> dict[str, float]:
    """Token and exact-sequence accuracy of `predict` on a labelled batch."""
    tokens, used = predict(model, batch["inputs"], batch.get("puzzle_identifiers"), max_segments, stop_at_halt)
    return {**score_tokens(tokens, batch["labels"]), "segments": float(used.mean())}


def score_tokens(tokens: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Token accuracy over labelled cells and the share of rows with every labelled cell right."""
    valid = labels != IGNORE_LABEL
    correct = (tokens == labels) | ~valid
    return {"token_accuracy": float(((tokens == labels) & valid).sum() / max(valid.sum(), 1)),
            "exact_accuracy": float(correct.all(axis=1).mean())}


class Trainer:
    def __init__(self, model_config: HRMConfig, train_config: TrainConfig, source: BatchSource,
                 run_dir: Path | None = None, eval_batch: dict[str, np.ndarray] | None = None,
                 on_log: Callable[[dict[str, Any]], None] | None = None):
        self.model_config = model_config
        self.cfg = train_config
        self.world = dist.world()
        dist.check_divides(train_config.batch_size, self.world)
        self.source = source  # the global batch; each rank trains on its rows (models/distributed.py)
        self.checkpointing = run_dir is not None
        # Rank 0 alone owns the run directory; the other ranks join its saves and resumes.
        self.run = RunDir(run_dir, keep_last=train_config.keep_last) if run_dir and self.world.is_main else None
        self.eval_batch = eval_batch
        # A trivial answer the held-out batch may carry ("floor": the maze's all-path answer), scored
        # once and logged beside every evaluation, so a model stuck on it shows at once.
        floor = eval_batch.get("floor") if eval_batch is not None else None
        self.eval_floor = ({f"eval_floor_{k}": v for k, v in score_tokens(floor, eval_batch["labels"]).items()}
                           if floor is not None else {})
        self.on_log = on_log
        self.model = HRM(model_config, seed=train_config.seed)
        self.optimizer = AdamATan2(learning_rate=0.0, betas=(train_config.beta1, train_config.beta2),
                                   weight_decay=train_config.weight_decay)
        self.rng = np.random.default_rng(train_config.seed + 1)
        self.step = 0
        self.best_exact = -1.0
        self.elapsed = 0.0
        self.ema: dict[str, mx.array] | None = None
        self.carry: Carry | None = None
        self._grad_fn = mx.value_and_grad(self._loss, argnums=(0, 1))
        self._compiled = None  # (optimiser state id, compiled step), see _step_function
        self._buffers_kept = False
        self._prefetched: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None  # see _prefetch
        self._drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hrm-batches")

    # -- one optimiser step ---------------------------------------------------------------
    def _loss(self, params, puzzle_rows, carry_arrays, explore_u, explore_steps):
        self.model.update(params)
        carry = Carry.from_arrays(carry_arrays)
        loss, metrics, new_carry = act_train_segment(self.model, carry, puzzle_rows, explore_u, explore_steps)
        # The reference backpropagates loss / global_batch_size.
        return loss / carry.inputs.shape[0], metrics, new_carry.arrays()

    def _optimise(self, carry_arrays, batch, explore_u, explore_steps):
        """Refill, forward, backward and the AdamATan2 update of one step: everything that can
        run as one compiled graph (the sparse SignSGD update needs the ids on the host)."""
        model = self.model
        carry = refill(model, Carry.from_arrays(carry_arrays), batch)
        rows = model.puzzle_rows(carry.puzzle_identifiers)
        (loss, metrics, new_carry), (grads, row_grads) = self._grad_fn(
            model.trainable_parameters(), rows, carry.arrays(), explore_u, explore_steps)
        w = self.world
        self.optimizer.update(model, dist.average_gradients(grads, w))
        totals = dist.sum_scalars({"loss": loss, **metrics}, w)
        loss = totals.pop("loss") / w.size
        return (loss, totals, new_carry, dist.gather_rows(row_grads, w),
                dist.gather_rows(carry.puzzle_identifiers, w))

    def _step_function(self):
        """`_optimise`, compiled when that pays (models/cpu_jit.py). The model and optimiser
        state are declared inputs and outputs, so every call reads the live weights (an
        undeclared capture would freeze them at the first call); resuming replaces the optimiser
        state object, which rebuilds the compiled function."""
        if not use_compile():
            return self._optimise
        key = id(self.optimizer.state)
        if self._compiled is None or self._compiled[0] != key:
            self.optimizer.init(self.model.trainable_parameters())  # every state leaf exists before tracing
            state = [self.model.state, self.optimizer.state]

            def traced(*args):
                with fastmath.fused():
                    return self._optimise(*args)

            self._compiled = (key, mx.compile(traced, inputs=state, outputs=state))
        return self._compiled[1]

    def _keep_step_buffers(self) -> None:
        """Let MLX's allocator cache a whole step's worth of freed buffers (its default is 32 MB),
        so every step reuses the last one's memory instead of faulting in fresh pages (~3%)."""
        peak = mx.get_peak_memory()
        previous = mx.set_cache_limit(peak)
        if previous > peak:
            mx.set_cache_limit(previous)
        self._buffers_kept = True

    def _prefetch(self) -> None:
        """Draw the next batch while this step computes (puzzle generation is ~10% of a Sudoku
        step). A checkpoint records the source position before the draw, so a resumed run draws
        the same batch again; if drawing fails, the next step draws (and fails) itself."""
        state = copy.deepcopy(self.source.state())
        try:
            batch = self.source.next_batch()
        except Exception:  # noqa: BLE001 - surfaces at the next step's own draw
            self.source.restore(state)
            return
        self._prefetched = (state, batch)

    def _source_state(self) -> dict[str, Any]:
        return self._prefetched[0] if self._prefetched is not None else self.source.state()

    def train_step(self) -> dict[str, float]:
        cfg, model, w = self.cfg, self.model, self.world
        if self._prefetched is not None:
            batch, self._prefetched = self._prefetched[1], None
        else:
            batch = self.source.next_batch()
        batch = dist.shard_rows(batch, w)
        if self.carry is None:
            self.carry = initial_carry(model, batch)
        B = self.carry.inputs.shape[0] * w.size  # the global batch: every rank draws the same numbers
        explore_u = mx.array(dist.shard_rows(self.rng.random(B).astype(np.float32), w))
        explore_steps = mx.array(dist.shard_rows(
            self.rng.integers(2, model.config.halt_max_steps + 1, size=B).astype(np.int32), w))
        lr = learning_rate(self.step, cfg.lr, cfg.lr_warmup_steps, cfg.total_steps, cfg.lr_min_ratio, cfg.lr_schedule)
        self.optimizer.learning_rate = lr
        keys = ("inputs", "labels", "puzzle_identifiers") + (("distances",) if model.config.distance_classes else ())
        batch = {k: mx.array(batch[k], dtype=mx.int32) for k in keys}
        loss, metrics, new_carry, row_grads, ids = self._step_function()(
            self.carry.arrays(), batch, explore_u, explore_steps)
        # The next batch is drawn on a helper thread while mx.eval (which releases the GIL) runs
        # the step here: MLX streams belong to the thread that made them, and mx.async_eval
        # would still submit, and so wait for, all but the last ten ops of the step.
        drawing = self._drawer.submit(self._prefetch)
        mx.eval(loss, metrics, new_carry, row_grads, ids)
        drawing.result()
        if model.config.puzzle_emb_ndim > 0:
            p_lr = learning_rate(self.step, cfg.puzzle_emb_lr, cfg.lr_warmup_steps, cfg.total_steps,
                                 cfg.lr_min_ratio, cfg.lr_schedule)
            model.puzzle_emb = sign_sgd_sparse_update(
                model.puzzle_emb, np.array(ids), row_grads, p_lr, cfg.puzzle_emb_weight_decay)
        self.carry = Carry.from_arrays(new_carry)
        if cfg.ema_decay > 0:
            self._update_ema()
        mx.eval(loss, metrics, model.parameters(), self.optimizer.state, self.carry.arrays(),
                *([self.ema] if self.ema is not None else []))
        self.step += 1
        if not self._buffers_kept:
            self._keep_step_buffers()

        loss_value = float(loss.item())
        if not math.isfinite(loss_value):
            raise NonFiniteLoss(f"loss became {loss_value} at step {self.step}; stopped without saving "
                                "(the last checkpoint is intact; try a lower --lr)")
        m = {k: float(v.item()) for k, v in metrics.items()}
        count = m.pop("count")
        out = {"step": self.step, "loss": loss_value, "lr": lr, "halted": count}
        if count > 0:
            out.update(accuracy=m["accuracy"] / count, exact_accuracy=m["exact_accuracy"] / count,
                       q_halt_accuracy=m["q_halt_accuracy"] / count, segments=m["steps"] / count)
            if "distance_accuracy" in m:
                out["distance_accuracy"] = m["distance_accuracy"] / count
        return out

    def _update_ema(self) -> None:
        # Warm-up (as in common EMA practice) so early exports are not dominated by the init.
        d = min(self.cfg.ema_decay, (1 + self.step) / (10 + self.step))
        current = model_arrays(self.model)
        if self.ema is None:
            self.ema = dict(current)
        else:
            self.ema = {k: d * self.ema[k] + (1 - d) * current[k] for k in current}

    def export_model(self) -> HRM:
        """The model to evaluate and ship: the EMA weights when enabled, else the live ones."""
        if self.ema is None:
            return self.model
        model = HRM(self.model_config)
        apply_arrays(model, self.ema, "EMA weights")
        return model

    # -- the loop -------------------------------------------------------------------------
    def run_steps(self, num_steps: int | None = None, time_limit: float | None = None,
                  should_stop: Callable[[], bool] | None = None) -> None:
        """Train until total_steps (or num_steps more, or time_limit seconds), logging,
        evaluating and checkpointing on the way; saves a checkpoint when stopping.

        SIGINT and SIGTERM stop at the next step boundary, save, and raise
        TrainingInterrupted (a KeyboardInterrupt)."""
        if self.run:
            self.run.create()
        dist.check_same(describe(self) + f"{self.step} {json.dumps(self._source_state(), default=str)}",
                        "configuration, step or data position", self.world)
        target = self.cfg.total_steps if num_steps is None else min(self.cfg.total_steps, self.step + num_steps)
        start = time.monotonic()
        base_elapsed = self.elapsed
        window: list[dict[str, float]] = []
        window_start = time.monotonic()
        with _DeferredSignals(self) as signals:
            while self.step < target:
                stop = (signals.received is not None
                        or (time_limit is not None and time.monotonic() - start >= time_limit)
                        or (should_stop is not None and should_stop()))
                if dist.any_rank(stop, self.world):  # every rank stops at the same step
                    break
                window.append(self.train_step())
                self.elapsed = base_elapsed + time.monotonic() - start
                if self.step % self.cfg.log_every == 0 or self.step == target:
                    record = self._summarise(window, time.monotonic() - window_start)
                    window, window_start = [], time.monotonic()
                    evaluated = self.eval_batch is not None and (self.step % self.cfg.eval_every == 0
                                                                 or self.step == target)
                    if evaluated:
                        record.update(self._evaluate())
                    # The line goes in before any checkpoint of this step: a kill between the two
                    # then resumes before the step and writes the line again, never skips it.
                    self._log(record)
                    if evaluated and self.checkpointing and record["eval_exact_accuracy"] > self.best_exact:
                        self.best_exact = record["eval_exact_accuracy"]
                        self.save(is_best=True)
                if self.checkpointing and self.step % self.cfg.checkpoint_every == 0:
                    self.save()
            if self.checkpointing:
                self.save()
        if signals.received is not None:
            raise TrainingInterrupted(signals.received, self.step, saved=self.checkpointing)

    def _evaluate(self) -> dict[str, float]:
        """Rank 0 evaluates the export model on the held-out batch; every rank gets the figures."""
        figures = None
        if self.world.is_main:
            figures = {f"eval_{k}": v for k, v in evaluate_exact(self.export_model(), self.eval_batch).items()}
            figures.update(self.eval_floor)
        return dist.from_main(figures, self.world)

    def _summarise(self, window: list[dict[str, float]], seconds: float) -> dict[str, Any]:
        record: dict[str, Any] = {"step": self.step, "wall_time": round(self.elapsed, 2)}
        record["loss"] = float(np.mean([w["loss"] for w in window]))
        record["lr"] = window[-1]["lr"]
        halted = sum(w["halted"] for w in window)
        for key in ("accuracy", "exact_accuracy", "q_halt_accuracy", "segments", "distance_accuracy"):
            vals = [(w[key], w["halted"]) for w in window if key in w]
            if vals and halted:
                record[key] = float(sum(v * n for v, n in vals) / halted)
        record["puzzles_per_s"] = halted / max(seconds, 1e-9)
        record["steps_per_s"] = len(window) / max(seconds, 1e-9)
        record["ranks"] = self.world.size  # so cards can say how many cores made each step
        return record

    def _log(self, record: dict[str, Any]) -> None:
        if not self.world.is_main:
            return
        if self.run:
            self.run.append_log(record)
        if self.on_log:
            self.on_log(record)

    # -- checkpoints ------------------------------------------------------------------------
    def save(self, is_best: bool = False) -> Path | None:
        """Every rank takes part (the carry is gathered from all of them); rank 0 writes."""
        if not self.checkpointing:
            return None
        arrays = {
            "model": model_arrays(self.model),
            "optimizer": dict(tree_flatten(self.optimizer.state)),
        }
        if self.carry is not None:
            arrays["carry"] = dist.gather_rows(self.carry.arrays(), self.world)  # global row order
            mx.eval(arrays["carry"])  # on every rank now: only rank 0 writes, and a lazy gather waits for all
        if self.ema is not None:
            arrays["ema"] = self.ema
        if not all_finite(arrays["model"]) or not all_finite(arrays.get("ema", {})):
            raise NonFiniteLoss(f"the weights became NaN or inf at step {self.step}; stopped without "
                                "saving (the last checkpoint is intact; try a lower --lr)")
        state = {
            "step": self.step,
            "elapsed": self.elapsed,
            "best_exact": self.best_exact,
            "rng": numpy_rng_state(self.rng),
            "source": self._source_state(),
            "model_config": self.model_config.to_dict(),
            "train_config": self.cfg.to_dict(),
        }
        if self.run is None:
            return None
        return self.run.save(self.step, arrays, state, is_best=is_best)

    def resume(self) -> bool:
        """Restore the latest checkpoint of the run directory; False when there is none.
        Rank 0 reads it and sends its contents to the other ranks, whatever their number."""
        if not self.checkpointing:
            return False
        found, error = None, None
        if self.run:
            try:
                found = self._read_latest()
            except ModelError as exc:
                error = exc
        found = dist.from_main({"error": str(error)} if error else found, self.world)
        if error:
            raise error
        if found is None:
            return False
        if "error" in found:
            raise ModelError(found["error"])
        groups, state = found["groups"], found["state"]
        apply_arrays(self.model, groups["model"], found["source"])
        opt_state = tree_unflatten(list(groups["optimizer"].items()))
        self.optimizer.init(self.model.trainable_parameters())
        self.optimizer.state = opt_state
        self.carry = Carry.from_arrays(dist.shard_rows(groups["carry"], self.world)) if "carry" in groups else None
        self.ema = groups.get("ema")
        self.step = int(state["step"])
        self.elapsed = float(state.get("elapsed", 0.0))
        self.best_exact = float(state.get("best_exact", -1.0))
        self.rng = restore_numpy_rng(state["rng"])
        self.source.restore(state["source"])
        self._prefetched = None
        if self.run:
            self.run.truncate_log(self.step)
        mx.eval(self.model.parameters(), self.optimizer.state)
        return True

    def _read_latest(self) -> dict[str, Any] | None:
        """The latest checkpoint's array groups and state, checked against this run's config."""
        ckpt = self.run.latest()
        if ckpt is None:
            return None
        groups, state = RunDir.load(ckpt)
        # Read through HRMConfig so a run saved before a config field existed compares with
        # that field's default (the value it was trained with).
        if HRMConfig.from_dict(state.get("model_config", {})) != self.model_config:
            raise ModelError(f"{self.run.path} was trained with a different model config; "
                             "use another --run directory or the same options")
        missing = [f"{name}.safetensors" for name in ("optimizer",) if name not in groups]
        missing += [f"state.json '{key}'" for key in ("rng", "source") if key not in state]
        if missing:
            raise ModelError(f"checkpoint {ckpt} cannot be resumed: it lacks {', '.join(missing)}")
        return {"groups": groups, "state": state, "source": str(ckpt / "model.safetensors")}


def describe(trainer: Trainer) -> str:
    """The run's model and training configuration as JSON (ranks compare it before training)."""
    return json.dumps({"model": trainer.model_config.to_dict(), "train": trainer.cfg.to_dict()}, indent=2)
