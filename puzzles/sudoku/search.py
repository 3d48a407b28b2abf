"""Classical Sudoku search: bitmasks, naked and hidden singles, most-constrained-cell branching.

Works on plain Python lists of 81 ints (0 = blank) because per-cell numpy calls cost more
than the work itself; `puzzles.sudoku.solver` wraps them for numpy boards. Each row,
column and box keeps a 9-bit mask of the digits already placed, so a cell's candidates
are one OR and one NOT away; singles are filled before every branch so most generated
puzzles need no guessing at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FULL = 0x1FF
ROW = [i // 9 for i in range(81)]
COL = [i % 9 for i in range(81)]
BOX = [(i // 27) * 3 + (i % 9) // 3 for i in range(81)]
UNITS = (
    [[r * 9 + c for c in range(9)] for r in range(9)]
    + [[r * 9 + c for r in range(9)] for c in range(9)]
    + [[i for i in range(81) if BOX[i] == b] for b in range(9)]
)
POPCOUNT = [bin(m).count("1") for m in range(512)]
DIGIT_OF_BIT = {1 << d: d + 1 for d in range(9)}
BITS_OF = [[1 << d for d in range(9) if m >> d & 1] for m in range(512)]


@dataclass
class SearchStats:
    """Effort counters; `guesses` is how many branches the search tried (0 = pure logic)."""

    guesses: int = 0


class _State:
    """A partly filled grid plus its unit masks; copied at every branch, mutated by logic."""

    __slots__ = ("grid", "rows", "cols", "boxes")

    def __init__(self, grid, rows, cols, boxes):
        self.grid, self.rows, self.cols, self.boxes = grid, rows, cols, boxes

    @classmethod
    def from_cells(cls, cells: list[int]) -> _State | None:
        """None when the givens already repeat a digit in some unit."""
        state = cls(list(cells), [0] * 9, [0] * 9, [0] * 9)
        for i, digit in enumerate(cells):
            if digit and not state.place(i, 1 << (digit - 1)):
                return None
        return state

    def copy(self) -> _State:
        return _State(self.grid[:], self.rows[:], self.cols[:], self.boxes[:])

    def candidates(self, i: int) -> int:
        return FULL & ~(self.rows[ROW[i]] | self.cols[COL[i]] | self.boxes[BOX[i]])

    def place(self, i: int, bit: int) -> bool:
        """Put the digit `bit` in cell i; False if a peer already holds it."""
        r, c, b = ROW[i], COL[i], BOX[i]
        if (self.rows[r] | self.cols[c] | self.boxes[b]) & bit:
            return False
        self.grid[i] = DIGIT_OF_BIT[bit]
        self.rows[r] |= bit
        self.cols[c] |= bit
        self.boxes[b] |= bit
        return True

    def empties(self) -> list[int]:
        return [i for i, digit in enumerate(self.grid) if not digit]


def _naked_singles(state: _State, empties: list[int]) -> list[int] | None:
    """Fill every cell with one candidate until none is left; None on a dead cell."""
    grid, rows, cols, boxes = state.grid, state.rows, state.cols, state.boxes
    changed = True
    while changed:
        changed = False
        remaining = []
        for i in empties:
            r, c, b = ROW[i], COL[i], BOX[i]
            cand = FULL & ~(rows[r] | cols[c] | boxes[b])
            if cand & (cand - 1):
                remaining.append(i)
            elif cand:
                grid[i] = DIGIT_OF_BIT[cand]
                rows[r] |= cand
                cols[c] |= cand
                boxes[b] |= cand
                changed = True
            else:
                return None
        empties = remaining
    return empties


def _hidden_singles(state: _State, empties: list[int]) -> bool | None:
    """Place digits that fit in only one cell of a unit; None on a contradiction.

    Candidates are snapshotted once per pass. Placements during the pass only shrink the
    true candidates, so a snapshot single is still the only possible place (or proof of a
    contradiction), which keeps the pass sound without recomputing.
    """
    cand = [0] * 81
    for i in empties:
        cand[i] = state.candidates(i)
    placed = state.rows + state.cols + state.boxes
    grid = state.grid
    progress = False
    for u, unit in enumerate(UNITS):
        once = twice = 0
        for i in unit:
            m = cand[i]
            twice |= once & m
            once |= m
        if (once | placed[u]) != FULL:
            return None
        singles = once & ~twice
        while singles:
            bit = singles & -singles
            singles ^= bit
            i = next(i for i in unit if cand[i] & bit)
            if grid[i]:
                if grid[i] != DIGIT_OF_BIT[bit]:
                    return None
            elif not state.place(i, bit):
                return None
            else:
                progress = True
    return progress


def propagate(state: _State, empties: list[int], hidden: bool = True) -> list[int] | None:
    """Apply singles in place until stuck; the cells still empty, or None if contradictory."""
    while True:
        empties = _naked_singles(state, empties)
        if not empties or not hidden:
            return empties
        progress = _hidden_singles(state, empties)
        if progress is None:
            return None
        if not progress:
            return empties
        empties = [i for i in empties if not state.grid[i]]


def _search(state, empties, limit, found, stats, rng):
    """Depth-first: singles first, then branch on the cell with fewest candidates,
    appending solutions to `found` until it holds `limit`."""
    empties = propagate(state, empties)
    if empties is None:
        return
    if not empties:
        found.append(state.grid)
        return
    best, best_cand, best_count = -1, 0, 10
    for i in empties:
        cand = state.candidates(i)
        count = POPCOUNT[cand]
        if count < best_count:
            best, best_cand, best_count = i, cand, count
            if count == 2:
                break
    rest = [i for i in empties if i != best]
    bits = BITS_OF[best_cand]
    if rng is not None:
        bits = rng.sample(bits, len(bits))
    for bit in bits:
        if stats is not None:
            stats.guesses += 1
        child = state.copy()
        child.place(best, bit)
        _search(child, rest, limit, found, stats, rng)
        if len(found) >= limit:
            return


def _collect(state, limit, stats=None, rng=None) -> list[list[int]]:
    found: list[list[int]] = []
    _search(state, state.empties(), limit, found, stats, rng)
    return found


def solutions(
    cells: list[int],
    limit: int,
    stats: SearchStats | None = None,
    rng: random.Random | None = None,
) -> list[list[int]]:
    """Up to `limit` solutions of `cells`; `rng` randomises the branch order."""
    state = _State.from_cells(cells)
    return [] if state is None else _collect(state, limit, stats, rng)


def has_other_solution(solution: list[int], cells: list[int], i: int) -> bool:
    """Whether blanking cell i of `cells` (whose unique completion is `solution`) admits a
    completion with another digit there. Trying only the other digits is much cheaper
    than counting two solutions, which is what makes generation by removal fast."""
    blanked = list(cells)
    blanked[i] = 0
    state = _State.from_cells(blanked)
    for bit in BITS_OF[state.candidates(i) & ~(1 << (solution[i] - 1))]:
        child = state.copy()
        child.place(i, bit)
        if _collect(child, 1):
            return True
    return False


def solved_by_logic(cells: list[int], hidden: bool) -> bool | None:
    """True if singles alone fill the grid; None if the givens contradict."""
    state = _State.from_cells(cells)
    if state is None:
        return None
    empties = propagate(state, state.empties(), hidden)
    return None if empties is None else not empties
