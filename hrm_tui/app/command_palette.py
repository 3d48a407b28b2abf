"""The command palette, guarded against a Textual crash on PageUp / PageDown.

Textual 8.2.8 (the newest release when this was written): `OptionList._move_page` reads
`self._index_to_line[self.highlighted or 0]`, but `_update_lines` returns early while the
list has no height, so a palette whose command list has options and no laid-out lines (a
short terminal, or a list hidden between searches) raises `KeyError: 0` on PageUp or
PageDown and the app exits. A page of zero lines moves nothing, so the guard skips the move.
Upstream report: docs/upstream/textual-palette-keyerror.md. Remove this module (and the
override in `HRMApp.action_command_palette`) once a Textual release fixes it; the test
`test_app_fuzz.py::test_palette_page_keys_in_a_short_terminal` replays the keys.
"""

from __future__ import annotations

from textual.command import CommandList, CommandPalette

PAGE_ACTIONS = ("page_up", "page_down")


class GuardedCommandPalette(CommandPalette):
    def _action_command_list(self, action: str) -> None:
        if action in PAGE_ACTIONS and not self.query_one(CommandList).scrollable_content_region.height:
            return
        super()._action_command_list(action)
