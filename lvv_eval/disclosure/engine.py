"""Cell suppression with a proof: secondary suppression and the attacker's feasible intervals.

A count table is a set of cells tied by additive constraints (``total = sum of parts``: margins,
totals, identities between indicators, a cumulative count and the flow since the last date).
Some cells are *sensitive* (a count below the threshold, or a zero the policy protects), some
are *fixed* (already public: published figures, margins published elsewhere, structural zeros),
some are *hidden* (never published, like the flow between two cumulative counts).

:func:`protect` suppresses the sensitive cells, then further cells until an attacker who knows
every published and fixed cell, every constraint and that counts are not negative cannot pin a
sensitive cell below the threshold: the largest value the cell can take (a linear programme over
the suppressed cells) must reach the threshold. A cheap local rule comes first (in every
constraint, a sensitive cell has company, and the suppressed parts of a published total add up to
the threshold); the linear programmes then prove the result and add cells where the local rule
was not enough (for example a suppressed cell that bridges two otherwise protected groups).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

Constraint = tuple[int, tuple[int, ...]]


@dataclass
class Problem:
    """Cells (``values``) with their flags and the additive constraints that tie them."""

    values: np.ndarray
    sensitive: np.ndarray
    fixed: np.ndarray
    hidden: np.ndarray
    constraints: list[Constraint] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.values)
        self.values = np.asarray(self.values, dtype=float)
        for name in ("sensitive", "fixed", "hidden"):
            arr = np.asarray(getattr(self, name), dtype=bool)
            if arr.shape != (n,):
                raise ValueError(f"{name} must have one flag per cell ({n}), got {arr.shape}")
            setattr(self, name, arr)
        if (self.values < 0).any():
            raise ValueError("counts must not be negative")


@dataclass
class Protection:
    """The result of :func:`protect`."""

    suppressed: np.ndarray
    primary: np.ndarray
    secondary: np.ndarray
    upper: np.ndarray
    unprotectable: list[int]

    @property
    def n_primary(self) -> int:
        return int(self.primary.sum())

    @property
    def n_secondary(self) -> int:
        return int(self.secondary.sum())


def check_constraints(problem: Problem, tol: float = 1e-6) -> list[Constraint]:
    """The constraints that do not hold on the cells' values (a declared identity that is false)."""
    v = problem.values
    return [c for c in problem.constraints
            if abs(v[c[0]] - v[list(c[1])].sum()) > tol * max(1.0, abs(v[c[0]]))]


def _needs_more(c: Constraint, suppressed: np.ndarray, problem: Problem, threshold: float) -> bool:
    """Whether constraint ``c`` gives a suppressed cell away (it is the only unknown) or pins a
    sensitive one below the threshold (the suppressed parts of a known total add up to less)."""
    total, parts = c
    members = (total, *parts)
    published_unknown = [i for i in members if suppressed[i] and not problem.hidden[i]]
    sensitive = any(problem.sensitive[i] and suppressed[i] for i in members)
    if not published_unknown and not sensitive:
        return False
    if sum(bool(suppressed[i]) for i in members) < 2:
        return True
    if not sensitive or suppressed[total]:
        return False
    return problem.values[[p for p in parts if suppressed[p]]].sum() < threshold


def _pick(c: Constraint, suppressed: np.ndarray, problem: Problem, threshold: float) -> int | None:
    """The cell of ``c`` to suppress next: the smallest part that brings the suppressed parts
    to the threshold, else the largest part, else the total."""
    total, parts = c
    free = [p for p in parts if not suppressed[p] and not problem.fixed[p]]
    if free:
        have = problem.values[[p for p in parts if suppressed[p]]].sum()
        enough = [p for p in free if problem.values[p] + have >= threshold]
        if enough:
            return min(enough, key=lambda p: (problem.values[p], p))
        return max(free, key=lambda p: (problem.values[p], -p))
    if not suppressed[total] and not problem.fixed[total]:
        return total
    return None


def _local_pass(problem: Problem, suppressed: np.ndarray, threshold: float) -> None:
    changed = True
    while changed:
        changed = False
        for c in problem.constraints:
            if _needs_more(c, suppressed, problem, threshold):
                cell = _pick(c, suppressed, problem, threshold)
                if cell is not None:
                    suppressed[cell] = True
                    changed = True


def _components(n: int, constraints: Sequence[Constraint], unknown: np.ndarray) -> np.ndarray:
    """Component label of every unknown cell (cells linked by a shared constraint)."""
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for total, parts in constraints:
        members = [m for m in (total, *parts) if unknown[m]]
        for m in members[1:]:
            a, b = find(members[0]), find(m)
            if a != b:
                parent[b] = a
    return np.array([find(i) for i in range(n)])


def _component_programmes(problem: Problem, suppressed: np.ndarray, cells: Sequence[int]):
    """Per connected component of unknown cells: its variables, ``A x = b``, and the wanted
    cells in it (their position in ``cells`` and their column)."""
    labels = _components(len(problem.values), problem.constraints, suppressed)
    by_component: dict[int, list[int]] = {}
    for k, cell in enumerate(cells):
        by_component.setdefault(int(labels[cell]), []).append(k)
    for comp, ks in by_component.items():
        variables = np.flatnonzero(suppressed & (labels == comp))
        a_eq, b_eq = _equalities(problem, variables)
        col = {int(v): j for j, v in enumerate(variables)}
        yield len(variables), a_eq, b_eq, [(k, col[int(cells[k])]) for k in ks]


def _maximise(weights: np.ndarray, a_eq, b_eq, cap: float) -> np.ndarray:
    from scipy.optimize import linprog  # imported when a programme is solved (slow import)

    res = linprog(-weights, A_eq=a_eq, b_eq=b_eq, bounds=(0, cap), method="highs")
    if res.status != 0:
        raise RuntimeError(f"feasibility programme failed: {res.message}")
    return res.x


def feasible_upper(problem: Problem, suppressed: np.ndarray, cells: Sequence[int]) -> np.ndarray:
    """Largest value each of ``cells`` can take given every cell not in ``suppressed``
    (``inf`` when nothing bounds it). One linear programme per cell (HiGHS)."""
    out = np.full(len(cells), np.inf)
    cap = _cap(problem)
    for n, a_eq, b_eq, wanted in _component_programmes(problem, suppressed, cells):
        if a_eq is None:
            continue
        for k, j in wanted:
            w = np.zeros(n)
            w[j] = 1.0
            best = _maximise(w, a_eq, b_eq, cap)[j]
            out[k] = np.inf if best >= cap - 1e-6 else best
    return out


def _cap(problem: Problem) -> float:
    """An upper bound no count reaches (keeps every programme bounded)."""
    return float(problem.values.sum() * 2 + 1e6)


def certify(problem: Problem, suppressed: np.ndarray, cells: Sequence[int],
            threshold: float) -> np.ndarray:
    """For each of ``cells`` a value it can take, at least ``threshold`` when it is protected;
    below ``threshold`` the value is the cell's exact maximum.

    Maximising the sum of the uncertified cells certifies many at once; the rest get a programme
    each (equal to :func:`feasible_upper` for them).
    """
    out = np.full(len(cells), np.inf)
    cap = _cap(problem)
    for n, a_eq, b_eq, wanted in _component_programmes(problem, suppressed, cells):
        if a_eq is None:
            continue
        todo = list(wanted)
        while todo:
            w = np.zeros(n)
            w[[j for _, j in todo]] = 1.0
            x = _maximise(w, a_eq, b_eq, cap)
            done = [(k, j) for k, j in todo if x[j] >= threshold - 1e-9]
            for k, j in done:
                out[k] = x[j]
            if not done:
                break
            todo = [t for t in todo if t not in done]
        for k, j in todo:
            w = np.zeros(n)
            w[j] = 1.0
            out[k] = _maximise(w, a_eq, b_eq, cap)[j]
    return out


def _equalities(problem: Problem, variables: np.ndarray):
    """Rows ``A x = b`` over ``variables`` from every constraint that involves one of them."""
    col = {int(v): j for j, v in enumerate(variables)}
    rows, cols, data, rhs = [], [], [], []
    r = 0
    for total, parts in problem.constraints:
        members = [(total, 1.0)] + [(p, -1.0) for p in parts]
        if not any(m in col for m, _ in members):
            continue
        known = 0.0
        for m, sign in members:
            if m in col:
                rows.append(r)
                cols.append(col[m])
                data.append(sign)
            else:
                known += sign * problem.values[m]
        rhs.append(-known)
        r += 1
    if r == 0:
        return None, None
    a = sparse.csr_matrix((data, (rows, cols)), shape=(r, len(variables)))
    return a, np.asarray(rhs)


def _next_for(cell: int, problem: Problem, suppressed: np.ndarray) -> int | None:
    """A further cell to suppress for a sensitive cell that is still pinned down: the smallest
    free cell sharing a constraint with it, else with any suppressed cell."""
    touching = [c for c in problem.constraints if cell == c[0] or cell in c[1]]
    near = [c for c in problem.constraints if any(suppressed[m] for m in (c[0], *c[1]))]
    for group in (touching, near):
        free = {m for total, parts in group for m in (total, *parts)
                if not suppressed[m] and not problem.fixed[m]}
        if free:
            return min(free, key=lambda m: (problem.values[m], m))
    return None


def _add_for(failing: Sequence[int], problem: Problem, suppressed: np.ndarray) -> list[int]:
    """One further suppressed cell for each failing cell (none twice in a constraint)."""
    added: list[int] = []
    for cell in failing:
        if any(cell in (c[0], *c[1]) and any(a in (c[0], *c[1]) for a in added)
               for c in problem.constraints):
            continue
        extra = _next_for(cell, problem, suppressed)
        if extra is not None:
            suppressed[extra] = True
            added.append(extra)
    return added


def protect(problem: Problem, threshold: float, secondary: bool = True) -> Protection:
    """Suppress the sensitive cells and, with ``secondary``, enough further cells that none of
    them can be pinned below ``threshold``; returns the suppression and the proof's bounds."""
    primary = problem.sensitive & ~problem.fixed & ~problem.hidden
    suppressed = (problem.sensitive & ~problem.fixed) | problem.hidden
    targets = np.flatnonzero(problem.sensitive & ~problem.fixed)
    upper = np.full(len(problem.values), np.nan)
    unprotectable: list[int] = []
    if secondary and len(targets):
        _local_pass(problem, suppressed, threshold)
        pending = list(targets)
        while pending:
            bounds = certify(problem, suppressed, pending, threshold)
            upper[pending] = bounds
            failing = [c for c, b in zip(pending, bounds, strict=True) if b < threshold - 1e-9]
            if not failing:
                break
            added = _add_for(failing, problem, suppressed)
            if not added:
                unprotectable = failing
                break
            _local_pass(problem, suppressed, threshold)
            pending = failing
    secondary_mask = suppressed & ~primary & ~problem.hidden
    return Protection(suppressed=suppressed & ~problem.hidden, primary=primary,
                      secondary=secondary_mask, upper=upper, unprotectable=unprotectable)
