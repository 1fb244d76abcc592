"""Figures: every value a figure draws must be a value the gated tables show.

The values are read back from the figure's artists in data coordinates (line points, bar heights,
filled bands such as confidence intervals; reference lines drawn in axes coordinates, like a
line at a hazard ratio of 1, are left out). A figure is written only when each drawn value on the
checked axis is among the shown values of the gated tables it names, and the drawn values are
written beside it (``<name>.values.csv``) so that the output checker can see the data behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.disclosure.tables import CheckedTable


def _line_points(ax: Any) -> list[tuple[str, float, float]]:
    out = []
    for line in ax.get_lines():
        if line.get_transform() != ax.transData:  # axhline/axvline: axes coordinates
            continue
        label = str(line.get_label())
        xs = np.asarray(line.get_xdata(), dtype=float)
        ys = np.asarray(line.get_ydata(), dtype=float)
        out += [(label, float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    return out


def _bar_points(ax: Any) -> list[tuple[str, float, float]]:
    from matplotlib.patches import Rectangle

    out = []
    for patch in ax.patches:
        empty = patch.get_width() == 0 and patch.get_height() == 0  # legend proxies
        if isinstance(patch, Rectangle) and patch.get_data_transform() == ax.transData and not empty:
            out.append(("bar", patch.get_x() + patch.get_width() / 2, float(patch.get_height())))
    return out


def _band_points(ax: Any) -> list[tuple[str, float, float]]:
    from matplotlib.collections import PolyCollection

    out = []
    for coll in ax.collections:
        if isinstance(coll, PolyCollection):
            for path in coll.get_paths():
                out += [("band", float(x), float(y)) for x, y in path.vertices]
    return out


def drawn_values(fig: Any) -> pd.DataFrame:
    """Every point the figure's axes draw: ``axes``, ``series``, ``x``, ``y`` (finite only)."""
    rows = []
    for i, ax in enumerate(fig.get_axes()):
        for series, x, y in _line_points(ax) + _bar_points(ax) + _band_points(ax):
            rows.append((i, series, x, y))
    frame = pd.DataFrame(rows, columns=["axes", "series", "x", "y"])
    finite = np.isfinite(frame["x"].to_numpy(float)) & np.isfinite(frame["y"].to_numpy(float))
    return frame[finite].reset_index(drop=True)


def shown_values(sources: Sequence[CheckedTable]) -> np.ndarray:
    """Every numeric value the gated tables show, sorted."""
    values = []
    for src in sources:
        for col in src.data.columns:
            if pd.api.types.is_numeric_dtype(src.data[col]) and not pd.api.types.is_bool_dtype(src.data[col]):
                vals = src.data[col].to_numpy(dtype=float)
                values.append(vals[np.isfinite(vals) & ~src.hidden[col].to_numpy()])
    return np.sort(np.concatenate(values)) if values else np.array([])


def values_not_shown(drawn: np.ndarray, allowed: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """The drawn values that are not (within ``rtol``) among ``allowed``."""
    allowed = np.sort(allowed)
    if len(allowed) == 0:
        return drawn
    pos = np.clip(np.searchsorted(allowed, drawn), 1, len(allowed) - 1)
    near = np.minimum(np.abs(allowed[pos] - drawn), np.abs(allowed[pos - 1] - drawn))
    ok = near <= rtol * np.maximum(1.0, np.abs(drawn))
    return drawn[~ok]


def check_figure(fig: Any, sources: Sequence[CheckedTable],
                 axis: str = "y") -> tuple[pd.DataFrame, np.ndarray]:
    """The figure's drawn values and those on ``axis`` that the sources do not show."""
    drawn = drawn_values(fig)
    stray = values_not_shown(drawn[axis].to_numpy(dtype=float), shown_values(sources))
    return drawn, stray
