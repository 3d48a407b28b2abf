"""The one error type the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Something the user can fix: bad input, a missing file, wrong weights.

    The message is shown as-is on one line, so it must name the problem.
    """
