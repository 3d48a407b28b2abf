"""hrm-tui: watch a Hierarchical Reasoning Model think, in the terminal."""

__version__ = "0.1.0"
