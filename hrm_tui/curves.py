"""Training curves from a run's log: a plotext chart in the terminal, saved as SVG via rich."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def chart(log: list[dict[str, Any]], width: int = 100, height: int = 24, minutes: bool = False) -> str:
    """Loss (left axis) and accuracies (right axis) against optimiser steps or wall minutes."""
    import plotext as plt

    def x(record: dict[str, Any]) -> float:
        return record.get("wall_time", 0.0) / 60 if minutes else record["step"]

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    losses = [r for r in log if "loss" in r]
    plt.plot([x(r) for r in losses], [r["loss"] for r in losses], label="train loss", yside="left")
    for key, label in (("accuracy", "train cell acc"), ("eval_exact_accuracy", "eval exact"),
                       ("eval_token_accuracy", "eval token acc")):
        points = [r for r in log if key in r]
        if points:
            plt.plot([x(r) for r in points], [r[key] for r in points], label=label, yside="right")
    plt.xlabel("wall-clock minutes" if minutes else "optimiser step")
    plt.title("training curve")
    return plt.build()


def plot_terminal(log: list[dict[str, Any]]) -> None:
    if not log:
        print("no log records yet")
        return
    print(chart(log))


def save_curve_svg(log: list[dict[str, Any]], path: Path) -> Path:
    from rich.console import Console
    from rich.text import Text

    console = Console(record=True, width=104, file=io.StringIO(), color_system="truecolor")
    console.print(Text.from_ansi(chart(log)))
    console.save_svg(str(path), title="training curve")
    return Path(path)
