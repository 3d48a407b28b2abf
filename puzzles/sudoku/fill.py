"""Random complete grids, exactly as every generated Sudoku so far has drawn them.

FROZEN: training runs (`hrm_tui.data_sources.SudokuSource` -> `generate.make_batch`) and
the easy/medium/hard levels draw their grids here, and a seed must keep producing the same
puzzles. The grid depends on this search's branch order and on every draw it takes from
`rng`, so do not change the propagation, the branching or the draws; speed work belongs in
`search`, which answers yes/no questions whose results do not depend on how it searches.

It is the original engine: unit masks, naked singles, hidden singles (one snapshot of
candidates per pass), then a branch on the first cell with fewest candidates, trying its
digits in random order.
"""

from __future__ import annotations

import random

from puzzles.sudoku.search import BITS_OF, BOX, COL, DIGIT_OF_BIT, FULL, POPCOUNT, ROW, UNITS


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


def _propagate(state: _State, empties: list[int]) -> list[int] | None:
    """Apply singles in place until stuck; the cells still empty, or None if contradictory."""
    while True:
        empties = _naked_singles(state, empties)
        if not empties:
            return empties
        progress = _hidden_singles(state, empties)
        if progress is None:
            return None
        if not progress:
            return empties
        empties = [i for i in empties if not state.grid[i]]


def _search(state: _State, empties: list[int], found: list[list[int]], rng: random.Random) -> None:
    """Depth-first until `found` holds one grid: singles, then a branch on the first cell
    with fewest candidates, its digits in an order drawn from `rng`."""
    empties = _propagate(state, empties)
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
    bits = rng.sample(bits, len(bits))
    for bit in bits:
        child = state.copy()
        child.place(best, bit)
        _search(child, rest, found, rng)
        if found:
            return


def random_completion(cells: list[int], rng: random.Random) -> list[int] | None:
    """One completion of `cells` chosen by the randomised search, or None if there is none."""
    state = _State.from_cells(cells)
    if state is None:
        return None
    found: list[list[int]] = []
    _search(state, state.empties(), found, rng)
    return found[0] if found else None
