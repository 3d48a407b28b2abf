"""Small modal dialogs; each dismisses with the user's choice, or None when cancelled.

Each names the widget to focus in AUTO_FOCUS rather than focusing it in `on_mount`: a dialog
dismissed at once (Esc right after the key that opened it) can mount with no children left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, Markdown, OptionList, TextArea
from textual.widgets.option_list import Option

from hrm_tui.app.textual_guards import GuardedOptionList, SelectionGuard

DIALOG_CSS = """
{name} {
    align: center middle;
}
{name} > Vertical {
    width: 76;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: round $accent;
    background: $surface;
    padding: 0 1;
}
{name} .dialog-title {
    text-style: bold;
    width: 1fr;
    margin-bottom: 1;
}
{name} .dialog-hint {
    color: $foreground 60%;
    width: 1fr;
}
{name} .dialog-buttons {
    height: auto;
    align-horizontal: right;
}
{name} .dialog-buttons Button {
    margin-left: 1;
    min-width: 10;
}
"""


def shorten(text: str, width: int = 80) -> str:
    """A typed value fit for a one-line notice (a pasted path can be megabytes long)."""
    return text if len(text) <= width else f"{text[:width - 1]}…"


def reason(error: BaseException) -> str:
    """Why a path failed, without repeating the path (OSError's text quotes it whole)."""
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


class ChoiceScreen(SelectionGuard, ModalScreen[str | None]):
    """Pick one option; with `filterable`, typing narrows a long list (e.g. ARC task ids)."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "ChoiceScreen") + """
    ChoiceScreen OptionList { height: auto; max-height: 16; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]
    AUTO_FOCUS = "#filter, OptionList"

    def __init__(self, title: str, options: Iterable[tuple[str, str]], *, hint: str = "",
                 filterable: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)
        self.hint = hint
        self.filterable = filterable

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            if self.hint:
                yield Label(self.hint, classes="dialog-hint")
            if self.filterable:
                yield Input(placeholder="type to filter", id="filter")
            yield GuardedOptionList(*[Option(label, id=value) for value, label in self.options])

    def action_move(self, delta: int) -> None:
        """Arrows move through the options even while the filter has focus."""
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -delta
            options.highlighted = max(0, min(options.option_count - 1, current + delta))

    @on(Input.Submitted, "#filter")
    def _take_highlighted(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.action_select()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        needle = event.value.strip().lower()
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(label, id=value) for value, label in self.options
                             if needle in label.lower() or needle in value.lower()])
        options.highlighted = 0 if options.option_count else None

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class TextScreen(SelectionGuard, ModalScreen[str | None]):
    """Paste or type text (a puzzle line, a maze, a task JSON); Ctrl+S or Load accepts."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "TextScreen") + """
    TextScreen TextArea { height: 14; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "accept", "Load")]
    AUTO_FOCUS = "TextArea"

    def __init__(self, title: str, hint: str = "", text: str = "") -> None:
        super().__init__()
        self.title_text, self.hint, self.text = title, hint, text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            if self.hint:
                yield Label(self.hint, classes="dialog-hint")
            yield TextArea(self.text, soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Load ^s", id="accept", variant="primary")

    def action_accept(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "accept":
            self.action_accept()
        else:
            self.dismiss(None)


class PathScreen(SelectionGuard, ModalScreen[Path | None]):
    """Choose a file (or a directory, with `directories`) by typing a path or browsing.

    `default_label` adds a button that dismisses with an empty Path: "use the default".
    """

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "PathScreen") + """
    PathScreen > Vertical { height: 90%; }
    PathScreen DirectoryTree { height: 1fr; min-height: 3; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    AUTO_FOCUS = "Input"

    def __init__(self, title: str, start: Path, *, directories: bool = False, hint: str = "",
                 default_label: str | None = None) -> None:
        super().__init__()
        self.title_text, self.start, self.directories = title, start, directories
        self.hint, self.default_label = hint, default_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            if self.hint:
                yield Label(self.hint, classes="dialog-hint")
            yield Input(value=f"{self.start}/", placeholder="path", id="path")
            yield DirectoryTree(self.start)
            with Horizontal(classes="dialog-buttons"):
                if self.default_label:
                    yield Button(self.default_label, id="default")
                yield Button("Cancel", id="cancel")
                yield Button("Open", id="accept", variant="primary")

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one(Input).value = str(event.path)
        if not self.directories:
            self.dismiss(event.path)

    @on(DirectoryTree.DirectorySelected)
    def _directory(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one(Input).value = str(event.path)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._accept()

    def _accept(self) -> None:
        value = self.query_one(Input).value.strip()
        if not value:
            return
        try:
            path = Path(value).expanduser()
            found = path.is_dir() if self.directories else path.is_file()
        except (OSError, ValueError, RuntimeError) as exc:  # a name too long, a NUL byte, ~nobody
            self.notify(f"{shorten(value)}: {reason(exc)}", severity="error")
            return
        if found:
            self.dismiss(path)
        else:
            self.notify(f"{shorten(value)} is not a {'directory' if self.directories else 'file'}",
                        severity="error")

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "accept":
            self._accept()
        elif event.button.id == "default":
            self.dismiss(Path())
        else:
            self.dismiss(None)


class PromptScreen(SelectionGuard, ModalScreen[str | None]):
    """One line of input, e.g. the file name for a recording."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "PromptScreen")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    AUTO_FOCUS = "Input"

    def __init__(self, title: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.title_text, self.value, self.hint = title, value, hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            if self.hint:
                yield Label(self.hint, classes="dialog-hint")
            yield Input(value=self.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class MarkdownScreen(SelectionGuard, ModalScreen[None]):
    """Read-only text: the help screen and the model card."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "MarkdownScreen") + """
    MarkdownScreen > Vertical { width: 100; height: 90%; }
    MarkdownScreen VerticalScroll { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss(None)", "Close")]
    AUTO_FOCUS = "VerticalScroll"

    def __init__(self, title: str, markdown: str) -> None:
        super().__init__()
        self.title_text, self.markdown = title, markdown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{self.title_text}   [dim](Esc closes)[/]", classes="dialog-title")
            with VerticalScroll():
                yield Markdown(self.markdown)
