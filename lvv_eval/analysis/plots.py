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


def plot_effects(effects: pd.DataFrame, lang: str = "nl", synthetic: bool = False) -> Figure:
    """Forest plot of hazard ratios with CIs (e.g. ``ShelterEffect.table`` of several causes).

    An unbounded bootstrap limit (0 or infinite) is drawn to the edge of the plot, marked ``>``.
    """
    apply_theme()
    lab = labels(lang)
    rows = effects.reset_index(drop=True).copy()
    finite = pd.concat([rows["hr"], rows["hr_lower"], rows["hr_upper"]])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    edge = (float(finite.min()) / 4, float(finite.max()) * 4)
    open_low, open_high = ~(rows["hr_lower"] > 0), ~np.isfinite(rows["hr_upper"])
    rows["hr_lower"] = rows["hr_lower"].where(~open_low, edge[0])
    rows["hr_upper"] = rows["hr_upper"].where(~open_high, edge[1])
    names = [
        f"{_class_label(r['cause'], lang)} - {lab.get(str(r['estimate']), r['estimate'])}"
        for _, r in rows.iterrows()
    ]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.errorbar(rows["hr"], y, xerr=[rows["hr"] - rows["hr_lower"], rows["hr_upper"] - rows["hr"]],
                fmt="o", color="black", capsize=3)
    for flag, x, mark in ((open_low, edge[0], "<"), (open_high, edge[1], ">")):
        ax.plot(np.full(int(flag.sum()), x), y[flag.to_numpy()], marker=mark, linestyle="",
                color="black")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FormatStrFormatter("%.2g"))
    wide = edge[1] / edge[0] > 100  # minor tick labels would overlap over several decades
    ax.xaxis.set_minor_formatter(NullFormatter() if wide else FormatStrFormatter("%.2g"))
    ax.set_yticks(y, names)
    ax.set_xlabel(lab["hazard_ratio"])
    ax.set_title(lab["effects_title"])
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
