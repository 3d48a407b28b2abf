"""Run one `hrm bench` measurement in this (fresh) process: `python -m hrm_tui.bench.worker
'<json task>'`. The result is printed as one JSON line after MARKER; everything else on stdout
is ignored. The runner sets the thread environment (and HRM_BLAS=off for PyTorch tasks, so
MLX's BLAS is never loaded next to PyTorch's) before this process starts."""

from __future__ import annotations

import json
import sys
from typing import Any

MARKER = "HRM-BENCH-RESULT "


def run(task: dict[str, Any]) -> Any:
    kind = task.pop("task")
    if kind == "torch_train":
        from hrm_tui.bench.torch_reference import measure_train_step

        return measure_train_step(**task)
    from hrm_tui.bench import workloads

    return getattr(workloads, kind)(**task)


def main() -> None:
    result = run(json.loads(sys.argv[1]))
    sys.stdout.write(MARKER + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
