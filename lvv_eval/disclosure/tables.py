"""Checking a table: the rules for counts, values derived from them, statistics and text.

Every numeric column of a table has a role the writer declares: a *count* of people (checked
against the threshold, with secondary suppression over the table's layout), *derived* from a
count (a share, rate or confidence limit that gives the count away: not shown when the count is
not shown), a *statistic* resting on a basis count (a median, mean or person-years: not shown
when the basis is below the threshold), or *structural* (not about people: agreed places, the
number of pilots, a time grid; the reason is recorded). A numeric column without a role is not
shown and the table needs review. Text columns that may quote counts from the data are scanned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.disclosure.engine import protect
from lvv_eval.disclosure.layout import Layout, build_problem
from lvv_eval.disclosure.policy import DisclosurePolicy
from lvv_eval.disclosure.record import Entry, describe

Basis = str | Sequence[float] | np.ndarray | pd.Series


@dataclass
class Roles:
    """What each numeric column of a table is (see the module docstring)."""

    counts: tuple[str, ...] = ()
    derived: Mapping[str, Sequence[str]] = field(default_factory=dict)
    statistics: Mapping[str, Basis] = field(default_factory=dict)
    structural: Mapping[str, str] = field(default_factory=dict)
    text: tuple[str, ...] = ()
    estimates: tuple[str, ...] = ()

    def checks(self, policy: DisclosurePolicy) -> list[str]:
        """The rules that apply to a table with these roles."""
        out = []
        if self.counts:
            out.append("FREQ_ROUND" if policy.frequency.method == "round" else "FREQ_MIN")
            if policy.zeros.sampling == "suppress":
                out.append("FREQ_ZERO")
            if policy.frequency.method == "suppress" and policy.frequency.secondary:
                out.append("FREQ_SECONDARY")
        out += ["DERIVED"] * bool(self.derived) + ["STAT_BASIS"] * bool(self.statistics)
        return out + ["TEXT_COUNTS"] * bool(self.text)

    def names(self) -> dict[str, str]:
        """Column -> role, for the record."""
        out = {c: "count" for c in self.counts}
        for count, cols in self.derived.items():
            out.update({c: f"derived from {count}" for c in cols})
        for col, basis in self.statistics.items():
            out[col] = f"statistic (basis {basis if isinstance(basis, str) else 'given'})"
        out.update({c: f"structural: {why}" for c, why in self.structural.items()})
        out.update({c: "text (scanned for counts)" for c in self.text})
        out.update({c: "model estimate (model rules)" for c in self.estimates})
        return out


@dataclass
class CheckedTable:
    """A table after the gate: ``data`` with every cell not shown set to NaN, ``hidden`` marking
    those cells, and the record ``entry``. :meth:`shown` is the table as it is written."""

    name: str
    data: pd.DataFrame
    hidden: pd.DataFrame
    entry: Entry
    marker: str = "x"
    integer_columns: tuple[str, ...] = ()

    def shown(self) -> pd.DataFrame:
        """The table as written: counts as whole numbers, the marker where a cell is not shown."""
        out = self.data.copy()
        for col in self.data.columns:
            mask = self.hidden[col].to_numpy()
            if col in self.integer_columns:
                out[col] = _as_integers(out[col])
            if mask.any():
                out[col] = out[col].astype(object).where(~mask, self.marker)
        return out

    def drop_columns(self, columns: Sequence[str]) -> None:
        """Leave working columns out of the table (and its record)."""
        cols = [c for c in columns if c in self.data.columns]
        self.hidden = self.hidden.drop(columns=cols)
        self.data = self.data.drop(columns=cols).mask(self.hidden)
        for c in cols:
            self.entry.columns.pop(c, None)
        self.integer_columns = tuple(c for c in self.integer_columns if c not in cols)
        self.entry.cells = int(self.hidden.size)
        self.entry.cells_not_shown = int(self.hidden.to_numpy().sum())

    def _repr_html_(self) -> str:
        return self.shown().to_html(index=False, na_rep="")

    def __repr__(self) -> str:
        return f"CheckedTable({self.name!r}, status={self.entry.status!r})\n{self.shown()}"


def _as_integers(col: pd.Series) -> pd.Series:
    if not pd.api.types.is_numeric_dtype(col):
        return col
    vals = col.to_numpy(dtype=float)
    finite = vals[np.isfinite(vals)]
    if len(finite) and np.all(finite == np.round(finite)):
        return col.astype("Int64")
    return col


def sensitivity(policy: DisclosurePolicy):
    """The primary rule as a function of cell values: below the threshold, zeros per policy."""
    zeros = policy.zeros.sampling == "suppress"

    def sensitive(values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return (v < policy.threshold) & ((v > 0) | zeros)

    return sensitive


def _mask(table: pd.DataFrame, spec: Any, default: bool = False) -> np.ndarray:
    if spec is None:
        return np.full(len(table), default)
    if isinstance(spec, str):
        return table[spec].fillna(False).to_numpy(dtype=bool)
    return np.asarray(spec, dtype=bool)


@dataclass
class _Outcome:
    hidden: pd.DataFrame
    rules: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


def _check_counts(table: pd.DataFrame, roles: Roles, layout: Layout, policy: DisclosurePolicy,
                  public: np.ndarray, structural_zero: np.ndarray, out: _Outcome,
                  data: pd.DataFrame) -> None:
    sensitive = sensitivity(policy)
    structural_shown = structural_zero & (policy.zeros.structural == "show")
    for count in roles.counts:
        values = table[count].to_numpy(dtype=float)
        small = sensitive(np.nan_to_num(values, nan=np.inf)) & ~public & ~structural_shown
        if policy.frequency.method == "round":
            base = policy.frequency.rounding_base
            rounded = np.floor(values / base + 0.5) * base
            data[count] = np.where(public, values, rounded)
            out.rules.append("FREQ_ROUND")
            hide = small
        else:
            problem, broken = build_problem(table, count, layout, sensitive,
                                            public | structural_shown,
                                            policy.frequency.margins_public)
            result = protect(problem, policy.threshold, policy.frequency.secondary)
            hide = result.suppressed[: len(table)]
            out.hidden[count] |= hide
            _note_count_rules(out, values, result, broken, count)
        for col in roles.derived.get(count, ()):
            out.hidden[col] |= hide
        if hide.any() and roles.derived.get(count):
            out.rules.append("DERIVED")


def _note_count_rules(out: _Outcome, values: np.ndarray, result, broken, count: str) -> None:
    primary = result.primary[: len(values)]
    if (primary & (values > 0)).any():
        out.rules.append("FREQ_MIN")
    if (primary & (values == 0)).any():
        out.rules.append("FREQ_ZERO")
    if result.n_secondary or (result.suppressed[len(values):].any()):
        out.rules.append("FREQ_SECONDARY")
    if result.unprotectable:
        out.rules.append("UNPROTECTABLE")
        out.details.append(f"{count}: {len(result.unprotectable)} hidden count(s) derivable "
                           f"from public figures")
    if broken:
        out.details.append(f"{count}: {len(broken)} declared total(s) do not add up in the data "
                           f"and were not used")


def _basis_values(table: pd.DataFrame, basis: Basis) -> np.ndarray:
    if isinstance(basis, str):
        return table[basis].to_numpy(dtype=float)
    return np.asarray(basis, dtype=float)


def _check_statistics(table: pd.DataFrame, roles: Roles, policy: DisclosurePolicy,
                      out: _Outcome) -> None:
    for col, basis in roles.statistics.items():
        n = _basis_values(table, basis)
        low = ~(n >= policy.threshold)
        if low.any():
            out.hidden[col] |= low
            out.rules.append("STAT_BASIS")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# a whole number, with or without thousands separators (2,237), not part of a decimal
_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?![\d.]|,\d)")


def small_counts_in_text(text: Any, threshold: int) -> bool:
    """Whether ``text`` quotes a whole number from 1 to ``threshold - 1`` (dates left aside)."""
    if not isinstance(text, str):
        return False
    stripped = _DATE.sub(" ", text)
    return any(0 < int(m.replace(",", "")) < threshold for m in _NUMBER.findall(stripped))


def mask_small_counts(text: str, threshold: int, marker: str) -> str:
    """``text`` with whole numbers from 1 to ``threshold - 1`` replaced by ``marker``."""
    dates = {m.start(): m.end() for m in _DATE.finditer(text)}

    def swap(m: re.Match) -> str:
        inside_date = any(a <= m.start() < b for a, b in dates.items())
        small = 0 < int(m.group().replace(",", "")) < threshold
        return marker if small and not inside_date else m.group()

    return _NUMBER.sub(swap, text)


def _check_text(table: pd.DataFrame, roles: Roles, policy: DisclosurePolicy, out: _Outcome,
                public: np.ndarray) -> None:
    for col in roles.text:
        found = table[col].map(lambda t: small_counts_in_text(t, policy.threshold))
        bad = found.to_numpy(dtype=bool) & ~public
        if bad.any():
            out.hidden[col] |= bad
            out.rules.append("TEXT_COUNTS")


def unclassified_columns(table: pd.DataFrame, roles: Roles, keys: Sequence[str]) -> list[str]:
    """Numeric columns that are neither keys nor given a role."""
    known = set(keys) | set(roles.names())
    return [c for c in table.columns
            if c not in known and pd.api.types.is_numeric_dtype(table[c])
            and not pd.api.types.is_bool_dtype(table[c])]


def check_table(
    table: pd.DataFrame,
    name: str,
    policy: DisclosurePolicy,
    roles: Roles,
    layout: Layout | None = None,
    kind: str = "frequency",
    public: Any = None,
    structural_zeros: Any = None,
    synthetic: bool = False,
) -> CheckedTable:
    """Apply the rules to ``table``; the result says what is shown and why."""
    layout = layout or Layout()
    layout.check(table)
    missing = [c for c in roles.names() if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: column(s) {missing} given a role but not in the table")
    data = table.reset_index(drop=True).copy()
    out = _Outcome(hidden=pd.DataFrame(False, index=data.index, columns=data.columns))
    public_mask = _mask(data, public)
    _check_counts(data, roles, layout, policy, public_mask, _mask(data, structural_zeros), out,
                  data)
    _check_statistics(data, roles, policy, out)
    _check_text(data, roles, policy, out, public_mask)
    unclassified = unclassified_columns(data, roles, layout.keys)
    for col in unclassified:
        out.hidden[col] = True
    if unclassified:
        out.rules.append("UNCLASSIFIED")
        out.details.append(f"not classified: {', '.join(unclassified)}")
    if public_mask.any() and policy.published.show_as_published:
        out.rules.append("PUBLISHED")
    return _finish(name, kind, data, out, roles, unclassified, policy, synthetic)


def _finish(name: str, kind: str, data: pd.DataFrame, out: _Outcome, roles: Roles,
            unclassified: list[str], policy: DisclosurePolicy, synthetic: bool) -> CheckedTable:
    hidden = out.hidden
    shown = data.mask(hidden)
    n_hidden = int(hidden.to_numpy().sum())
    if unclassified:
        status = "needs review"
    elif "FREQ_ROUND" in out.rules:
        status = "rounded"
    elif n_hidden:
        status = "suppressed"
    else:
        status = "pass"
    rules = list(dict.fromkeys(out.rules))
    columns = roles.names() | {c: "not classified (not shown)" for c in unclassified}
    entry = Entry(output=name, kind=kind, status=status, rules=rules, checks=roles.checks(policy),
                  reason_en=describe(rules, policy, "en"), reason_nl=describe(rules, policy, "nl"),
                  cells=int(hidden.size), cells_not_shown=n_hidden, columns=columns,
                  details=out.details, synthetic=synthetic)
    return CheckedTable(name, shown, hidden, entry, policy.markers.suppressed,
                        integer_columns=tuple(roles.counts))
