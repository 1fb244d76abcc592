"""The case mix per group (a "table 1"): who the pilots shelter, as counts, shares and medians.

:func:`case_mix` takes a :func:`~lvv_eval.analysis.prepare.time_to_event` frame and returns a tidy
table with one row per group, characteristic and level: ``n`` stays with that level and
``percent`` of the group's stays (a ``missing`` level where the value is unknown, so that the
levels of a characteristic add up to the group's stays; left out where no group has one), and for age and the number of prior
departure procedures the median with its quartiles (``median``, ``q1``, ``q3``) over the
``n_known`` stays where it is known. The region of origin unites UN M49 sub-regions
(:func:`~lvv_eval.analysis.regions.origin_region`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.analysis.prepare import PRIOR_PROCEDURE_BANDS
from lvv_eval.schema import GUIDANCE_LEVELS

MISSING = "missing"
ALL = "all"
YES_NO = {1.0: "yes", 0.0: "no"}

CATEGORICAL: dict[str, tuple[str, dict[Any, str] | None, tuple[str, ...] | None]] = {
    # characteristic: (column of the frame, value -> level, level order)
    "sex": ("female", {1.0: "female", 0.0: "male"}, ("male", "female")),
    "origin_region": ("origin_region", None, None),
    "safe_country": ("safe_country", YES_NO, ("yes", "no")),
    "asylum_background": ("asylum_background", YES_NO, ("yes", "no")),
    "family": ("family", YES_NO, ("yes", "no")),
    "prior_band": ("prior_band", None, PRIOR_PROCEDURE_BANDS),
    "shelter_24h": ("shelter_24h", {1.0: "24h", 0.0: "night"}, ("night", "24h")),
    "guidance_intensity": ("guidance_intensity", None, GUIDANCE_LEVELS),
}
"""The characteristics counted by level, in table order."""

CONTINUOUS: dict[str, str] = {"age": "age", "n_prior": "n_prior"}
"""Characteristics summarised by median and quartiles: characteristic -> column."""

CASE_MIX_COLUMNS = ("variable", "level", "n", "percent", "n_known", "median", "q1", "q3")


def _levels(values: pd.Series, mapping: dict[Any, str] | None,
            order: Sequence[str] | None) -> tuple[pd.Series, list[str]]:
    if mapping is not None:
        levels = values.map(mapping)
    else:
        levels = values.astype("object").where(values.notna(), None)
        levels = levels.map(lambda v: None if v is None else str(v))
    if order is None:
        dtype = values.dtype
        order = [str(c) for c in dtype.categories] if isinstance(dtype, pd.CategoricalDtype) else \
            sorted(levels.dropna().unique())
    return levels, list(order)


def _categorical_rows(part: pd.DataFrame, variable: str) -> list[dict[str, Any]]:
    column, mapping, order = CATEGORICAL[variable]
    levels, order = _levels(part[column], mapping, order)
    counts = levels.value_counts()
    n_missing = int(levels.isna().sum())
    n = len(part)
    rows = [{"variable": variable, "level": lv, "n": int(counts.get(lv, 0))} for lv in order]
    rows.append({"variable": variable, "level": MISSING, "n": n_missing})
    for row in rows:
        row["percent"] = 100.0 * row["n"] / n if n else np.nan
    return rows


def _continuous_rows(part: pd.DataFrame, variable: str) -> list[dict[str, Any]]:
    values = part[CONTINUOUS[variable]].dropna().to_numpy(dtype=float)
    if len(values):
        q1, median, q3 = np.percentile(values, [25, 50, 75])
    else:
        q1 = median = q3 = np.nan
    n_missing = len(part) - len(values)
    return [
        {"variable": variable, "level": "median", "n_known": len(values), "median": median,
         "q1": q1, "q3": q3},
        {"variable": variable, "level": MISSING, "n": n_missing,
         "percent": 100.0 * n_missing / len(part) if len(part) else np.nan},
    ]


def _group_rows(part: pd.DataFrame) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"variable": "stays", "level": ALL, "n": len(part), "percent": 100.0 if len(part) else np.nan},
        {"variable": "persons", "level": ALL, "n": int(part["person_id"].nunique())},
    ]
    rows += _continuous_rows(part, "age")
    for variable in CATEGORICAL:
        rows += _categorical_rows(part, variable)
        if variable == "prior_band":
            rows += _continuous_rows(part, "n_prior")
    return rows


def case_mix(tte: pd.DataFrame, by: str = "pilot", overall: bool = True) -> pd.DataFrame:
    """The case mix per group of ``by`` (and over all groups with ``overall``, group ``all``).

    One row per group, characteristic (``variable``) and ``level``; counts ``n`` with ``percent``
    of the group's stays; ``median``, ``q1``, ``q3`` over ``n_known`` stays for age and prior
    procedures. ``stays`` and ``persons`` give the group's size. The frame needs the columns of
    :func:`~lvv_eval.analysis.prepare.time_to_event` (``origin_region`` included).
    """
    missing = [c for c in [by, "person_id", *(c for c, _, _ in CATEGORICAL.values()),
                           *CONTINUOUS.values()] if c not in tte.columns]
    if missing:
        raise KeyError(f"the analysis frame lacks {missing}; make it with time_to_event")
    groups = tte[by]
    order = ([str(c) for c in groups.cat.categories if (groups == c).any()]
             if isinstance(groups.dtype, pd.CategoricalDtype) else sorted(groups.dropna().unique()))
    parts = [(str(g), tte[groups.astype("object") == g]) for g in order]
    if overall:
        parts.append((ALL, tte))
    frames = []
    for name, part in parts:
        frame = pd.DataFrame(_group_rows(part)).reindex(columns=list(CASE_MIX_COLUMNS))
        frame.insert(0, by, name)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    never = out[out["level"] == MISSING].groupby("variable")["n"].sum()
    never = never[never == 0].index
    out = out[~((out["level"] == MISSING) & out["variable"].isin(never))].reset_index(drop=True)
    out["n"] = out["n"].astype("Int64")
    out["n_known"] = out["n_known"].astype("Int64")
    out[by] = pd.Categorical(out[by], categories=[name for name, _ in parts])
    return out


def _number(value: float, decimals: int, lang: str) -> str:
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".") if lang == "nl" else text


def _cell(row: pd.Series, hidden: pd.Series, lang: str, marker: str) -> str:
    """``n (p%)`` for a count, ``median [q1-q3]`` for a summary; the marker where not shown."""
    if row["level"] == "median":
        if hidden["median"] or pd.isna(row["median"]):
            return marker
        q = "" if hidden["q1"] or hidden["q3"] else \
            f" [{_number(row['q1'], 0, lang)}-{_number(row['q3'], 0, lang)}]"
        return _number(row["median"], 0, lang) + q
    if hidden["n"] or pd.isna(row["n"]):
        return marker
    share = "" if hidden["percent"] or pd.isna(row["percent"]) or row["variable"] in ("stays", "persons") \
        else f" ({_number(row['percent'], 1, lang)}%)"
    return _number(float(row["n"]), 0, lang) + share


def case_mix_view(data: pd.DataFrame, hidden: pd.DataFrame, lang: str = "nl", marker: str = "x",
                  by: str = "pilot") -> pd.DataFrame:
    """The checked case-mix table (``data`` and ``hidden`` of the gate's result) as a readable
    wide table: a row per characteristic and level (labelled in ``lang``), a column per group
    with ``n (p%)`` or ``median [q1-q3]``, the marker where the gate hides a cell."""
    from lvv_eval.analysis.plots import labels
    from lvv_eval.analysis.regions import region_label

    words = labels(lang)["case_mix"]
    groups = list(dict.fromkeys(data[by].astype("object")))
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for i, row in data.iterrows():
        key = (str(row["variable"]), str(row["level"]))
        cells.setdefault(key, {})[str(row[by])] = _cell(row, hidden.loc[i], lang, marker)
    rows = []
    previous = None
    for (variable, level), values in cells.items():
        name = words["variables"].get(variable, variable)
        if level == "median":
            name = f"{name}, {words['median_iqr']}"
        name, previous = ("" if name == previous else name), name
        level_text = "" if level in ("all", "median") else (
            region_label(level, lang) if variable == "origin_region" and level != MISSING
            else words["levels"].get(variable, {}).get(level, words["levels"]["any"].get(level, level)))
        rows.append({words["characteristic"]: name, words["level"]: level_text}
                    | {g: values.get(g, "") for g in groups})
    out = pd.DataFrame(rows)
    return out.rename(columns={"all": words["all"]})
