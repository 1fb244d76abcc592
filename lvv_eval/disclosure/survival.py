"""Survival and cumulative-incidence curves on a coarse grid, each shown step resting on enough.

A curve that steps on every exit day gives single exits away. The gated curve is read on a grid
(every ``grid_days`` days). A grid point is shown only when at least ``min_events_per_step``
events of the curve's class happened since the last shown point and at least ``min_at_risk``
people are still at risk on it; otherwise it is not shown (and its events carry over to the next
point). Past the last point with enough people at risk nothing is shown. Day 0 (incidence 0) is
structural and always shown. The figure is drawn from the shown points only, so its steps are
the table's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lvv_eval.disclosure.policy import DisclosurePolicy
from lvv_eval.disclosure.record import Entry, describe
from lvv_eval.disclosure.tables import CheckedTable

if TYPE_CHECKING:
    from lvv_eval.analysis.cuminc import CumIncResult

VALUE_COLUMNS: tuple[str, ...] = ("cif", "se", "lower", "upper")


def grid_for(max_time: float, grid_days: int) -> np.ndarray:
    """Grid points 0, g, 2g, ... up to the first at or beyond ``max_time``."""
    steps = int(np.ceil(max(max_time, 0) / grid_days))
    return np.arange(steps + 1, dtype=float) * grid_days


def shown_points(times: np.ndarray, is_event: np.ndarray, grid: np.ndarray,
                 policy: DisclosurePolicy) -> np.ndarray:
    """Which grid points of one curve are shown (see the module docstring).

    ``times`` are the follow-up times of everyone in the group, ``is_event`` marks the events of
    the curve's class.
    """
    surv = policy.survival
    zeros_shown = policy.zeros.sampling == "show"
    sorted_times = np.sort(times)
    event_times = np.sort(times[is_event])
    at_risk = len(sorted_times) - np.searchsorted(sorted_times, grid, side="left")
    events_by = np.searchsorted(event_times, grid, side="right")
    shown = np.zeros(len(grid), dtype=bool)
    shown[0] = True
    last = 0
    for k in range(1, len(grid)):
        if at_risk[k] < surv.min_at_risk:
            break
        new = events_by[k] - events_by[last]
        if new >= surv.min_events_per_step or (new == 0 and zeros_shown):
            shown[k] = True
            last = k
    return shown


@dataclass
class CheckedCurves:
    """Gated curves: ``table`` (every grid point, the marker where not shown) for writing and
    ``result`` (the shown points only, as a :class:`CumIncResult`) for figures and reading."""

    table: CheckedTable
    result: Any  # CumIncResult

    @property
    def entry(self) -> Entry:
        return self.table.entry

    def at(self, times: Sequence[float]) -> pd.DataFrame:
        """The gated curves read at ``times`` (days): the value of the last shown step at or
        before each time (its day in ``shown_at``); the marker past a curve's last shown step."""
        keys = [*self.result.by, "cause"]
        rows = []
        for key, curve in self.result.table.groupby(keys, observed=True, sort=False):
            t = curve["time"].to_numpy()
            for time in times:
                row = curve.iloc[max(int(np.searchsorted(t, time, side="right")) - 1, 0)]
                rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)),
                             "time": time, "shown_at": row["time"],
                             **{c: row[c] for c in VALUE_COLUMNS}})
        out = pd.DataFrame(rows)
        hidden = out["cif"].isna()
        for col in ("shown_at", *VALUE_COLUMNS):
            out[col] = out[col].astype(object).where(~hidden, self.table.marker)
        return out

    def _repr_html_(self) -> str:
        return self.table._repr_html_()


def _group_frames(tte: pd.DataFrame, by: tuple[str, ...]):
    if not by:
        yield (), tte
        return
    for key, part in tte.groupby(list(by), observed=True, sort=True):
        yield (key if isinstance(key, tuple) else (key,)), part


def check_cumulative_incidence(result: CumIncResult, tte: pd.DataFrame, name: str,
                               policy: DisclosurePolicy, synthetic: bool = False) -> CheckedCurves:
    """The curves of ``result`` (computed from ``tte``) on the policy's grid, steps checked."""
    from lvv_eval.analysis.cuminc import read_curve  # the analysis layer only when curves are gated

    by = result.by
    grid = grid_for(float(tte["time"].max()), policy.survival.grid_days)
    curves = result.table.groupby([*by, "cause"], observed=True, sort=False)
    rows, masks = [], []
    for key, part in _group_frames(tte.dropna(subset=list(by)), by):
        times = part["time"].to_numpy(dtype=float)
        events = part["event"].to_numpy()
        for code, cause in enumerate(result.coding.classes, start=1):
            curve = curves.get_group((*key, cause)) if (*key, cause) in curves.groups else None
            read = (read_curve(curve, grid) if curve is not None
                    else pd.DataFrame({"time": grid} | {c: 0.0 for c in VALUE_COLUMNS}))
            for col, val in zip(by, key, strict=True):
                read.insert(0, col, val)
            read.insert(len(by), "cause", cause)
            rows.append(read)
            masks.append(~shown_points(times, events == code, grid, policy))
    table = pd.concat(rows, ignore_index=True)
    for col in (*by, "cause"):
        if isinstance(result.table[col].dtype, pd.CategoricalDtype):
            table[col] = table[col].astype(result.table[col].dtype)
    not_shown = np.concatenate(masks)
    hidden = pd.DataFrame(False, index=table.index, columns=table.columns)
    for col in VALUE_COLUMNS:
        hidden[col] = not_shown
    rules = ["SURV_GRID"]
    entry = Entry(output=name, kind="survival", status="suppressed" if not_shown.any() else "pass",
                  rules=rules, reason_en=describe(rules, policy, "en"),
                  reason_nl=describe(rules, policy, "nl"), cells=int(hidden.size),
                  cells_not_shown=int(hidden.to_numpy().sum()),
                  columns={"time": "structural: time grid", **{c: "curve value (grid step)"
                                                               for c in VALUE_COLUMNS}},
                  details=[f"grid every {policy.survival.grid_days} days, "
                           f"{int((~not_shown).sum())} of {len(not_shown)} points shown"],
                  synthetic=synthetic)
    checked = CheckedTable(name, table.mask(hidden), hidden, entry, policy.markers.suppressed)
    keep = ~not_shown | _curve_ends(not_shown, len(grid))
    gated_table = table.mask(hidden)[keep].reset_index(drop=True)
    gated_table.attrs = {**result.table.attrs, "gated": True, "grid_days": policy.survival.grid_days}
    return CheckedCurves(checked, replace(result, table=gated_table))


def _curve_ends(not_shown: np.ndarray, n_grid: int) -> np.ndarray:
    """For each curve (``n_grid`` rows), its first hidden grid point after the last shown one:
    kept as an empty (NaN) row, so that reading the curve past its last shown step gives
    nothing rather than that step's value."""
    ends = np.zeros(len(not_shown), dtype=bool)
    for start in range(0, len(not_shown), n_grid):
        shown = np.flatnonzero(~not_shown[start:start + n_grid])
        last = shown[-1] if len(shown) else -1
        if last + 1 < n_grid:
            ends[start + last + 1] = True
    return ends
