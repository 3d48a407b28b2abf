"""Test-time training recipes side by side on the sample `hrm eval arc --tasks` uses, at one
budget: the shipped recipe (`hrm_tui.arc.test_time.training_settings`) with some settings
changed. How the shipped recipe was chosen (docs/arc.md, "Test-time training").

    HRM_BLAS_THREADS=1 python benchmarks/arc/compare_recipes.py 15 finetune=False
    HRM_BLAS_THREADS=1 python benchmarks/arc/compare_recipes.py 15 finetune=True lr=1e-3
    HRM_BLAS_THREADS=1 python benchmarks/arc/compare_recipes.py 15 finetune=False puzzle_emb_lr=0.1

Prints one JSON object: pass@2, first-answer cell accuracy, CPU seconds per task, held-out
demonstrations solved.
"""

import ast
import dataclasses
import json
import sys
import time
from pathlib import Path

from hrm_tui.arc import test_time
from hrm_tui.arc.evaluation import score, split_tasks
from hrm_tui.model_store import load_model

SAMPLE = Path(__file__).with_name("eval-fit10-first20.txt")


def main(budget: float, changes: dict) -> dict:
    shipped = test_time.training_settings
    test_time.training_settings = lambda b: dataclasses.replace(shipped(b), **changes)
    tasks = split_tasks("evaluation", None, SAMPLE)
    model = load_model("arc", None)
    start = time.process_time()
    answers, trained = test_time.answer_with_budget(model, tasks, budget)
    summary = score(answers)
    return {"budget": budget, "changes": changes, "pass_at_2": summary["pass_at_2"], "solved": summary["solved"],
            "cell_accuracy": summary["cell_accuracy"], "cpu_seconds_per_task": (time.process_time() - start) / len(tasks),
            "held_out_solved": sum(bool(t.adapted and t.adapted.held_out and t.adapted.held_out["correct"])
                                   for t in trained)}


if __name__ == "__main__":
    settings = {name: ast.literal_eval(value) for name, value in (arg.split("=", 1) for arg in sys.argv[2:])}
    print(json.dumps(main(float(sys.argv[1]), settings), indent=1))
