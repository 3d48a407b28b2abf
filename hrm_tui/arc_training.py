"""Temporary forwarding module, not part of the ARC package: `hrm_tui/training_run.py` (being
changed by the maze work at the same time, so not edited in the move to `hrm_tui/arc/`) still
imports these two names from here. Delete this file once it imports `hrm_tui.arc.training`."""

from hrm_tui.arc.training import arc_model_fields, arc_sources  # noqa: F401
