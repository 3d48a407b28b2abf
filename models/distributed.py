"""Data-parallel training over `mlx.distributed` (processes started by `mlx.launch`).

Every rank runs the same command. The global batch is the one a single process would train
on: every rank draws it from the same seeded source and keeps one contiguous block of rows
(rank r of N keeps rows r*B/N .. (r+1)*B/N - 1), draws the same exploration numbers and keeps
its block of those too. Gradients are averaged across ranks inside the compiled step; the
sparse puzzle-embedding update gathers (ids, row gradients) from every rank first, as the
reference does. N ranks therefore follow the single-process run on the same global batch up to
the order of float sums, and a checkpoint, whose ACT carry is gathered back into global row
order, resumes on any number of ranks that divides the batch size. Rank 0 alone reads and
writes the run directory; the other ranks receive what it read, so they need no shared disk.

With one process every helper returns its input unchanged and communicates nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, TypeVar

import mlx.core as mx
import numpy as np

from models.errors import ModelError

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place among the ranks of a run."""

    rank: int = 0
    size: int = 1
    group: Any = None  # mx.distributed.Group, None for a single process

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that logs, shows progress and owns the run directory."""
        return self.rank == 0


_world: World | None = None


def world() -> World:
    """The ranks of this run, initialised once per process (a single process outside
    `mlx.launch`: MLX's collectives are no-ops for a group of one)."""
    global _world
    if _world is None:
        group = mx.distributed.init()
        _world = World(group.rank(), group.size(), group) if group.size() > 1 else World()
        launched_rank = int(os.environ.get("MLX_RANK", "0") or 0)
        if _world.size == 1 and launched_rank > 0:
            # Otherwise this rank would train alone and overwrite rank 0's run directory.
            raise ModelError(f"rank {launched_rank} could not join the other ranks "
                             "(mlx.distributed found no backend); check the hostfile and --backend")
    return _world


def check_divides(batch_size: int, w: World) -> None:
    if batch_size % w.size:
        raise ModelError(f"the batch size {batch_size} does not split over {w.size} ranks; "
                         f"use a multiple of {w.size}")


def shard_rows(tree: T, w: World) -> T:
    """This rank's contiguous block of rows (axis 0) of every array in a dict tree (numpy or MLX)."""
    if w.size == 1:
        return tree
    if isinstance(tree, dict):
        return {k: shard_rows(v, w) for k, v in tree.items()}
    rows = tree.shape[0]
    check_divides(rows, w)
    block = rows // w.size
    return tree[w.rank * block:(w.rank + 1) * block]


def gather_rows(tree: T, w: World) -> T:
    """The global rows of every array in a dict tree: each rank's block, in rank order
    (the inverse of `shard_rows`)."""
    if w.size == 1:
        return tree
    if isinstance(tree, dict):
        return {k: gather_rows(v, w) for k, v in tree.items()}
    if tree.dtype == mx.bool_:
        return mx.distributed.all_gather(tree.astype(mx.uint8), group=w.group).astype(mx.bool_)
    return mx.distributed.all_gather(tree, group=w.group)


def average_gradients(grads: T, w: World) -> T:
    """The mean of every rank's gradients (MLX packs small arrays into few all-reduces)."""
    if w.size == 1:
        return grads
    from mlx.nn import average_gradients as mlx_average

    return mlx_average(grads, group=w.group)


def sum_scalars(values: dict[str, mx.array], w: World) -> dict[str, mx.array]:
    """Each scalar summed over the ranks (as float32), in one all-reduce."""
    if w.size == 1:
        return values
    names = list(values)
    total = mx.distributed.all_sum(mx.stack([values[k].astype(mx.float32) for k in names]), group=w.group)
    return {k: total[i] for i, k in enumerate(names)}


def any_rank(flag: bool, w: World) -> bool:
    """Whether any rank raised `flag`, so every rank takes the same branch."""
    if w.size == 1:
        return flag
    return bool(mx.distributed.all_sum(mx.array(int(flag)), group=w.group).item())


def from_main(value: T, w: World) -> T:
    """Rank 0's `value` on every rank (the others pass None): a tree of dicts and lists whose
    leaves are MLX arrays or JSON values. MLX has no broadcast, so it is an all-sum in which
    only rank 0 contributes: the structure as JSON bytes first, then each array."""
    if w.size == 1:
        return value
    arrays: list[mx.array] = []
    header = _encode(value, arrays) if w.is_main else None
    header = json.loads(_bytes_from_main(json.dumps(header).encode() if w.is_main else b"", w))
    if not w.is_main:
        arrays = [mx.zeros(shape, dtype=_dtype(name)) for shape, name in header["arrays"]]
    shared = [_sum_from_main(a, w) for a in arrays]
    mx.eval(shared)
    return _decode(header["tree"], shared)


def check_same(description: str, what: str, w: World) -> None:
    """Raise on every rank unless all ranks pass the same `description` (their options,
    step and data position), so mismatched commands fail at once rather than train apart."""
    if w.size == 1:
        return
    digest = np.frombuffer(hashlib.sha256(description.encode()).digest()[:8], dtype=np.uint8)
    digests = np.array(mx.distributed.all_gather(mx.array(digest), group=w.group)).reshape(w.size, -1)
    differing = [r for r in range(w.size) if not np.array_equal(digests[r], digests[0])]
    if differing:
        raise ModelError(f"rank {differing[0]} of {w.size} has a different {what} from rank 0; "
                         "start every rank with the same command and code")


def _bytes_from_main(data: bytes, w: World) -> bytes:
    size = int(mx.distributed.all_sum(mx.array(len(data)), group=w.group).item())
    buffer = mx.array(np.frombuffer(data, dtype=np.uint8)) if w.is_main else mx.zeros((size,), mx.uint8)
    return bytes(np.array(mx.distributed.all_sum(buffer, group=w.group)))


def _sum_from_main(a: mx.array, w: World) -> mx.array:
    if a.dtype == mx.bool_:
        return _sum_from_main(a.astype(mx.uint8), w).astype(mx.bool_)
    return mx.distributed.all_sum(a if w.is_main else mx.zeros_like(a), group=w.group)


def _dtype(name: str) -> mx.Dtype:
    return mx.bool_ if name == "bool" else getattr(mx, name)


def _encode(value: Any, arrays: list[mx.array]) -> dict[str, Any]:
    def walk(v):
        if isinstance(v, mx.array):
            arrays.append(v)
            return {"__array__": len(arrays) - 1}
        if isinstance(v, dict):
            return {"__dict__": [[k, walk(x)] for k, x in v.items()]}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return v

    tree = walk(value)
    return {"tree": tree, "arrays": [[list(a.shape), str(a.dtype).removeprefix("mlx.core.")] for a in arrays]}


def _decode(tree: Any, arrays: list[mx.array]) -> Any:
    if isinstance(tree, dict):
        if "__array__" in tree:
            return arrays[tree["__array__"]]
        return {k: _decode(x, arrays) for k, x in tree["__dict__"]}
    if isinstance(tree, list):
        return [_decode(x, arrays) for x in tree]
    return tree
