"""Guards against three crashes in Textual 8.2.8 (the newest release when written), found by
the app's random-input test (tests/test_app_fuzz.py, which replays each of them).

All three are bugs in Textual, written up with a minimal reproduction in docs/upstream/. Keep
each guard until a Textual release fixes its bug, then delete it; the replays must still pass.
"""

from __future__ import annotations

from textual import events
from textual.command import CommandList, CommandPalette
from textual.widgets import OptionList

PAGE_ACTIONS = ("page_up", "page_down")


class SelectionGuard:
    """Ctrl+C with a stale text selection (docs/upstream/textual-selection-indexerror.md).

    A selection that starts on the line just past a widget's text, because the text has
    shrunk since the mouse selected it (a status panel that changed), makes
    `Selection.extract` raise IndexError, and the app exits. Mixed into every screen of the
    app: such a selection copies nothing, as if there were none."""

    def get_selected_text(self) -> str | None:
        try:
            return super().get_selected_text()
        except IndexError:
            return None


class GuardedCommandPalette(SelectionGuard, CommandPalette):
    """PageUp / PageDown in a palette whose list has no height
    (docs/upstream/textual-palette-keyerror.md).

    `OptionList._move_page` reads `self._index_to_line[self.highlighted or 0]`, but
    `_update_lines` returns early while the list has no height (a short terminal), so the
    map is empty while the list has options: `KeyError: 0`. A page of zero lines moves
    nothing, so the guard skips the move."""

    def _action_command_list(self, action: str) -> None:
        if action in PAGE_ACTIONS and not self.query_one(CommandList).scrollable_content_region.height:
            return
        super()._action_command_list(action)


class GuardedOptionList(OptionList):
    """A click on an option that is gone (docs/upstream/textual-optionlist-click-indexerror.md).

    `OptionList._on_click` indexes `self._options` with the option number stored in the lines
    drawn last; a click that arrives after the options shrank (a filter typed or pasted) and
    before the list is drawn again raises IndexError. Such a click selects nothing."""

    def _on_click(self, event: events.Click) -> None:
        # Textual calls the handler of every class in the MRO; stop OptionList's own.
        clicked = event.style.meta.get("option")
        if clicked is not None and clicked >= self.option_count:
            event.prevent_default()
