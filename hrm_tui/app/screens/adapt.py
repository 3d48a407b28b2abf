"""Per-task adaptation from the ARC screen: learn a task's puzzle embedding (and optionally
fine-tune) from its demonstration pairs, with a progress bar, as `hrm adapt` does.

The training runs in a thread worker (`hrm_tui.arc.adaptation.adapt`); its log records arrive as
messages; Esc asks it to stop at the next step and keeps what it learned so far.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar
from textual.worker import Worker, WorkerState

from hrm_tui.app.screens.dialogs import DIALOG_CSS
from hrm_tui.app.textual_guards import SelectionGuard

CHOICES = (
    ("emb:30", "30 s   learn the task's embedding rows only"),
    ("emb:60", "60 s   learn the task's embedding rows only"),
    ("emb:180", "3 min  learn the task's embedding rows only"),
    ("ft:60", "60 s   embedding rows and fine-tune the weights"),
    ("ft:180", "3 min  embedding rows and fine-tune the weights"),
)


def settings_for(choice: str):
    from hrm_tui.arc.adaptation import AdaptSettings

    mode, seconds = choice.split(":")
    return AdaptSettings(seconds=float(seconds), finetune=mode == "ft")


class AdaptScreen(SelectionGuard, ModalScreen[object]):
    """Runs the adaptation and dismisses with `hrm_tui.arc.adaptation.Adapted` (None if it failed)."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "AdaptScreen") + """
    AdaptScreen ProgressBar { margin: 1 0; }
    """
    BINDINGS = [Binding("escape", "stop", "Stop and keep what was learned")]

    @dataclass
    class Logged(Message):
        record: dict

    def __init__(self, model, task, settings) -> None:
        super().__init__()
        self.model, self.arc_task, self.settings = model, task, settings
        self._stop = threading.Event()
        self._started = 0.0

    def compose(self) -> ComposeResult:
        with Vertical():
            what = "embedding rows and weights" if self.settings.finetune else "embedding rows"
            yield Label(f"Adapting to {self.arc_task.name}: learning its {what} from "
                        f"{len(self.arc_task.train)} demonstration pairs", classes="dialog-title")
            yield ProgressBar(total=self.settings.seconds, show_eta=False)
            yield Label("starting…", id="adapt-log")
            yield Label("Esc stops early and keeps what was learned.", classes="dialog-hint")

    def on_mount(self) -> None:
        from hrm_tui.arc.adaptation import adapt

        self._started = time.monotonic()
        self.set_interval(0.5, self._tick)
        self.run_worker(partial(self._adapt, adapt), name="adapt", group="adapt", thread=True,
                        exit_on_error=False)

    def _adapt(self, adapt):
        import mlx.core as mx

        adapted = adapt(self.model, self.arc_task, self.settings,
                        on_log=lambda record: self.post_message(self.Logged(record)),
                        should_stop=self._stop.is_set)
        mx.eval(adapted.model.parameters())  # materialised here, used from another thread later
        return adapted

    def _tick(self) -> None:
        self.query_one(ProgressBar).progress = min(time.monotonic() - self._started, self.settings.seconds)

    @on(Logged)
    def _logged(self, message: Logged) -> None:
        record = message.record
        exact = record.get("exact_accuracy")
        fitted = f" · demonstrations exact {exact:.0%}" if exact is not None else ""
        self.query_one("#adapt-log", Label).update(f"step {record.get('step')} · loss {record.get('loss', 0):.3f}{fitted}")

    def action_stop(self) -> None:
        self._stop.set()
        self.query_one("#adapt-log", Label).update("stopping after this step…")

    @on(Worker.StateChanged)
    def _finished(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "adapt":
            return
        if event.state == WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.notify(str(event.worker.error), title="Adaptation failed", severity="error", timeout=10)
            self.dismiss(None)
