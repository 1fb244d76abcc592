"""Figures of the analysis layer (seaborn/matplotlib). Every function returns a Figure.

Labels are Dutch by default (``lang="nl"``), English with ``lang="en"``; the words live in
``labels.yaml``. Pass ``synthetic=True`` to stamp the figure SYNTHETIC.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import yaml  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, NullFormatter  # noqa: E402

from lvv_eval.analysis.cuminc import CumIncResult  # noqa: E402
from lvv_eval.config import PILOTS  # noqa: E402
from lvv_eval.report.style import SYNTHETIC_COLOUR, apply_theme, class_palette, pilot_palette  # noqa: E402

LABELS_YAML = Path(__file__).with_name("labels.yaml")
LANGS = ("nl", "en")


@cache
def _all_labels() -> dict[str, Any]:
    return yaml.safe_load(LABELS_YAML.read_text(encoding="utf-8"))


def labels(lang: str = "nl") -> dict[str, Any]:
    """The label dictionary of one language."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return _all_labels()[lang]


def _class_label(cls: str, lang: str) -> str:
    return labels(lang).get("classes", {}).get(str(cls), str(cls))


def _group_label(column: str, value: Any, lang: str) -> str:
    return str(labels(lang).get("groups", {}).get(column, {}).get(str(value), value))


def _stamp(fig: Figure, synthetic: bool, lang: str) -> None:
    if synthetic:
        fig.text(0.99, 0.01, labels(lang)["synthetic"], ha="right", va="bottom", color=SYNTHETIC_COLOUR,
                 fontsize=9, fontweight="bold")


def plot_cumulative_incidence(
    result: CumIncResult,
    lang: str = "nl",
    max_days: float | None = None,
    ci: bool = True,
    synthetic: bool = False,
) -> Figure:
    """Step curves of cumulative incidence per outcome class, one panel per group."""
    lab = labels(lang)
    table = result.table.copy()
    if max_days is not None:
        table = table[table["time"] <= max_days]
    by = result.by[0] if result.by else None
    panels = list(table[by].drop_duplicates()) if by else [None]
    ncol = min(len(panels), 3)
    nrow = int(np.ceil(len(panels) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.5 * ncol, 3.5 * nrow), sharey=True,
                             squeeze=False)
    apply_theme()
    palette = class_palette(result.coding.classes)
    for ax, panel in zip(axes.flat, panels, strict=False):
        part = table if panel is None else table[table[by] == panel]
        for cls in result.coding.classes:
            curve = part[part["cause"] == cls]
            ax.step(curve["time"], curve["cif"], where="post", color=palette[cls],
                    label=_class_label(cls, lang))
            if ci:
                ax.fill_between(curve["time"], curve["lower"], curve["upper"], step="post",
                                color=palette[cls], alpha=0.2, linewidth=0)
        ax.set_title(_group_label(by, panel, lang) if by else "")
        ax.set_xlabel(lab["days_since_admission"])
        ax.set_ylabel(lab["cumulative_incidence"])
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(lab["cumulative_incidence_title"])
    fig.tight_layout()
    _stamp(fig, synthetic, lang)
    return fig


def plot_stock(
    stock: pd.DataFrame, lang: str = "nl", capacity: pd.DataFrame | None = None,
    synthetic: bool = False,
) -> Figure:
    """Stock per pilot over time (from :func:`stock_at` or :func:`occupancy_against_capacity`),
    with the agreed places (``capacity``, from :func:`lvv_eval.capacity.load_capacity_file`)
    as dotted lines."""
    apply_theme()
    lab = labels(lang)
    fig, ax = plt.subplots(figsize=(8, 4))
    sns.lineplot(data=stock, x="date", y="stock", hue="pilot", ax=ax,
                 palette=pilot_palette(stock["pilot"].astype(str).unique()))
    if capacity is not None:
        for _, row in capacity.iterrows():
            colour = pilot_palette([str(row["pilot"])])[str(row["pilot"])] if "pilot" in row else "grey"
            ax.axhline(row["places"], linestyle=":", linewidth=0.8, color=colour)
    ax.set_xlabel(lab["date"])
    ax.set_ylabel(lab["stock"])
    ax.set_title(lab["stock_title"])
    fig.tight_layout()
    _stamp(fig, synthetic, lang)
    return fig


def _several_levels(rows: pd.DataFrame) -> bool:
    return "level" in rows.columns and rows["level"].nunique() > 1


def _effect_name(row: pd.Series, lang: str, with_level: bool) -> str:
    """``[level vs reference - ]naive/adjusted`` for a forest plot's row."""
    lab = labels(lang)
    estimate = str(lab.get(str(row["estimate"]), row["estimate"]))
    if not with_level:
        return estimate
    exposure = str(row.get("exposure", ""))
    if row.get("kind") == "trend" and exposure == "guidance_step":
        level = lab["trend_per_step"]
    else:
        level = _group_label(exposure, row["level"], lang)
        if level == str(row["level"]):  # not a group of the exposure: a level word (a contrast)
            level = _group_label("level", row["level"], lang)
        reference = row.get("reference", "")
        if isinstance(reference, str) and reference:
            level = f"{level} {lab['versus']} {_group_label(exposure, reference, lang)}"
    return f"{level} - {estimate}"


FOREST_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def _forest_limits(rows: pd.DataFrame) -> tuple[float, float]:
    finite = pd.concat([rows["hr"], rows["hr_lower"], rows["hr_upper"]]).to_numpy(dtype=float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    return float(finite.min()) / 2, float(finite.max()) * 2


def _draw_forest(ax: plt.Axes, rows: pd.DataFrame, y: np.ndarray, limits: tuple[float, float]) -> None:
    """Estimates as dots, intervals as lines; an unbounded side runs to the axis edge, marked
    there with an arrow head (drawn in axes coordinates, so it is no value of the figure)."""
    lower = rows["hr_lower"].to_numpy(dtype=float)
    upper = rows["hr_upper"].to_numpy(dtype=float)
    open_low, open_high = ~(lower > 0), ~np.isfinite(upper)
    ax.hlines(y, np.where(open_low, limits[0], lower), np.where(open_high, limits[1], upper),
              color="black", linewidth=1.2)
    ax.plot(rows["hr"].to_numpy(dtype=float), y, "o", color="black", label="hr")
    edge = ax.get_yaxis_transform()  # x in axes coordinates, y in data coordinates
    for flag, x, mark in ((open_low, 0.0, "<"), (open_high, 1.0, ">")):
        if flag.any():
            ax.plot(np.full(int(flag.sum()), x), y[flag], marker=mark, linestyle="",
                    color="black", transform=edge, clip_on=False)


def plot_effects(effects: pd.DataFrame, lang: str = "nl", synthetic: bool = False,
                 title: str | None = None) -> Figure:
    """Forest plot of hazard ratios with CIs, one panel per outcome class (e.g. the table of
    :func:`~lvv_eval.analysis.exposure_effects` or ``ShelterEffect.table``); with several levels
    of the exposure each row names its level against the reference. Rows without an estimate
    (withheld by the disclosure gate) are left out.

    The drawn values are on the x axis (check the figure with ``axis="x"``): estimates and
    finite limits. An unbounded bootstrap limit (0 or infinite) runs to the edge of the panel,
    marked ``<`` or ``>``.
    """
    apply_theme()
    lab = labels(lang)
    every = effects.reset_index(drop=True)
    with_level = _several_levels(every)
    names = list(dict.fromkeys(_effect_name(r, lang, with_level) for _, r in every.iterrows()))
    rows = every[every["hr"].notna()].reset_index(drop=True)
    causes = list(dict.fromkeys(rows["cause"]))
    limits = _forest_limits(rows)
    fig, axes = plt.subplots(1, len(causes), figsize=(3.2 * len(causes) + 2.8, 0.4 * len(names) + 1.4),
                             sharey=True, squeeze=False)
    position = {name: len(names) - 1 - i for i, name in enumerate(names)}
    for ax, cause in zip(axes.flat, causes, strict=True):
        part = rows[rows["cause"] == cause]
        y = np.array([position[_effect_name(r, lang, with_level)] for _, r in part.iterrows()])
        _draw_forest(ax, part, y, limits)
        ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlim(*limits)
        ax.set_xticks([t for t in FOREST_TICKS if limits[0] <= t <= limits[1]])
        ax.xaxis.set_major_formatter(FormatStrFormatter("%.2g"))
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels would overlap
        ax.set_title(_class_label(cause, lang))
        ax.set_xlabel(lab["hazard_ratio"])
    axes.flat[0].set_yticks(list(position.values()), list(position))
    axes.flat[0].set_ylim(-0.6, len(names) - 0.4)
    fig.suptitle(title if title is not None else lab["effects_title"])
    fig.tight_layout()
    _stamp(fig, synthetic, lang)
    return fig


def plot_rates(rates: pd.DataFrame, lang: str = "nl", synthetic: bool = False) -> Figure:
    """Bar chart of exits per 100 person-years per pilot and outcome class, with exact CIs.

    Each bar and its interval are drawn from the same row of ``rates`` (a hidden cell, NaN, draws
    neither); pilots in the order of :data:`lvv_eval.config.PILOTS`, classes in scheme order.
    """
    apply_theme()
    lab = labels(lang)
    classes = list(rates["cause"].cat.categories) if hasattr(rates["cause"], "cat") else list(
        dict.fromkeys(rates["cause"].astype(str)))
    classes = [c for c in classes if c in set(rates["cause"].astype(str))]
    pilots = sorted(dict.fromkeys(rates["pilot"].astype(str)),
                    key=lambda p: (PILOTS.index(p) if p in PILOTS else len(PILOTS), p))
    colours = class_palette(classes)
    width = 0.8 / max(len(classes), 1)
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, cls in enumerate(classes):
        part = rates[rates["cause"].astype(str) == cls]
        for _, row in part.iterrows():
            rate = float(row["rate_per_100py"]) if pd.notna(row["rate_per_100py"]) else np.nan
            if not np.isfinite(rate):
                continue
            x = pilots.index(str(row["pilot"])) - 0.4 + width * (i + 0.5)
            ax.bar(x, rate, width=width, color=colours[cls])
            lower, upper = row["lower"], row["upper"]
            if pd.notna(lower) and pd.notna(upper):
                ax.plot([x, x], [float(lower), float(upper)], color="black", linewidth=0.8)
    ax.set_xticks(range(len(pilots)), pilots)
    handles = [Patch(facecolor=colours[c], label=_class_label(c, lang)) for c in classes]
    ax.legend(handles=handles, title="")
    ax.set_ylabel(lab["rate_per_100py"])
    ax.set_xlabel("")
    fig.tight_layout()
    _stamp(fig, synthetic, lang)
    return fig


def plot_cumulative_incidence_by_group(
    result: CumIncResult,
    lang: str = "nl",
    classes: list[str] | None = None,
    max_days: float | None = None,
    ci: bool = True,
    synthetic: bool = False,
    title: str | None = None,
) -> Figure:
    """One panel per outcome class, one step curve per group of ``result.by`` (e.g. night
    against 24-hour shelter, or the prior-procedure bands), so that groups compare within a class."""
    if len(result.by) != 1:
        raise ValueError("plot_cumulative_incidence_by_group needs curves by exactly one column")
    lab = labels(lang)
    by = result.by[0]
    table = result.table
    if max_days is not None:
        table = table[table["time"] <= max_days]
    shown = [c for c in result.coding.classes if classes is None or c in classes]
    groups = list(table[by].drop_duplicates().sort_values())
    apply_theme()
    colours = pilot_palette(groups) if by == "pilot" else class_palette(groups)
    fig, axes = plt.subplots(1, len(shown), figsize=(4.5 * len(shown), 3.6), sharey=True,
                             squeeze=False)
    for ax, cls in zip(axes.flat, shown, strict=True):
        for group in groups:
            curve = table[(table["cause"] == cls) & (table[by] == group)]
            ax.step(curve["time"], curve["cif"], where="post", color=colours[str(group)],
                    label=_group_label(by, group, lang))
            if ci:
                ax.fill_between(curve["time"], curve["lower"], curve["upper"], step="post",
                                color=colours[str(group)], alpha=0.15, linewidth=0)
        ax.set_title(_class_label(cls, lang))
        ax.set_xlabel(lab["days_since_admission"])
        ax.set_ylabel(lab["cumulative_incidence"])
    axes.flat[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(title if title is not None else lab["cumulative_incidence_title"])
    fig.tight_layout()
    _stamp(fig, synthetic, lang)
    return fig
