"""Checking an ARC answer: it must equal the expected output exactly."""

from __future__ import annotations

import numpy as np

from puzzles.verdict import SOLVED, Verdict


def check_answer(expected: np.ndarray, candidate: np.ndarray | None) -> Verdict:
    if candidate is None:
        return Verdict(False, "no well-formed grid")
    expected, candidate = np.asarray(expected), np.asarray(candidate)
    if candidate.shape != expected.shape:
        size, wanted = ("x".join(map(str, g.shape)) for g in (candidate, expected))
        return Verdict(False, f"size {size}, expected {wanted}")
    wrong = int(np.count_nonzero(candidate != expected))
    if wrong:
        return Verdict(False, f"{wrong} cell{'s' if wrong > 1 else ''} wrong")
    return SOLVED


def check_attempts(expected: np.ndarray, attempts: list[np.ndarray]) -> Verdict:
    """pass@k: solved if any attempt is right; otherwise the first attempt's problem."""
    verdicts = [check_answer(expected, a) for a in attempts] or [check_answer(expected, None)]
    return next((v for v in verdicts if v.ok), verdicts[0])
