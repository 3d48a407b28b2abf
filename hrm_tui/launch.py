"""Open the Textual app. Kept light: Textual and the models load only when the app starts."""

from __future__ import annotations

from pathlib import Path


def open_app(kind: str = "sudoku", weights: dict[str, Path] | None = None) -> None:
    """Run the app until the user quits. `kind` is the screen to start on; `weights` maps
    puzzle kinds to weights directories (others use the shipped defaults)."""
    from hrm_tui.app.app import HRMApp

    HRMApp(kind=kind, weights=weights).run()
