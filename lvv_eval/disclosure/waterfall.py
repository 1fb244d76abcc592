"""The reconciliation waterfall (``lvv-eval reproduce --reconcile``): raw rows to a figure.

Each line removes (or adds) a number of rows and leaves a remaining count, so consecutive
remaining counts give every change away: the lines form a chain of constraints (previous
remaining = remaining + rows removed). Changes and remaining counts below the threshold are
suppressed, with secondary suppression along the chain. The published figure is public; the
computed figure equal to it is shown; a computed share is shown when the count it rests on is.
Details quoting small counts are not shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lvv_eval.disclosure.engine import Problem, protect
from lvv_eval.disclosure.policy import DisclosurePolicy
from lvv_eval.disclosure.record import Entry, describe
from lvv_eval.disclosure.tables import CheckedTable, sensitivity, small_counts_in_text

PUBLIC_STEPS: tuple[str, ...] = ("published",)
DERIVED_STEPS: tuple[str, ...] = ("difference",)


def _chain(table: pd.DataFrame) -> tuple[list[float], list[bool], list[tuple[int, tuple[int, ...]]],
                                         dict[int, int], dict[int, int]]:
    """Cells (remaining counts, then rows removed), which are fixed, the constraints, and the
    cell of each line's remaining count and change."""
    steps = table["step"].astype(str).tolist()
    remaining = table["remaining"].to_numpy(dtype=float)
    change = table["change"].to_numpy(dtype=float)
    values, fixed = [], []
    rem_cell, chg_cell, constraints = {}, {}, []
    prev = None
    for k, step in enumerate(steps):
        if step in DERIVED_STEPS or np.isnan(remaining[k]):
            continue
        rem_cell[k] = len(values)
        values.append(remaining[k])
        fixed.append(step in PUBLIC_STEPS)
        if step in PUBLIC_STEPS:
            continue
        if change[k] != 0:
            chg_cell[k] = len(values)
            values.append(abs(change[k]))
            fixed.append(False)
        if prev is not None and change[k] < 0:
            constraints.append((rem_cell[prev], (rem_cell[k], chg_cell[k])))
        elif prev is not None and change[k] > 0:
            constraints.append((rem_cell[k], (rem_cell[prev], chg_cell[k])))
        elif prev is not None and remaining[k] == remaining[prev]:
            constraints.append((rem_cell[k], (rem_cell[prev],)))
        elif prev is None and change[k] > 0:
            constraints.append((rem_cell[k], (chg_cell[k],)))
        prev = k
    return values, fixed, constraints, rem_cell, chg_cell


def check_waterfall(table: pd.DataFrame, policy: DisclosurePolicy, name: str = "reconcile",
                    synthetic: bool = False) -> CheckedTable:
    """Gate a waterfall (columns step, label_en, label_nl, change, remaining, detail)."""
    data = table.reset_index(drop=True).copy()
    values, fixed, constraints, rem_cell, chg_cell = _chain(data)
    vals = np.asarray(values, dtype=float)
    sensitive = sensitivity(policy)(vals) & (vals == np.round(vals))
    problem = Problem(vals, sensitive, np.asarray(fixed), np.zeros(len(vals), bool), constraints)
    result = protect(problem, policy.threshold, policy.frequency.secondary)
    hidden = pd.DataFrame(False, index=data.index, columns=data.columns)
    for k, cell in rem_cell.items():
        hidden.at[k, "remaining"] = bool(result.suppressed[cell])
    for k, cell in chg_cell.items():
        hidden.at[k, "change"] = bool(result.suppressed[cell])
    computed = data.index[data["step"] == "computed"]
    for k in data.index[data["step"].isin(DERIVED_STEPS)]:
        hidden.at[k, "remaining"] = bool(hidden.loc[computed, "remaining"].any())
    public = data["step"].isin(PUBLIC_STEPS).to_numpy()
    hidden["detail"] = data["detail"].map(
        lambda t: small_counts_in_text(t, policy.threshold)).to_numpy(bool) & ~public
    rules = ["FREQ_MIN"] * bool((result.primary & (vals > 0)).any())
    rules += ["FREQ_ZERO"] * bool((result.primary & (vals == 0)).any())
    rules += ["FREQ_SECONDARY"] * bool(result.n_secondary)
    rules += ["TEXT_COUNTS"] * bool(hidden["detail"].any()) + ["PUBLISHED"] * bool(public.any())
    n_hidden = int(hidden.to_numpy().sum())
    entry = Entry(output=name, kind="frequency", status="suppressed" if n_hidden else "pass",
                  rules=rules, checks=["FREQ_MIN", "FREQ_SECONDARY", "TEXT_COUNTS"],
                  reason_en=describe(rules, policy, "en"), reason_nl=describe(rules, policy, "nl"),
                  cells=int(hidden.size), cells_not_shown=n_hidden,
                  columns={"change": "count (rows removed or added)",
                           "remaining": "count (rows remaining; the published figure is public)",
                           "detail": "text"},
                  synthetic=synthetic)
    return CheckedTable(name, data.mask(hidden), hidden, entry, policy.markers.suppressed)
