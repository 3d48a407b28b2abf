"""`HRMApp`: one mode (screen) per puzzle kind, app-wide keys, help and the command palette."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen
from textual.theme import ThemeProvider

from hrm_tui.app.kinds import KINDS
from hrm_tui.app.screens.arc import ArcScreen
from hrm_tui.app.screens.dialogs import MarkdownScreen
from hrm_tui.app.screens.info import help_markdown
from hrm_tui.app.screens.maze import MazeScreen
from hrm_tui.app.screens.puzzle import PuzzleScreen
from hrm_tui.app.screens.sudoku import SudokuScreen
from hrm_tui.app.textual_guards import GuardedCommandPalette
from hrm_tui.app.widgets.top_bar import TopBar

SCREENS = {"sudoku": SudokuScreen, "maze": MazeScreen, "arc": ArcScreen}


class HRMApp(App):
    """Watch a Hierarchical Reasoning Model solve Sudoku, mazes and ARC tasks."""

    CSS_PATH = "app.tcss"
    TITLE = "hrm"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="?", id="help"),
        Binding("f2", "switch_mode('sudoku')", "Sudoku", show=False, id="sudoku"),
        Binding("f3", "switch_mode('maze')", "Maze", show=False, id="maze"),
        Binding("f4", "switch_mode('arc')", "ARC", show=False, id="arc"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="quit"),
    ]

    def __init__(self, kind: str = "sudoku", weights: dict[str, Path] | None = None) -> None:
        """`weights` maps a puzzle kind to a weights directory; kinds not in it use the
        shipped default."""
        super().__init__()
        self.initial_kind = kind
        for name, screen in SCREENS.items():
            self.add_mode(name, partial(screen, (weights or {}).get(name)))

    def on_mount(self) -> None:
        self.switch_mode(self.initial_kind)

    def on_top_bar_kind_selected(self, message: TopBar.KindSelected) -> None:
        self.switch_mode(message.kind)

    def action_help(self) -> None:
        screen = self.screen
        rows, seen = [], set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            where = "app" if active.node is self else ("screen" if active.node is screen else "editor")
            rows.append((self.get_key_display(binding), binding.description, where))
        edit_keys = getattr(screen, "EDIT_KEYS", "")
        self.push_screen(MarkdownScreen("Help", help_markdown(rows, edit_keys)))

    def action_command_palette(self) -> None:
        """Textual's palette, guarded against its crashes (see `textual_guards`)."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(GuardedCommandPalette(id="--command-palette"))

    def search_themes(self) -> None:
        """The theme picker (palette command "Theme") is a palette too: guarded the same way."""
        self.push_screen(GuardedCommandPalette(providers=[ThemeProvider], placeholder="Search for themes…"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every binding of the puzzle screen and its editor, plus switching kinds."""
        yield from super().get_system_commands(screen)
        for name in SCREENS:
            title = KINDS[name].title
            yield SystemCommand(f"Switch to {title}", f"Solve {title} puzzles ({self._key_for(name)})",
                                partial(self.switch_mode, name))
        yield SystemCommand("Help", "What the panels mean and every key (?)", self.action_help)
        if not isinstance(screen, PuzzleScreen):
            return
        for node in (screen, screen.editor):
            for binding in declared_bindings(node):
                if binding.action.startswith(("move", "set_digit", "colour")):
                    continue
                key = self.get_key_display(binding)
                yield SystemCommand(binding.description, f"{binding.tooltip or binding.description} ({key})",
                                    partial(node.run_action, binding.action))

    def _key_for(self, mode: str) -> str:
        return next(b.key for b in self.BINDINGS if isinstance(b, Binding) and b.id == mode)


def declared_bindings(node) -> list[Binding]:
    """The Binding objects a node's classes declare, most derived first, one per action."""
    found: dict[str, Binding] = {}
    for cls in type(node).__mro__:
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.description:
                found.setdefault(binding.action, binding)
    return list(found.values())
