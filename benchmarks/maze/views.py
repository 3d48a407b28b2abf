"""Each of a maze's 8 views on its own: is its route one that follows the rules, and is it a
shortest one? Compares two ways to pick among views: the fewest steps of all 8 (what `hrm
solve` and `hrm eval` do) and the first view whose route follows the rules (cheaper, since it
may stop early). The evaluation mazes of the card (seed 1234). docs/views.md quotes it:

    HRM_BLAS_THREADS=1 python benchmarks/maze/views.py weights/maze --sizes 15 --count 50 --segments 32
"""

import argparse
from pathlib import Path

from models.backend import ensure_fast_blas

ensure_fast_blas()

import numpy as np  # noqa: E402

from hrm_tui.evaluation import sets_for  # noqa: E402
from hrm_tui.solving import PuzzleItem, decode_prediction, encode_items, model_for_items, run_model, verify  # noqa: E402
from models.checkpoint import load_weights  # noqa: E402
from puzzles.views import rank, views  # noqa: E402

INVALID, LONGER, SHORTEST = 0, 1, 2


def view_outcomes(model, items, segments: int) -> tuple[np.ndarray, np.ndarray]:
    """(mazes, 8) outcome of every view, and the steps of its route (-1: none)."""
    runner = model_for_items("maze", model, items)
    chosen = views("maze", 8)
    pairs = [(i, view) for i in range(len(items)) for view in chosen]
    seen = [PuzzleItem(view.apply(items[i].puzzle)) for i, view in pairs]
    predictions = run_model(runner, encode_items("maze", seen, runner.config.seq_len), segments, False)[0]
    outcome, steps = np.zeros((len(items), 8), np.int32), np.full((len(items), 8), -1)
    for row, (i, view) in enumerate(pairs):
        answer = view.invert(decode_prediction("maze", predictions[row], seen[row]))
        length = rank("maze", items[i].puzzle, answer)
        if length is not None:
            steps[i, view.index] = length
            outcome[i, view.index] = SHORTEST if verify("maze", items[i], answer).ok else LONGER
    return outcome, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("--sizes", default="15")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--segments", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    model = load_weights(args.weights, "maze")
    for name, items in sets_for("maze", None, "", args.sizes, args.count, args.seed).items():
        outcome, steps = view_outcomes(model, items, args.segments)
        per_view = ", ".join(f"{v:.0%}" for v in (outcome == SHORTEST).mean(0))
        longer = ", ".join(f"{v:.0%}" for v in (outcome == LONGER).mean(0))
        first = [next((o for o in row if o != INVALID), INVALID) for row in outcome]
        tried = [next((k + 1 for k, o in enumerate(row) if o != INVALID), 8) for row in outcome]
        fewest = [row[np.argmin(np.where(s >= 0, s, 10**9))] if (s >= 0).any() else INVALID
                  for row, s in zip(outcome, steps)]
        print(f"{name} ({len(items)} mazes)\n  shortest, per view: {per_view}\n  follows the rules but "
              f"longer, per view: {longer}\n  some view shortest: {(outcome == SHORTEST).any(1).mean():.0%}\n"
              f"  fewest steps of 8: {np.mean(np.equal(fewest, SHORTEST)):.0%}\n"
              f"  first view that follows the rules: {np.mean(np.equal(first, SHORTEST)):.0%} "
              f"after {np.mean(tried):.2f} views", flush=True)


if __name__ == "__main__":
    main()
