"""A training run, live: its curves and latest figures, refreshed while `hrm train` writes.

Training itself stays in `hrm train`; this screen only reads the run directory (log.jsonl,
checkpoints/), so a log line half written, a checkpoint being pruned or a run directory
that disappears only show as a note. `s` closes the screen asking the puzzle screen to
solve the current puzzle with the newest checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from hrm_tui.app.textual_guards import SelectionGuard

REFRESH_SECONDS = 2.0


def read_run_log(run: Path) -> list[dict[str, Any]]:
    """The complete records of a run's log that may be being written (`RunDir.read_log`: a
    half-written line is not JSON and is left out), those with a step; [] when unreadable."""
    from models.checkpoint import RunDir

    try:
        records = RunDir(run).read_log()
    except OSError:
        return []
    return [record for record in records if isinstance(record.get("step"), int)]


def summary_text(run: Path, log: list[dict[str, Any]], total: int | None) -> Text:
    """The latest figures of a run, one line each."""
    text = Text()
    text.append(f"{run.name}", style="bold")
    text.append(f"  {run}\n", style="dim")
    if not log:
        text.append("no log records yet: is `hrm train` writing this run?")
        return text
    last = log[-1]
    evals = [r for r in log if "eval_exact_accuracy" in r]
    steps = f"step {last['step']:,}" + (f" of {total:,}" if total else "")
    text.append(f"{steps} · {last.get('wall_time', 0) / 60:.1f} min · loss {last.get('loss', float('nan')):.3f}")
    if "accuracy" in last:
        text.append(f" · train cells {last['accuracy']:.3f}")
    if evals:
        latest = evals[-1]
        best = max(evals, key=lambda r: r["eval_exact_accuracy"])
        text.append(f"\nheld-out at step {latest['step']:,}: exact {latest['eval_exact_accuracy']:.3f}, "
                    f"tokens {latest['eval_token_accuracy']:.3f} · best exact {best['eval_exact_accuracy']:.3f} "
                    f"(step {best['step']:,})")
    else:
        text.append("\nno held-out evaluation yet")
    return text


class TrainingScreen(SelectionGuard, ModalScreen[str | None]):
    """Curves of a training run, refreshed every REFRESH_SECONDS while it is written."""

    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("m", "toggle_axis", "Steps/minutes", id="training_axis"),
        Binding("s", "dismiss('solve')", "Solve with newest checkpoint", id="training_solve"),
    ]

    def __init__(self, run: Path) -> None:
        super().__init__()
        self.run = Path(run)
        self.minutes = False
        self._seen: tuple[int, int] | None = None  # (size, mtime_ns) of the log last drawn
        self._log: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="training"):
            yield Static(id="training-summary")
            yield Static(id="training-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_run()
        self.set_interval(REFRESH_SECONDS, self.refresh_run)

    def on_resize(self) -> None:
        self._draw()

    def action_toggle_axis(self) -> None:
        self.minutes = not self.minutes
        self._draw()

    def refresh_run(self) -> None:
        """Reread the log when it changed; a vanished run keeps the last curve and says so."""
        log_path = self.run / "log.jsonl"
        try:
            info = log_path.stat()
            seen = (info.st_size, info.st_mtime_ns)
        except OSError:
            seen = None
        if seen is None and not self.run.is_dir():
            self.query_one("#training-summary", Static).update(Text(
                f"{self.run} is gone (deleted or moved); the last curve read stays on screen", style="bold red"))
            return
        if seen != self._seen:
            self._seen = seen
            self._log = read_run_log(self.run)
            self._draw()

    def _total_steps(self) -> int | None:
        try:
            options = json.loads((self.run / "options.json").read_text(encoding="utf-8"))
            return int(options["steps"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#training-summary", Static).update(summary_text(self.run, self._log, self._total_steps()))
        area = self.query_one("#training-chart", Static)
        if not self._log:
            area.update("")
            return
        from hrm_tui.curves import chart

        width = max(40, area.size.width or self.size.width - 4)
        height = max(10, area.size.height or self.size.height - 8)
        area.update(Text.from_ansi(chart(self._log, width, height, minutes=self.minutes)))
