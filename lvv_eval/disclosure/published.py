"""The published-versus-computed table of ``lvv-eval reproduce``.

The published figures are public and shown as published. A computed value that equals the
published one adds nothing and is shown too; a computed value that differs is a new cell and
follows the rules for its measure: a count must reach the threshold (with secondary suppression
over the pilots and their total), a share, rate or mean must rest on counts that reach it, agreed
places and monitor rounds are not about people. Free text that quotes counts from the data is
scanned.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from lvv_eval.disclosure.layout import Layout
from lvv_eval.disclosure.policy import DisclosurePolicy
from lvv_eval.disclosure.tables import CheckedTable, Roles, check_table

COMPUTED: tuple[str, ...] = ("computed_value", "computed_rounded", "difference")
# measure in the definitions file -> how its computed value is checked
MEASURE_KIND: dict[str, str] = {
    "count": "count",
    "share": "share",
    "percent_of_capacity": "count_share",
    "rate": "count_share",
    "mean": "mean",
    "average_occupancy": "level",
    "capacity": "structural",
    "monitor_rounds": "structural",
    "below_capacity": "structural",
}
GROUP_COLUMNS: tuple[str, ...] = ("publication", "reference_date", "indicator", "unit")


def check_matches(table: pd.DataFrame) -> np.ndarray:
    """Rows whose computed value, rounded as published, equals the published value."""
    pub = pd.to_numeric(table["published_value"].map(_as_number), errors="coerce")
    comp = pd.to_numeric(table["computed_rounded"].map(_as_number), errors="coerce")
    return (pub == comp).to_numpy(dtype=bool)


def _as_number(value: object) -> float:
    if isinstance(value, bool | np.bool_):
        return float(value)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan


def _basis(kind: str, value: float, num: float, den: float) -> float:
    """The count a computed value rests on (``inf`` when no basis rule applies)."""
    if kind == "share":
        return min(num, den)
    if kind == "count_share":
        return num
    if kind == "mean":
        return den
    if kind == "level":
        return value
    return np.inf


def check_published_comparison(
    table: pd.DataFrame,
    policy: DisclosurePolicy,
    measures: Mapping[str, str],
    bases: Mapping[str, tuple[float | None, float | None]],
    name: str = "reproduce",
    synthetic: bool = False,
) -> CheckedTable:
    """Gate the reproduce table. ``measures`` maps a figure id to its measure in the definitions
    file, ``bases`` maps a figure id to the numerator and denominator behind its computed value
    (needed for figures whose computed value differs from the published one)."""
    work = table.reset_index(drop=True).copy()
    kinds = work["figure_id"].map(lambda f: MEASURE_KIND.get(measures.get(f, ""), "unknown"))
    public = check_matches(work) & policy.published.show_as_published
    value = work["computed_value"].map(_as_number).to_numpy(dtype=float)
    work["_count"] = np.where(kinds == "count", value, np.nan)
    basis = np.array([
        np.inf if public[i] or kinds[i] in ("count", "structural") else
        _basis(kinds[i], value[i], *(_nan(x) for x in bases.get(work.at[i, "figure_id"], (None, None))))
        for i in range(len(work))
    ])
    roles = Roles(counts=("_count",), derived={"_count": COMPUTED},
                  statistics={"computed_value": basis},
                  structural={"published_value": "published figure (public)"},
                  text=("detail",))
    layout = _pilot_layout(work)
    checked = check_table(work, name, policy, roles, layout, kind="published", public=public,
                          synthetic=synthetic)
    hide_stat = checked.hidden["computed_value"].to_numpy()
    for col in COMPUTED:
        checked.hidden[col] |= hide_stat
    checked.drop_columns(["_count", "_group"])
    checked.entry.columns.update({c: "computed beside a published figure" for c in COMPUTED})
    return checked


def _nan(x: float | None) -> float:
    return np.nan if x is None else float(x)


def _pilot_layout(work: pd.DataFrame) -> Layout:
    """Pilots and their total ('all') within each published indicator, when rows are unique."""
    work["_group"] = work[list(GROUP_COLUMNS)].astype(str).agg("|".join, axis=1)
    if work.duplicated(["_group", "pilot"]).any():
        work.drop(columns="_group", inplace=True)
        return Layout(keys=("figure_id",))
    return Layout(keys=("_group", "pilot"), dims=("pilot",), totals={"pilot": "all"})
