"""Sensitivity of the figures and analyses to the definitions: a grid of specifications.

A notebook calls::

    results = run_grid(stays)                        # default grid, headline shares per pilot
    results = run_grid(stays, outcomes="models")     # + cumulative incidence, adjusted HR
    fig = plot_specification_curve(results, "durable_share", published=place_published(results))
    axis_variance_table(results, "durable_share")    # share of the spread per axis
    place_published(results)                         # 18%, 59%, 75% on the curve, explained

The grid is data (``specs/sensitivity_grid.yaml``); see :mod:`lvv_eval.sensitivity.grid`.
"""

from lvv_eval.sensitivity.curve import axis_variance_table, curve_data, plot_specification_curve
from lvv_eval.sensitivity.grid import Grid, GridError, load_grid
from lvv_eval.sensitivity.published import describe_placement, place_published
from lvv_eval.sensitivity.run import (
    OUTCOME_FAMILIES,
    GridResults,
    excluded_specifications,
    run_grid,
)
from lvv_eval.sensitivity.specs import Specification, canonical_json, hash_id, merge_patch

__all__ = [
    "OUTCOME_FAMILIES",
    "Grid",
    "GridError",
    "GridResults",
    "Specification",
    "axis_variance_table",
    "canonical_json",
    "curve_data",
    "describe_placement",
    "excluded_specifications",
    "hash_id",
    "load_grid",
    "merge_patch",
    "place_published",
    "plot_specification_curve",
    "run_grid",
]
