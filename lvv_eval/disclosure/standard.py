"""The roles of the analysis layer's standard tables, so that a notebook gates them in one call.

:class:`StandardTables` is mixed into :class:`~lvv_eval.disclosure.gate.DisclosureGate`:
``gate.length_of_stay(los)``, ``gate.rates(rates, tte)``, ``gate.shelter_effect(effect)``,
``gate.prior_procedures_gradient(gradient)``, ``gate.effects(effects, name)``,
``gate.case_mix(table)``, ``gate.specification_curve(rows)``,
``gate.specification_summary(table, name, basis)``. Model tables treat every numeric column that is not
a count or structural as an estimate of the model (withheld when the model fails), so columns the
analysis layer adds later are covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.disclosure.tables import CheckedTable

MODEL_COUNTS: tuple[str, ...] = ("n_obs", "n_events")
MODEL_STRUCTURAL: dict[str, str] = {"n_clusters": "number of pilots (clusters), not of people"}
LOS_STATISTICS: tuple[str, ...] = ("median_days", "lower", "upper")
CASE_MIX_STATISTICS: tuple[str, ...] = ("median", "q1", "q3")


def estimate_columns(table: pd.DataFrame, counts: Sequence[str], structural: Sequence[str]) -> list[str]:
    """Numeric columns of a model table that are neither counts nor structural."""
    skip = set(counts) | set(structural)
    return [c for c in table.columns if c not in skip
            and pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])]


def group_sizes(table: pd.DataFrame, tte: pd.DataFrame, by: str | Sequence[str]) -> np.ndarray:
    """For each row of ``table``, the number of stays in ``tte`` of its group (``by``)."""
    keys = [by] if isinstance(by, str) else list(by)
    sizes = tte.groupby(keys, observed=True).size().rename("_n").reset_index()
    merged = table[keys].astype(object).merge(sizes.astype({k: object for k in keys}), on=keys,
                                              how="left")
    return merged["_n"].fillna(0).to_numpy(dtype=float)


class StandardTables:
    """Gating of the analysis layer's tables (mixed into the gate)."""

    def length_of_stay(self, los: pd.DataFrame, name: str = "length_of_stay") -> CheckedTable:
        """:func:`~lvv_eval.analysis.length_of_stay`: counts of stays and exits per group, the
        median and its limits resting on the exits."""
        return self.table(los, name, counts=["n_stays", "n_exits"], dims=["group"],  # type: ignore[attr-defined]
                          statistics={c: "n_exits" for c in LOS_STATISTICS if c in los.columns})

    def rates(self, rates: pd.DataFrame, tte: pd.DataFrame, name: str = "rates_per_100py",
              by: str | Sequence[str] = "pilot") -> CheckedTable:
        """:func:`~lvv_eval.analysis.rates_per_100_person_years`: events per group and class
        (a count table over both), the rate and its limits giving the events away, person-years
        resting on the group's stays."""
        keys = [by] if isinstance(by, str) else list(by)
        derived = [c for c in ("rate_per_100py", "lower", "upper") if c in rates.columns]
        return self.table(rates, name, counts=["events"], dims=[*keys, "cause"],  # type: ignore[attr-defined]
                          derived={"events": derived},
                          statistics={"person_years": group_sizes(rates, tte, keys)})

    def case_mix(self, table: pd.DataFrame, name: str = "case_mix", by: str = "pilot",
                 overall: str | None = "all") -> CheckedTable:
        """:func:`~lvv_eval.analysis.casemix.case_mix`: counts per group, characteristic and
        level (the levels of a characteristic add up to the group's stays, the groups to
        ``overall``), shares giving their count away, medians and quartiles resting on the stays
        where the characteristic is known."""
        statistics = {c: "n_known" for c in CASE_MIX_STATISTICS if c in table.columns}
        return self.table(table, name, counts=["n", "n_known"], dims=[by, "level"],  # type: ignore[attr-defined]
                          keys=[by, "variable", "level"],
                          totals={by: overall} if overall is not None else None,
                          derived={"n": ["percent"]}, statistics=statistics)

    def specification_curve(self, rows: pd.DataFrame,
                            name: str = "specification_curve") -> CheckedTable:
        """:func:`~lvv_eval.sensitivity.curve_data`: one row per specification (populations
        overlap, so no row adds up with another); the numerator and the units of the
        denominator are counts, the share and its limits give the numerator away."""
        derived = [c for c in ("estimate", "lower", "upper") if c in rows.columns]
        structural = {"rank": "rank of the specification on the curve"}
        return self.table(rows, name, counts=["n", "numerator"], keys=["spec_id"],  # type: ignore[attr-defined]
                          derived={"numerator": derived}, structural=structural)

    def specification_summary(self, table: pd.DataFrame, name: str, basis: float,
                              structural: Sequence[str] = (),
                              text: Sequence[str] = ()) -> CheckedTable:
        """A table about the specifications of a grid (``axis_variance_table``,
        ``place_published``): ``structural`` columns count specifications or options, not people
        (or are published figures); every other numeric column is a statistic over the curve's
        units, resting on ``basis`` (the fewest units of any specification on the curve)."""
        numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
                   and not pd.api.types.is_bool_dtype(table[c]) and c not in structural]
        return self.table(table, name, kind="statistics",  # type: ignore[attr-defined]
                          structural={c: "about specifications, not people" for c in structural},
                          statistics={c: np.full(len(table), float(basis)) for c in numeric},
                          text=list(text))

    def _models_table(self, table: pd.DataFrame, name: str, models: list[Any]) -> CheckedTable:
        counts = [c for c in MODEL_COUNTS if c in table.columns]
        structural = {c: why for c, why in MODEL_STRUCTURAL.items() if c in table.columns}
        return self.model_table(table, name, models,  # type: ignore[attr-defined]
                                estimates=estimate_columns(table, counts, list(structural)),
                                counts=counts, structural=structural)

    def shelter_effect(self, effect: Any, name: str = "shelter_24h_effect") -> CheckedTable:
        """:func:`~lvv_eval.analysis.compare_shelter_effect`: the naive and adjusted rows."""
        models = [effect.naive if e == "naive" else effect.adjusted for e in effect.table["estimate"]]
        return self._models_table(effect.table, name, models)

    def effects(self, effects: Any, name: str) -> CheckedTable:
        """:func:`~lvv_eval.analysis.exposure_effects` (and ``guidance_effects``,
        ``compare_pilots``): each row checked against the model that made it."""
        return self._models_table(effects.table, name, list(effects.models))

    def prior_procedures_gradient(self, gradient: Any,
                                  name: str = "prior_procedures_gradient") -> CheckedTable:
        """:func:`~lvv_eval.analysis.prior_procedures_gradient`: band rows from the bands model,
        trend rows from their own models."""
        return self._models_table(gradient.table, name, gradient.models())
