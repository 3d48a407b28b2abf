"""Does a maze model's answer depend on where the maze sits? The evaluation mazes of one size
(seed 1234, as the card), each placed at a row and column offset on a square canvas whose other
cells are walls, answered with a fixed number of segments; exact accuracy per placement. Why
`--no-window-prefix` exists (docs/architecture.md, "Window without the prefix").

    HRM_BLAS_THREADS=1 python benchmarks/maze/placement.py weights/maze --size 11 --count 50 \
        --canvas 30 --offsets 0,9 --segments 32

Prints one line per placement: the native canvas (the maze's own size, as `hrm eval` runs it)
first, then each offset on the larger canvas.
"""

import argparse
from pathlib import Path

from models.backend import ensure_fast_blas

ensure_fast_blas()

import numpy as np  # noqa: E402

from hrm_tui.evaluation import sets_for  # noqa: E402
from hrm_tui.solving import verify  # noqa: E402
from models.act import solve_dynamic  # noqa: E402
from models.checkpoint import load_weights  # noqa: E402
from models.hrm import on_grid  # noqa: E402
from puzzles.maze.grid import WALL  # noqa: E402


def exact_at(model, items, canvas: int, offset: int, segments: int) -> float:
    size = items[0].puzzle.shape[0]
    tokens = np.full((len(items), canvas, canvas), WALL, np.int32)
    tokens[:, offset:offset + size, offset:offset + size] = [item.puzzle for item in items]
    predictions = solve_dynamic(model, tokens.reshape(len(items), -1), max_segments=segments,
                                stop_at_halt=False)[0]
    answers = [np.asarray(p).reshape(canvas, canvas)[offset:offset + size, offset:offset + size] for p in predictions]
    return float(np.mean([verify("maze", item, answer).ok for item, answer in zip(items, answers)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("--size", type=int, default=11)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--canvas", type=int, default=30)
    parser.add_argument("--offsets", default="0,9")
    parser.add_argument("--segments", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    model = load_weights(args.weights, "maze")
    items = next(iter(sets_for("maze", None, "", str(args.size), args.count, args.seed).values()))
    native = on_grid(model, args.size, args.size)
    print(f"{args.size}x{args.size} canvas: {exact_at(native, items, args.size, 0, args.segments):.0%}", flush=True)
    big = on_grid(model, args.canvas, args.canvas)
    for offset in (int(part) for part in args.offsets.split(",")):
        print(f"{args.canvas}x{args.canvas} canvas of walls, offset {offset}: "
              f"{exact_at(big, items, args.canvas, offset, args.segments):.0%}", flush=True)


if __name__ == "__main__":
    main()
