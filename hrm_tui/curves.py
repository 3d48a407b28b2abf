"""Training curves from a run's log: a plotext chart in the terminal, saved as SVG via rich."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def _chart(log: list[dict[str, Any]], width: int = 100, height: int = 24) -> str:
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    steps = [r["step"] for r in log if "loss" in r]
    plt.plot(steps, [r["loss"] for r in log if "loss" in r], label="train loss", yside="left")
    for key, label in (("accuracy", "train cell acc"), ("eval_exact_accuracy", "eval exact"),
                       ("eval_token_accuracy", "eval token acc")):
        points = [(r["step"], r[key]) for r in log if key in r]
        if points:
            plt.plot([p[0] for p in points], [p[1] for p in points], label=label, yside="right")
    plt.xlabel("optimiser step")
    plt.title("training curve")
    return plt.build()


def plot_terminal(log: list[dict[str, Any]]) -> None:
    if not log:
        print("no log records yet")
        return
    print(_chart(log))


def save_curve_svg(log: list[dict[str, Any]], path: Path) -> Path:
    from rich.console import Console
    from rich.text import Text

    console = Console(record=True, width=104, file=io.StringIO(), color_system="truecolor")
    console.print(Text.from_ansi(_chart(log)))
    console.save_svg(str(path), title="training curve")
    return Path(path)
