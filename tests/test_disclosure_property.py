"""Property: no suppressed cell of a random count table can be pinned below the threshold.

The check is independent of the gate's own proof: for each table the test writes the attacker's
linear programme from scratch (every shown cell fixed, every margin known, counts not negative)
and maximises and minimises each hidden sensitive cell with scipy. A hidden cell below the
threshold must be able to reach the threshold (so its interval is wider than zero and does not
lie below the threshold).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from lvv_eval.disclosure import DisclosureGate

THRESHOLD = 10
GATE = DisclosureGate.from_policy()  # the package policy: threshold 10, zeros suppressed
FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# cells mostly small so that suppression is frequent, with some large ones
counts = st.one_of(st.integers(0, 12), st.integers(0, 60), st.integers(10, 200))


def attacker_bounds(values: np.ndarray, shown: np.ndarray, groups: list[tuple[dict, float]],
                    cell: int) -> tuple[float, float]:
    """Min and max of ``values[cell]`` given the shown cells and the known linear relations
    (``{cell: coefficient}``, right-hand side)."""
    n = len(values)
    rows, rhs = [], []
    for coefs, total in groups:
        row = np.zeros(n)
        for i, c in coefs.items():
            row[i] = c
        rows.append(row)
        rhs.append(total)
    for i in np.flatnonzero(shown):
        row = np.zeros(n)
        row[i] = 1.0
        rows.append(row)
        rhs.append(values[i])
    if not rows:
        return 0.0, np.inf
    a, b = np.array(rows), np.array(rhs)
    c = np.zeros(n)
    c[cell] = 1.0
    low = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    high = linprog(-c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    assert low.status == 0, "the true table must be feasible"
    return low.fun, (np.inf if high.status == 3 else -high.fun)


def protected(values: np.ndarray, shown: np.ndarray, groups, cell: int) -> bool:
    low, high = attacker_bounds(values, shown, groups, cell)
    return high - low > 0 and high >= THRESHOLD - 1e-6


def assert_protected(values: np.ndarray, hidden: np.ndarray, groups, rules: list[str]) -> None:
    """Every hidden count below the threshold can reach the threshold, unless the known margins
    alone pin it down (then nothing can protect it and the record must say so)."""
    sensitive = values < THRESHOLD  # zeros too: the policy suppresses sampling zeros
    assert not (sensitive & ~hidden).any(), "a count below the threshold is shown"
    nothing_shown = np.zeros(len(values), dtype=bool)
    for cell in np.flatnonzero(hidden & sensitive):
        if protected(values, ~hidden, groups, cell):
            continue
        low, high = attacker_bounds(values, ~hidden, groups, cell)
        assert not protected(values, nothing_shown, groups, cell), (
            f"cell {cell} ({values[cell]}) is pinned in [{low}, {high}], below {THRESHOLD}")
        assert "UNPROTECTABLE" in rules, f"cell {cell} is given away by the margins, unrecorded"


def two_way_table_with_public_margins(n_rows, n_cols, data) -> None:
    cells = np.array(data.draw(st.lists(counts, min_size=n_rows * n_cols,
                                        max_size=n_rows * n_cols)), dtype=float)
    grid = cells.reshape(n_rows, n_cols)
    table = pd.DataFrame([{"row": f"r{i}", "col": f"c{j}", "n": grid[i, j]}
                          for i, j in itertools.product(range(n_rows), range(n_cols))])
    checked = GATE.table(table, "t", counts=["n"], dims=["row", "col"])
    hidden = checked.hidden["n"].to_numpy()
    index = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    # the attacker knows every margin that could be published (the policy's margins_public:
    # margins that pass the rules themselves are taken as published elsewhere)
    groups = ([(dict.fromkeys(index[i], 1.0), grid[i].sum()) for i in range(n_rows)
               if grid[i].sum() >= THRESHOLD]
              + [(dict.fromkeys(index[:, j], 1.0), grid[:, j].sum()) for j in range(n_cols)
                 if grid[:, j].sum() >= THRESHOLD])
    assert_protected(cells, hidden, groups, checked.entry.rules)


def two_way_table_with_its_margins_in_the_table(n_rows, n_cols, data) -> None:
    """The table holds its row, column and grand totals as cells (ACRO's crosstab with
    margins=True, whose suppressed cells could once be recovered from the totals)."""
    inner = np.array(data.draw(st.lists(counts, min_size=n_rows * n_cols,
                                        max_size=n_rows * n_cols)), dtype=float)
    grid = np.zeros((n_rows + 1, n_cols + 1))
    grid[:n_rows, :n_cols] = inner.reshape(n_rows, n_cols)
    grid[n_rows, :n_cols] = grid[:n_rows, :n_cols].sum(axis=0)
    grid[:, n_cols] = grid[:, :n_cols].sum(axis=1)
    rows = [f"r{i}" for i in range(n_rows)] + ["All"]
    cols = [f"c{j}" for j in range(n_cols)] + ["All"]
    table = pd.DataFrame([{"row": rows[i], "col": cols[j], "n": grid[i, j]}
                          for i, j in itertools.product(range(n_rows + 1), range(n_cols + 1))])
    checked = GATE.table(table, "t", counts=["n"], dims=["row", "col"],
                         totals={"row": "All", "col": "All"})
    hidden = checked.hidden["n"].to_numpy()
    index = np.arange((n_rows + 1) * (n_cols + 1)).reshape(n_rows + 1, n_cols + 1)
    values = grid.ravel()
    # every row (totals row included) and column sums to its total cell: sum(parts) - total = 0
    groups = []
    for i in range(n_rows + 1):
        groups.append((dict.fromkeys(index[i, :n_cols], 1.0) | {index[i, n_cols]: -1.0}, 0.0))
    for j in range(n_cols + 1):
        groups.append((dict.fromkeys(index[:n_rows, j], 1.0) | {index[n_rows, j]: -1.0}, 0.0))
    assert_protected(values, hidden, groups, checked.entry.rules)


def one_way_table_with_its_total(parts) -> None:
    values = np.array([*parts, sum(parts)], dtype=float)
    table = pd.DataFrame({"group": [f"g{i}" for i in range(len(parts))] + ["total"], "n": values})
    checked = GATE.table(table, "t", counts=["n"], dims=["group"], totals={"group": "total"})
    hidden = checked.hidden["n"].to_numpy()
    groups = [(dict.fromkeys(range(len(parts)), 1.0) | {len(parts): -1.0}, 0.0)]
    assert_protected(values, hidden, groups, checked.entry.rules)


two_way = given(st.integers(2, 5), st.integers(2, 5), st.data())
two_way_small = given(st.integers(2, 4), st.integers(2, 4), st.data())
one_way = given(st.lists(counts, min_size=2, max_size=8))

test_two_way_table_with_public_margins = FAST(two_way(two_way_table_with_public_margins))
test_two_way_table_with_its_margins_in_the_table = FAST(
    two_way_small(two_way_table_with_its_margins_in_the_table))
test_one_way_table_with_its_total = FAST(one_way(one_way_table_with_its_total))
test_two_way_table_with_public_margins_thoroughly = pytest.mark.slow(
    THOROUGH(two_way(two_way_table_with_public_margins)))
test_two_way_table_with_its_margins_in_the_table_thoroughly = pytest.mark.slow(
    THOROUGH(two_way_small(two_way_table_with_its_margins_in_the_table)))
test_one_way_table_with_its_total_thoroughly = pytest.mark.slow(
    THOROUGH(one_way(one_way_table_with_its_total)))


def test_the_acro_margins_case_is_closed() -> None:
    """One small cell in a crosstab with margins: suppressing it alone would let
    row total minus the other cells give it back (ACRO issue #198)."""
    table = pd.DataFrame({"row": ["a", "a", "b", "b", "All", "All", "a", "b", "All"],
                          "col": ["x", "y", "x", "y", "x", "y", "All", "All", "All"],
                          "n": [3, 40, 50, 60, 53, 100, 43, 110, 153]})
    checked = GATE.table(table, "t", counts=["n"], dims=["row", "col"],
                         totals={"row": "All", "col": "All"})
    hidden = checked.hidden["n"].to_numpy()
    assert hidden[0]
    assert hidden.sum() >= 4  # the small cell, a partner in its row, its column, and the corner
    shown = checked.shown()
    # no shown row or column lets the small cell be worked out
    a_row = shown[(shown["row"] == "a")]["n"].tolist()
    assert a_row.count("x") >= 2
