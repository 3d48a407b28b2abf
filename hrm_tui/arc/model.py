"""What an ARC model knows besides its weights: its canvas, and which puzzle identifiers and
transforms ("views") it learned for each task.

The HRM learns one puzzle-embedding row per task and augmented view. To answer a test input
the same views must be rebuilt (same transform, same row) and their predictions voted on, so a
model records them in `config.extra`:

    {"canvas": 10,
     "task_ids": {"007bbfb7": 1, ...},                  # identity view (read by the app)
     "task_views": {"007bbfb7": [[1, "0:0123456789"], [2, "5:0741852963"], ...], ...}}

A view is written as "dihedral:colour permutation". A model may use a square canvas smaller
than ARC's 30x30 (training cost grows with its area squared); its tokens are the top-left
corner of the 30x30 encoding, so grids must fit it including their end-of-grid markers, and
everything about tokens stays defined by `puzzles.arc.tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from puzzles import arc
from puzzles.arc.tokens import END
from puzzles.errors import PuzzleError

FULL = arc.CANVAS


# -- views ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class View:
    """One augmented view of a task: the embedding row it uses and its transform."""

    identifier: int
    transform: arc.ArcTransform

    def to_json(self) -> list:
        t = self.transform
        return [self.identifier, f"{t.k}:{''.join(str(int(c)) for c in t.colours)}"]

    @classmethod
    def from_json(cls, value) -> "View":
        identifier, code = value
        k, colours = code.split(":")
        return cls(int(identifier), arc.ArcTransform(int(k), np.array([int(c) for c in colours], np.uint8)))


def make_views(rng: np.random.Generator, augment: int, first_identifier: int) -> list[View]:
    """The identity view plus `augment` random ones, numbered from `first_identifier`."""
    transforms = [arc.IDENTITY] + [arc.random_transform(rng) for _ in range(augment)]
    return [View(first_identifier + i, t) for i, t in enumerate(transforms)]


def blank_views() -> list[View]:
    """For a task the model never saw: the 8 symmetries, all on the blank row 0."""
    return [View(0, arc.ArcTransform(k, arc.IDENTITY.colours)) for k in range(8)]


@dataclass
class ArcModelInfo:
    canvas: int = FULL
    task_views: dict[str, list[View]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config) -> "ArcModelInfo":
        extra = config.extra or {}
        canvas = int(extra.get("canvas") or round(config.seq_len ** 0.5))
        if canvas * canvas != config.seq_len or not 1 <= canvas <= FULL:
            raise PuzzleError(f"this model's sequence length {config.seq_len} is not a square ARC canvas")
        views = {name: [View.from_json(v) for v in items] for name, items in (extra.get("task_views") or {}).items()}
        return cls(canvas, views)

    def to_extra(self) -> dict:
        return {
            "canvas": self.canvas,
            "task_ids": {name: views[0].identifier for name, views in self.task_views.items()},
            "task_views": {name: [v.to_json() for v in views] for name, views in self.task_views.items()},
        }

    def views_for(self, task_name: str) -> tuple[list[View], bool]:
        """(views, learned): the task's trained views, or the blank symmetries."""
        if task_name in self.task_views:
            return self.task_views[task_name], True
        return blank_views(), False


# -- canvas -----------------------------------------------------------------------------------

def fits(grid: np.ndarray, canvas: int, offset: tuple[int, int] = (0, 0)) -> bool:
    height, width = np.shape(grid)
    return offset[0] + height <= canvas and offset[1] + width <= canvas


def encode(grid: np.ndarray, canvas: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """int32 (canvas*canvas,) tokens of `grid` placed at `offset`."""
    if not fits(grid, canvas, offset):
        height, width = np.shape(grid)
        raise PuzzleError(f"a {height}x{width} grid does not fit this model's {canvas}x{canvas} canvas")
    full = arc.encode_grid(grid, offset).reshape(FULL, FULL)
    return np.ascontiguousarray(full[:canvas, :canvas]).reshape(canvas * canvas)


def full_canvas(tokens: np.ndarray, canvas: int) -> np.ndarray:
    """A canvas prediction as 30x30 tokens that `puzzles.arc` decodes exactly as on the small
    canvas: outside it every cell is an end-of-grid marker, so a grid reaching the canvas
    edge is terminated there, like a 30-wide grid on the full canvas."""
    full = np.full((FULL, FULL), END, np.int32)
    full[:canvas, :canvas] = np.asarray(tokens).reshape(canvas, canvas)
    return full.reshape(FULL * FULL)


def decode(tokens: np.ndarray, canvas: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The grid a canvas prediction states; PuzzleError when malformed."""
    return arc.decode_grid(full_canvas(tokens, canvas), offset)


def task_canvas(config, task) -> int:
    """The canvas a task is answered and adapted on: the model's own, or for a size-free model
    (2-D RoPE, `models.hrm.size_free`) one as large as the task's largest grid, up to 30x30, so
    every valid task gets the model's answer."""
    from models.hrm import size_free

    canvas = ArcModelInfo.from_config(config).canvas
    if not size_free(config):
        return canvas
    grids = [g for pair in (*task.train, *task.test) for g in (pair.input, pair.output) if g is not None]
    return min(FULL, max([canvas] + [max(np.shape(g)) for g in grids]))


def on_canvas(model, canvas: int):
    """The model with its weights on a `canvas` x `canvas` canvas (itself when that is its own)."""
    from dataclasses import replace

    from models.hrm import on_grid

    if canvas == ArcModelInfo.from_config(model.config).canvas:
        return model
    resized = on_grid(model, canvas, canvas)
    resized.config = replace(resized.config, extra={**(resized.config.extra or {}), "canvas": canvas})
    return resized


def random_offset(rng: np.random.Generator, grids: list[np.ndarray], canvas: int) -> tuple[int, int]:
    """A corner at which every grid of one example fits the canvas (translation augmentation)."""
    height = max(g.shape[0] for g in grids)
    width = max(g.shape[1] for g in grids)
    return int(rng.integers(canvas - height + 1)), int(rng.integers(canvas - width + 1))
