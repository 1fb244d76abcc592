"""How the cells of a tidy count table are tied together, as an :class:`~.engine.Problem`.

A tidy table has one row per cell, identified by its key columns. Additive *dimensions* sum to
margins: a level of the dimension that holds the total (``totals={"pilot": "all"}``), or, when
the policy treats margins as public, a margin published elsewhere. *Relations* are identities
between levels of one column (``durable = residence + departure``). A *cumulative* column orders
counts that only grow (counts "since the start" at successive dates): the flow between two dates
is a hidden cell that the two published counts give away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.disclosure.engine import Constraint, Problem, check_constraints


@dataclass(frozen=True)
class Relation:
    """In ``column``, the level ``total`` equals the sum of the levels ``parts`` (for every
    combination of the other keys)."""

    column: str
    total: Any
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Cumulative:
    """Counts that grow along ``column`` (dates), restricted to rows where the other columns take
    the listed values (``where={"indicator": ("left", "durable")}``)."""

    column: str
    where: Mapping[str, Sequence[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """The structure of a count table: its keys, additive dimensions, totals, relations."""

    keys: tuple[str, ...] = ()
    dims: tuple[str, ...] = ()
    totals: Mapping[str, Any] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()
    cumulative: Cumulative | None = None

    def check(self, table: pd.DataFrame) -> None:
        """Raise ValueError when a key is missing or two rows share their keys."""
        missing = [k for k in (*self.keys, *self.dims) if k not in table.columns]
        if missing:
            raise ValueError(f"key column(s) {missing} not in the table")
        if not set(self.dims) <= set(self.keys):
            raise ValueError(f"dimensions {list(self.dims)} must be among the keys {list(self.keys)}")
        if self.keys and table.duplicated(list(self.keys)).any():
            raise ValueError(f"rows are not unique on the keys {list(self.keys)}")


class _Builder:
    """Collects cells and constraints; the table's rows are cells 0..n-1."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = list(values)
        self.fixed = [False] * len(values)
        self.hidden = [False] * len(values)
        self.constraints: list[Constraint] = []
        self.missing = np.isnan(values)

    def add_cell(self, value: float, fixed: bool, hidden: bool) -> int:
        self.values.append(float(value))
        self.fixed.append(fixed)
        self.hidden.append(hidden)
        return len(self.values) - 1

    def constrain(self, total: int, parts: Sequence[int]) -> None:
        members = [total, *parts]
        if len(parts) and not any(m < len(self.missing) and self.missing[m] for m in members):
            self.constraints.append((total, tuple(int(p) for p in parts)))


def _groups(table: pd.DataFrame, by: list[str]) -> list[np.ndarray]:
    if not by:
        return [np.arange(len(table))]
    codes = table.groupby(by, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


def _add_dimension(b: _Builder, table: pd.DataFrame, layout: Layout, dim: str,
                   margins_public: bool, sensitive: Callable[[np.ndarray], np.ndarray]) -> None:
    """Constraints along ``dim``: to its totals level, or to margins published elsewhere. A
    margin is taken as published only when it passes the rules itself; a margin that would be
    suppressed is an unknown cell to protect like the others."""
    others = [k for k in layout.keys if k != dim]
    values = np.asarray(b.values[: len(table)], dtype=float)
    if dim in layout.totals:
        is_total = (table[dim] == layout.totals[dim]).to_numpy()
        for rows in _groups(table, others):
            tot = rows[is_total[rows]]
            if len(tot) == 1:
                b.constrain(int(tot[0]), rows[~is_total[rows]])
    elif margins_public:
        for rows in _groups(table, others):
            if not np.isnan(values[rows]).any():
                margin = values[rows].sum()
                small = bool(sensitive(np.array([margin]))[0])
                b.constrain(b.add_cell(margin, fixed=not small, hidden=small), rows)


def _add_relation(b: _Builder, table: pd.DataFrame, layout: Layout, rel: Relation) -> None:
    others = [k for k in layout.keys if k != rel.column]
    col = table[rel.column].to_numpy()
    for rows in _groups(table, others):
        level = {col[r]: int(r) for r in rows}
        if rel.total in level and all(p in level for p in rel.parts):
            b.constrain(level[rel.total], [level[p] for p in rel.parts])


def _add_cumulative(b: _Builder, table: pd.DataFrame, layout: Layout, cum: Cumulative) -> None:
    mask = np.ones(len(table), dtype=bool)
    for column, levels in cum.where.items():
        mask &= table[column].isin(list(levels)).to_numpy()
    sub = table[mask]
    index = np.flatnonzero(mask)
    others = [k for k in layout.keys if k != cum.column]
    for rows in _groups(sub, others):
        ordered = index[rows][np.argsort(sub[cum.column].to_numpy()[rows], kind="stable")]
        for a, c in zip(ordered[:-1], ordered[1:], strict=True):
            va, vc = b.values[a], b.values[c]
            if np.isnan(va) or np.isnan(vc):
                continue
            if vc < va:
                where = table.iloc[int(c)][list(layout.keys)].to_dict()
                raise ValueError(f"counts along {cum.column!r} fall from {va:g} to {vc:g} at "
                                 f"{where}: they are not cumulative")
            b.constrain(int(c), [int(a), b.add_cell(vc - va, fixed=False, hidden=True)])


def build_problem(
    table: pd.DataFrame,
    count: str,
    layout: Layout,
    sensitive: Callable[[np.ndarray], np.ndarray],
    fixed: np.ndarray,
    margins_public: bool = True,
) -> tuple[Problem, list[Constraint]]:
    """The problem for column ``count``; also returns the declared constraints that do not hold
    on the data (they are left out: an attacker cannot use them exactly)."""
    values = table[count].to_numpy(dtype=float)
    b = _Builder(values)
    for dim in layout.dims:
        _add_dimension(b, table, layout, dim, margins_public, sensitive)
    for rel in layout.relations:
        _add_relation(b, table, layout, rel)
    if layout.cumulative is not None:
        _add_cumulative(b, table, layout, layout.cumulative)
    vals = np.nan_to_num(np.asarray(b.values, dtype=float), nan=0.0)
    n = len(table)
    sens = sensitive(vals)
    sens[:n] &= ~np.isnan(values) & ~fixed
    fix = np.asarray(b.fixed, dtype=bool)
    fix[:n] |= np.isnan(values) | fixed
    problem = Problem(vals, sens, fix, np.asarray(b.hidden, dtype=bool), b.constraints)
    broken = check_constraints(problem)
    if broken:
        problem.constraints = [c for c in problem.constraints if c not in set(broken)]
    return problem, broken
