"""The specification curve (Simonsohn, Simmons & Nelson 2020; R's ``specr``) and how much of
its spread each axis explains.

The curve ranks the specifications by their estimate (top panel: estimates with intervals,
published figures as reference lines); the panel below marks each specification's option on
every axis. :func:`axis_variance_table` decomposes the spread: a linear model of the estimate on
the axes' option dummies (statsmodels OLS), with each axis's sum of squares (type II, so an
axis is credited only with what the others do not explain) as a share of the total, the share
the axis explains on its own, and the interactions left as the residual share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from matplotlib.figure import Figure
from statsmodels.stats.anova import anova_lm

from lvv_eval.sensitivity.run import GridResults

BASE_COLOUR = "#d62728"
POINT_COLOUR = "#1f77b4"
LINE_COLOURS = ("#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def curve_data(results: GridResults, outcome: str = "durable_share", pilot: str = "all") -> pd.DataFrame:
    """The results rows of one outcome and pilot, ranked by estimate (``rank`` 1 = lowest;
    specifications without an estimate last); exactly the rows the curve draws."""
    rows = results.outcome(outcome, pilot)
    rows = rows.sort_values(["estimate", "spec_id"], na_position="last", kind="stable")
    rows = rows.reset_index(drop=True)
    rows.insert(0, "rank", np.arange(1, len(rows) + 1))
    return rows


def _label(entry: object, lang: str) -> str:
    return str(getattr(entry, f"label_{lang}"))


def _choice_rows(results: GridResults) -> list[tuple[str, str]]:
    return [(axis, option) for axis in results.axes for option in results.grid.axes[axis].options]


def _draw_estimates(ax: plt.Axes, data: pd.DataFrame) -> None:
    """Intervals, estimates and the base specification as lines in data coordinates, so that the
    disclosure gate reads every drawn value back (a hidden estimate, NaN, is not drawn)."""
    x = data["rank"].to_numpy(dtype=float)
    has_ci = (data["lower"].notna() & data["upper"].notna()).to_numpy()
    n = int(has_ci.sum())
    seg_x = np.column_stack([x[has_ci], x[has_ci], np.full(n, np.nan)]).ravel()
    seg_y = np.column_stack([data.loc[has_ci, "lower"], data.loc[has_ci, "upper"],
                             np.full(n, np.nan)]).ravel()
    ax.plot(seg_x, seg_y, color=POINT_COLOUR, alpha=0.15, linewidth=0.8, label="interval")
    estimate = data["estimate"].to_numpy(dtype=float)
    ax.plot(x, estimate, "o", markersize=1.5, color=POINT_COLOUR, zorder=3, label="estimate")
    base = data["is_base"].to_numpy(dtype=bool)
    ax.plot(x[base], estimate[base], "D", markersize=6, color=BASE_COLOUR, zorder=4,
            label="base")


def _draw_reference_lines(ax: plt.Axes, lines: pd.DataFrame | None, lang: str) -> None:
    if lines is None:
        return
    for i, line in enumerate(lines.itertuples()):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        ax.axhline(line.published, color=colour, linestyle="--", linewidth=1)
        ax.annotate(f"{line.published:g}: {getattr(line, f'label_{lang}')}",
                    xy=(0.01, line.published), xycoords=("axes fraction", "data"),
                    va="bottom", fontsize=7, color=colour)


def _draw_choices(ax: plt.Axes, data: pd.DataFrame, results: GridResults, lang: str) -> None:
    rows = _choice_rows(results)
    y_of = {choice: len(rows) - i for i, choice in enumerate(rows)}
    x = data["rank"].to_numpy()
    base = data["is_base"].to_numpy(dtype=bool)
    for axis in results.axes:
        y = np.array([y_of[(axis, str(o))] for o in data[axis]])
        ax.scatter(x, y, s=2, marker="|", color=POINT_COLOUR)
        ax.scatter(x[base], y[base], s=30, marker="D", color=BASE_COLOUR, zorder=3)
    ticks = [y_of[c] for c in rows]
    labels = [f"{a}: {o}" for a, o in rows]
    ax.set_yticks(ticks, labels, fontsize=6)
    bounds = np.cumsum([len(results.grid.axes[a].options) for a in results.axes])[:-1]
    for b in bounds:
        ax.axhline(len(rows) - b + 0.5, color="grey", linewidth=0.5)
    ax.set_ylim(0.5, len(rows) + 0.5)


def plot_specification_curve(
    results: GridResults,
    outcome: str = "durable_share",
    pilot: str = "all",
    published: pd.DataFrame | None = None,
    lang: str = "en",
    title: str | None = None,
    null: float | None = None,
    rows: pd.DataFrame | None = None,
) -> Figure:
    """Two panels: ranked estimates with intervals (base specification as a red diamond,
    ``published`` figures as reference lines, e.g. :func:`place_published`'s table; ``null``
    as a grey line, e.g. 1 for a hazard ratio), and below each specification's option on every
    axis. ``rows`` draws these rows of :func:`curve_data` instead (e.g. the disclosure gate's
    checked curve, whose hidden estimates are not drawn); the estimates are lines in data
    coordinates, so the gate can check every drawn value on y."""
    data = curve_data(results, outcome, pilot) if rows is None else rows
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 9), sharex=True, gridspec_kw={"height_ratios": [2, 3]})
    if null is not None:
        top.axhline(null, color="grey", linewidth=1)
    _draw_estimates(top, data)
    if published is not None:
        published = published[(published["outcome"] == outcome) & (published["pilot"] == pilot)]
    _draw_reference_lines(top, published, lang)
    top.set_ylabel(_label(results.grid.spec.outcomes[outcome], lang)
                   if outcome in results.grid.spec.outcomes else outcome)
    top.set_title(title or f"{outcome}, {pilot}: {len(data)} specifications", fontsize=10)
    _draw_choices(bottom, data, results, lang)
    bottom.set_xlabel("rank" if lang == "en" else "rang")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# variance decomposition


def _axes_that_vary(data: pd.DataFrame, axes: Sequence[str]) -> list[str]:
    return [a for a in axes if data[a].astype(str).nunique() > 1]


def axis_variance_table(results: GridResults, outcome: str = "durable_share", pilot: str = "all",
                        labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """How much of the spread of an outcome's estimates each axis explains.

    Columns: ``axis``, ``label``, ``options``, ``share_unique`` (type II sum of squares of the
    axis in the additive model, as a share of the total sum of squares), ``share_alone`` (R² of
    the axis by itself), ``range`` (highest minus lowest mean estimate over the axis's options),
    and a last row ``interactions / residual`` (what the additive model leaves unexplained).
    """
    data = results.outcome(outcome, pilot).dropna(subset=["estimate"])
    axes = _axes_that_vary(data, results.axes)
    frame = data[list(results.axes)].astype(str).assign(y=data["estimate"].to_numpy())
    total = float(((frame["y"] - frame["y"].mean()) ** 2).sum())
    labels = labels or {a: results.grid.axes[a].label_en for a in results.axes}
    rows = []
    unique = pd.Series(0.0, index=list(results.axes))
    residual = total
    if axes and total > 0:
        fit = smf.ols("y ~ " + " + ".join(f"C({a})" for a in axes), data=frame).fit()
        anova = anova_lm(fit, typ=2)
        for a in axes:
            unique[a] = float(anova.loc[f"C({a})", "sum_sq"])
        residual = float(anova.loc["Residual", "sum_sq"])
    for a in results.axes:
        means = frame.groupby(a)["y"].mean()
        alone = float(((means.reindex(frame[a]).to_numpy() - frame["y"].mean()) ** 2).sum())
        rows.append({"axis": a, "label": labels.get(a, a), "options": int(frame[a].nunique()),
                     "share_unique": unique[a] / total if total else 0.0,
                     "share_alone": alone / total if total else 0.0,
                     "range": float(means.max() - means.min())})
    rows.append({"axis": "interactions / residual", "label": "", "options": 0,
                 "share_unique": residual / total if total else 0.0, "share_alone": np.nan,
                 "range": np.nan})
    out = pd.DataFrame(rows)
    out.attrs.update(outcome=outcome, pilot=pilot, n_specifications=len(data), total_ss=total)
    return out
