"""Errors raised for malformed or invalid puzzles."""


class PuzzleError(ValueError):
    """A puzzle (or a file of puzzles) that cannot be used; the message names the problem."""


class SearchBudgetExceeded(PuzzleError):
    """A solver gave up after `max_guesses` branches without an answer."""

    def __init__(self, max_guesses: int):
        self.max_guesses = max_guesses
        super().__init__(f"search gave up after {max_guesses:,} guesses without deciding "
                         "(raise max_guesses, or check the givens)")
