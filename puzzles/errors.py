"""Errors raised for malformed or invalid puzzles."""


class PuzzleError(ValueError):
    """A puzzle (or a file of puzzles) that cannot be used; the message names the problem."""
