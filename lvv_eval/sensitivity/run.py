"""Run a grid: every specification's outcomes in one tidy results table.

    results = run_grid(stays)                         # the default grid, headline shares
    results = run_grid(stays, "my_grid.yaml", outcomes="models")
    results.table                                     # spec_id, one column per axis, outcome, ...

The table has one row per specification, outcome and pilot: ``spec_id``, one column per axis
(the option chosen), ``is_base``, ``outcome``, ``pilot``, ``estimate``, ``lower``, ``upper``
(shares and cumulative incidences in percent, hazard ratios as ratios), ``n`` (units in the
denominator, stays in the model), ``numerator`` (units meeting the outcome, events),
``interval`` (the method behind lower/upper), ``p_value`` and ``notes`` (models only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from lvv_eval.sensitivity.grid import Grid, GridError, load_grid
from lvv_eval.sensitivity.indicators import StaysArrays, headline_table
from lvv_eval.sensitivity.models import Progress, model_table
from lvv_eval.sensitivity.specs import Specification, resolve_grid

OutcomeFamily = Literal["indicators", "models", "all"]
OUTCOME_FAMILIES: tuple[str, ...] = ("indicators", "models", "all")


@dataclass
class GridResults:
    """The specifications of a grid and their outcomes."""

    grid: Grid
    specs: list[Specification]
    table: pd.DataFrame
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def axes(self) -> tuple[str, ...]:
        return self.grid.axis_names

    def specifications(self) -> pd.DataFrame:
        """One row per specification: its id, its option on every axis, whether it is the base."""
        base = self.grid.base_choices()
        rows = [{"spec_id": s.spec_id, **s.choices, "is_base": dict(s.choices) == base}
                for s in self.specs]
        return pd.DataFrame(rows)

    def outcome(self, outcome: str, pilot: str = "all") -> pd.DataFrame:
        """The rows of one outcome and pilot."""
        known = sorted(self.table["outcome"].unique())
        if outcome not in known:
            raise KeyError(f"outcome {outcome!r} not in the results; known: {', '.join(known)}")
        rows = self.table[(self.table["outcome"] == outcome) & (self.table["pilot"] == pilot)]
        return rows.reset_index(drop=True)


def excluded_specifications(grid: Grid) -> pd.DataFrame:
    """Every combination a constraint keeps out, with the constraint's reason (en and nl)."""
    rows = []
    for choices in grid.all_choices():
        constraint = grid.excluded_by(choices)
        if constraint is not None:
            rows.append({**choices, "constraint": constraint.label_en,
                         "reason_en": constraint.reason_en, "reason_nl": constraint.reason_nl})
    return pd.DataFrame(rows, columns=[*grid.axis_names, "constraint", "reason_en", "reason_nl"])


def _with_spec_columns(rows: pd.DataFrame, specs: Sequence[Specification], grid: Grid) -> pd.DataFrame:
    base = grid.base_choices()
    lookup = pd.DataFrame([{"spec_index": i, "spec_id": s.spec_id, **s.choices,
                            "is_base": dict(s.choices) == base} for i, s in enumerate(specs)])
    out = lookup.merge(rows, on="spec_index", how="right").drop(columns="spec_index")
    for axis in grid.axis_names:
        out[axis] = pd.Categorical(out[axis], categories=list(grid.axes[axis].options))
    return out


def _as_grid(grid: Grid | str | Path | None) -> Grid:
    return grid if isinstance(grid, Grid) else load_grid(grid)


def run_grid(
    stays: pd.DataFrame,
    grid: Grid | str | Path | None = None,
    outcomes: OutcomeFamily = "indicators",
    definitions: str | Path | None = None,
    n_jobs: int = -1,
    progress: Progress | None = None,
    only: Sequence[Mapping[str, str]] | None = None,
    spec_ids: Sequence[str] | None = None,
) -> GridResults:
    """Every specification of ``grid`` (the package's default grid when None) on ``stays``.

    ``outcomes``: ``indicators`` (the headline shares per pilot), ``models`` (cumulative
    incidence at the horizon and the adjusted hazard ratio with its bootstrap interval) or
    ``all``. ``definitions``: the base definitions file (the package's by default). ``only``:
    run just these specifications (axis -> option mappings); ``spec_ids``: just the
    specifications with these ids (a result traced back and re-run alone).
    """
    if outcomes not in OUTCOME_FAMILIES:
        raise ValueError(f"outcomes must be one of {', '.join(OUTCOME_FAMILIES)}, got {outcomes!r}")
    grid = _as_grid(grid)
    choices = grid.choices()
    if only is not None:
        wanted = [dict(c) for c in only]
        choices = [c for c in choices if c in wanted]
    specs = resolve_grid(grid, Path(definitions) if definitions else None, choices)
    if spec_ids is not None:
        unknown = sorted(set(spec_ids) - {s.spec_id for s in specs})
        if unknown:
            raise GridError(f"{grid.path}: no specification with id {', '.join(unknown)}")
        specs = [s for s in specs if s.spec_id in set(spec_ids)]
    parts = []
    if outcomes in ("indicators", "all"):
        named = {name: o.indicator for name, o in grid.spec.outcomes.items()}
        parts.append(headline_table(StaysArrays.from_stays(stays), specs, named,
                                    grid.spec.models.level))
    if outcomes in ("models", "all"):
        parts.append(model_table(stays, specs, grid.spec.models, n_jobs=n_jobs,
                                 progress=progress))
    rows = pd.concat(parts, ignore_index=True)
    table = _with_spec_columns(rows, specs, grid)
    return GridResults(grid=grid, specs=specs, table=table,
                       attrs={"outcomes": outcomes, "definitions": str(definitions or "")})
