"""Classical Sudoku search: candidate masks, propagation to a fixpoint, a guess budget.

Works on plain Python lists because per-cell numpy calls cost more than the work itself;
`puzzles.sudoku.solver` wraps it for numpy boards. A search state is one list: 81
candidate masks (9 bits; a solved cell keeps its one bit), the 27 unit masks of digits
already propagated (rows, columns, boxes), and at OPEN the number of cells not yet
propagated. Propagation, by the levels `rate` names:

  0. naked singles: a cell with one candidate takes it; the digit leaves its 20 peers;
  1. hidden singles: a digit with one place left in a row, column or box goes there;
  2. locked candidates: a digit confined to one line within a box leaves the rest of that
     line, and one confined to one box within a line leaves the rest of that box.

The search propagates at level 2 and prefers binary branches (see `_children`). Each
branch tried is a guess; `max_guesses` bounds them and `SearchBudgetExceeded` says so.
Measured figures are in docs/puzzles.md. Random complete grids come from the frozen
engine in `fill`, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from puzzles.errors import SearchBudgetExceeded

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
UNIT_INDEX = [(ROW[i], 9 + COL[i], 18 + BOX[i]) for i in range(81)]  # a cell's units, 0-26
UNITS_OF = [tuple(81 + u for u in units) for units in UNIT_INDEX]  # ... as state positions
UNIT_GETTERS = [(itemgetter(*unit), unit, 81 + u) for u, unit in enumerate(UNITS)]
OPEN = 108
PEERS = [tuple(sorted({j for unit in UNITS if i in unit for j in unit} - {i})) for i in range(81)]

NAKED_SINGLES, HIDDEN_SINGLES, LOCKED_CANDIDATES = 0, 1, 2

# Default budget of the public API. The hardest published puzzles need at most a few
# hundred guesses to solve and prove unique, generated ones a few dozen; one guess costs
# about 0.05 ms, so an exhausted budget answers within about a second.
MAX_GUESSES = 20_000


def _intersections() -> tuple[list[tuple[int, ...]], list[tuple]]:
    """The 54 intersections of a line (row or column) with a box, as cell triples, and the
    locked-candidate rules over them: (k, o1, o2, cells) says that digits of intersection k
    found in neither o1 nor o2 leave `cells`. Pointing: o1, o2 are the other intersections
    of k's box along its direction, `cells` the rest of its line. Claiming: o1, o2 are the
    other intersections of its line, `cells` the rest of its box."""
    triples, pointing, claiming = [], [], []
    for direction in range(2):
        def line_cells(line, lo=0, hi=9):
            return [line * 9 + k if direction == 0 else k * 9 + line for k in range(lo, hi)]

        for line in range(9):
            first = line - line % 3
            for part in range(3):
                cells = line_cells(line, part * 3, part * 3 + 3)
                k = direction * 27 + line * 3 + part
                box_others = [direction * 27 + other * 3 + part for other in range(first, first + 3) if other != line]
                line_others = [direction * 27 + line * 3 + other for other in range(3) if other != part]
                triples.append(tuple(cells))
                pointing.append((k, *box_others, tuple(i for i in line_cells(line) if i not in cells)))
                claiming.append((k, *line_others, tuple(i for i in UNITS[18 + BOX[cells[0]]] if i not in cells)))
    return triples, pointing + claiming


SEGMENT_CELLS, LOCK_RULES = _intersections()


@dataclass
class SearchStats:
    """Effort counters; `guesses` is how many branches the search tried (0 = pure logic)."""

    guesses: int = 0


def _assign(cand: list[int], queue: list[int]) -> bool:
    """Naked singles: remove each queued cell's digit from its peers, queueing peers left
    with one candidate; False when a cell loses its last candidate."""
    pop, push = queue.pop, queue.append
    while queue:
        i = pop()
        bit = cand[i]
        cand[OPEN] -= 1
        r, c, b = UNITS_OF[i]
        cand[r] |= bit
        cand[c] |= bit
        cand[b] |= bit
        for p in PEERS[i]:
            m = cand[p]
            if m & bit:
                m ^= bit
                if not m & (m - 1):
                    if not m:
                        return False
                    push(p)
                cand[p] = m
    return True


def _hidden_singles(cand: list[int], queue: list[int]) -> bool:
    """Queue every digit with one place left in a unit; False when a digit has no place
    or one cell is the only place of two digits. Masks only shrink, so singles found on
    masks this pass has already narrowed stay sound. (Unrolled: this is the hot loop.)"""
    for get, unit, placed in UNIT_GETTERS:
        a, b, c, d, e, f, g, h, k = get(cand)
        ab = a | b
        abc = ab | c
        abcd = abc | d
        abcde = abcd | e
        abcdef = abcde | f
        abcdefg = abcdef | g
        abcdefgh = abcdefg | h
        if abcdefgh | k != FULL:
            return False
        twice = (a & b) | (ab & c) | (abc & d) | (abcd & e) | (abcde & f) | (abcdef & g) | (abcdefg & h) | (abcdefgh & k)
        singles = FULL & ~(twice | cand[placed])
        if singles:
            for i in unit:
                m = cand[i] & singles
                if m and cand[i] != m:
                    if m & (m - 1):
                        return False
                    cand[i] = m
                    queue.append(i)
    return True


def _eliminate(cand: list[int], queue: list[int], bits: int, cells: tuple) -> int:
    """Remove `bits` from `cells`: 1 if something changed, 0 if not, -1 on a dead cell."""
    changed = 0
    for j in cells:
        c = cand[j]
        if c & bits:
            c &= ~bits
            if not c:
                return -1
            cand[j] = c
            changed = 1
            if not c & (c - 1):
                queue.append(j)
    return changed


def _locked_candidates(cand: list[int], queue: list[int]) -> int:
    """Pointing and claiming over all 54 line/box intersections: 1 if a candidate was
    removed, 0 if none, -1 on a contradiction. Solved cells are left out of the masks, so
    a placed digit (already gone from its peers) never looks confined; masks are taken
    once per pass, which stays sound as candidates only shrink."""
    open_ = [m if m & (m - 1) else 0 for m in cand[:81]]
    seg = [open_[a] | open_[b] | open_[c] for a, b, c in SEGMENT_CELLS]
    changed = 0
    for k, other1, other2, cells in LOCK_RULES:
        bits = seg[k] & ~(seg[other1] | seg[other2])
        if bits:
            result = _eliminate(cand, queue, bits, cells)
            if result < 0:
                return -1
            changed |= result
    return changed


def propagate(cand: list[int], queue: list[int], level: int = LOCKED_CANDIDATES) -> bool:
    """Apply the techniques up to `level` in place until none makes progress; False if
    the candidates contradict. `queue` holds the cells whose single digit is not yet
    removed from their peers."""
    while True:
        if not _assign(cand, queue):
            return False
        if level == NAKED_SINGLES or not cand[OPEN]:
            return True
        if not _hidden_singles(cand, queue):
            return False
        if queue:
            continue
        if level == HIDDEN_SINGLES:
            return True
        result = _locked_candidates(cand, queue)
        if result < 0:
            return False
        if not result:
            return True


def _start(cells: list[int]) -> tuple[list[int], list[int]] | None:
    """The state of a grid of digits (0 = blank): 81 candidate masks, then the 27 unit
    masks of placed digits, and the queue of blanks already down to one candidate; None
    when two givens repeat a digit in a unit or leave a blank without candidates."""
    placed = [0] * 27
    for i, d in enumerate(cells):
        if d:
            bit = 1 << (d - 1)
            r, c, b = UNIT_INDEX[i]
            if (placed[r] | placed[c] | placed[b]) & bit:
                return None
            placed[r] |= bit
            placed[c] |= bit
            placed[b] |= bit
    cand, queue = [], []
    for i, d in enumerate(cells):
        if d:
            cand.append(1 << (d - 1))
        else:
            r, c, b = UNIT_INDEX[i]
            m = FULL & ~(placed[r] | placed[c] | placed[b])
            if not m & (m - 1):
                if not m:
                    return None
                queue.append(i)
            cand.append(m)
    cand += placed
    cand.append(81 - sum(1 for d in cells if d))
    return cand, queue


def _open_peers(cand: list[int], i: int) -> int:
    """How many of cell i's peers are still unsolved: a branch there propagates furthest."""
    count = 0
    for p in PEERS[i]:
        m = cand[p]
        if m & (m - 1):
            count += 1
    return count


def _unit_pairs(cand: list[int]) -> list[tuple[int, int, int]]:
    """Every digit with exactly two (unsolved) places in a unit, as (bit, cell, cell)."""
    pairs = []
    for unit in UNITS:
        once = twice = thrice = 0
        for i in unit:
            m = cand[i]
            if m & (m - 1):
                thrice |= twice & m
                twice |= once & m
                once |= m
        two = twice & ~thrice
        while two:
            bit = two & -two
            two ^= bit
            a, b = (i for i in unit if cand[i] & bit)
            pairs.append((bit, a, b))
    return pairs


def _children(cand: list[int]) -> list[tuple[int, int]] | None:
    """The branches of a propagated state as (cell, mask) restrictions, or None when it is
    solved. Binary choices first: the two-candidate cell with most unsolved peers, else
    the digit with two places in a unit whose cells have fewest candidates (then most
    unsolved peers), else the cell with fewest candidates. Measured (docs/puzzles.md):
    branching on cells alone, 200 random views of Norvig's "impossible" puzzle took
    37,850 guesses on average with a 50,000 cap; with the unit choice, 54 each."""
    if not cand[OPEN]:
        return None
    bivalue = [i for i in range(81) if POPCOUNT[cand[i]] == 2]
    if bivalue:
        cell = max(bivalue, key=lambda i: _open_peers(cand, i))
        return [(cell, bit) for bit in BITS_OF[cand[cell]]]
    pairs = _unit_pairs(cand)
    if pairs:
        bit, a, b = min(pairs, key=lambda t: (POPCOUNT[cand[t[1]]] + POPCOUNT[cand[t[2]]],
                                              -_open_peers(cand, t[1]) - _open_peers(cand, t[2])))
        return [(a, bit), (b, bit)]
    cell = min((i for i in range(81) if cand[i] & (cand[i] - 1)), key=lambda i: POPCOUNT[cand[i]])
    return [(cell, bit) for bit in BITS_OF[cand[cell]]]


def _search(cand: list[int], limit: int, found: list[list[int]], stats: SearchStats, max_guesses: int | None,
            level: int) -> None:
    """Depth-first over states propagated at `level`, appending solutions to `found` until
    it holds `limit`; raises SearchBudgetExceeded past `max_guesses` branches."""
    children = _children(cand)
    if children is None:
        found.append([DIGIT_OF_BIT[m] for m in cand[:81]])
        return
    for cell, bit in children:
        stats.guesses += 1
        if max_guesses is not None and stats.guesses > max_guesses:
            raise SearchBudgetExceeded(max_guesses)
        child = cand[:]
        child[cell] = bit
        if propagate(child, [cell], level):
            _search(child, limit, found, stats, max_guesses, level)
            if len(found) >= limit:
                return


def _run(cand: list[int], queue: list[int], limit: int, stats: SearchStats | None, max_guesses: int | None,
         level: int = LOCKED_CANDIDATES) -> list[list[int]]:
    found: list[list[int]] = []
    if propagate(cand, queue, level):
        _search(cand, limit, found, stats if stats is not None else SearchStats(), max_guesses, level)
    return found


def solutions(cells: list[int], limit: int, stats: SearchStats | None = None,
              max_guesses: int | None = MAX_GUESSES) -> list[list[int]]:
    """Up to `limit` solutions of `cells` (81 digits, 0 = blank); [] when there is none.
    `max_guesses=None` searches without a budget."""
    start = _start(cells)
    return [] if start is None else _run(*start, limit, stats, max_guesses)


def has_other_solution(solution: list[int], cells: list[int], i: int, max_guesses: int | None = None) -> bool:
    """Whether blanking cell i of `cells` (whose unique completion is `solution`) admits a
    completion with another digit there: one search with that digit struck from cell i,
    far cheaper than counting two solutions, which makes generation by removal fast.
    Unbounded by default: generators ask it of consistent grids only. Singles alone
    answer these easy questions about a quarter faster than with locked candidates."""
    others = FULL & ~(1 << (solution[i] - 1))
    for p in PEERS[i]:
        if cells[p]:
            others &= ~(1 << (cells[p] - 1))
    if not others:  # the usual answer while many givens are left: the peers force cell i
        return False
    blanked = list(cells)
    blanked[i] = 0
    start = _start(blanked)
    if start is None:
        return False
    cand, queue = start
    cand[i] = others
    if not others & (others - 1):
        queue.append(i)
    return bool(_run(cand, queue, 1, None, max_guesses, HIDDEN_SINGLES))


def solved_by_logic(cells: list[int], level: int) -> bool | None:
    """True if propagation up to `level` alone fills the grid, False if it stalls, None if
    the givens contradict."""
    start = _start(cells)
    if start is None or not propagate(*start, level):
        return None
    return all(not m & (m - 1) for m in start[0][:81])
