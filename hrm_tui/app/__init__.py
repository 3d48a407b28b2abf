"""The Textual app. `hrm_tui.app.app.HRMApp` is the entry point; `kinds` and `palette` are
Textual-free so the recorder can share them."""
