"""The answer to "is this candidate a correct solution?", shared by every puzzle kind.

One small value type so the app, `hrm eval` and batch solve can show any kind's result the
same way: a flag for counting and a one-line message naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """`ok` is True only for a complete, rule-abiding answer; `message` says why not."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok


SOLVED = Verdict(True, "solved")
