"""House style of every figure: one seaborn theme and fixed colours, set here and nowhere else.

Every figure of the report uses :func:`apply_theme` (called by :mod:`lvv_eval.analysis.plots`
and by :func:`lvv_eval.report.present.Report.start`). A pilot keeps its colour in every figure
(:data:`PILOT_COLOURS`, :func:`pilot_palette`); outcome classes and other groups take colours
from one qualitative palette in their declared order (:func:`class_palette`)::

    from lvv_eval.report.style import apply_theme, pilot_palette
    apply_theme()
    sns.lineplot(data=stock, x="date", y="stock", hue="pilot", palette=pilot_palette())
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import seaborn as sns

from lvv_eval.config import PILOTS

THEME = {"style": "whitegrid", "context": "notebook", "font_scale": 0.9}
QUALITATIVE = "colorblind"
"""seaborn palette of the outcome classes and other groups (colour-blind safe)."""

PILOT_COLOURS: dict[str, str] = {
    "Amsterdam": "#c0392b",
    "Eindhoven": "#2874a6",
    "Groningen": "#239b56",
    "Rotterdam": "#b7950b",
    "Utrecht": "#7d3c98",
    "all": "#4d4d4d",
}
"""Fixed colour per pilot (and ``all``) across every figure."""

OTHER_COLOUR = "#7f7f7f"
SYNTHETIC_COLOUR = "red"
FIGURE_DPI = 120

_applied = False


def apply_theme(force: bool = False) -> None:
    """Set the house seaborn theme (once per process unless ``force``)."""
    global _applied
    if _applied and not force:
        return
    sns.set_theme(style=THEME["style"], context=THEME["context"], font_scale=THEME["font_scale"],
                  palette=QUALITATIVE, rc={"figure.dpi": FIGURE_DPI, "savefig.dpi": FIGURE_DPI,
                                           "axes.titleweight": "bold"})
    _applied = True


def pilot_colour(pilot: str) -> str:
    """The fixed colour of one pilot (grey for a name outside :data:`PILOTS`)."""
    return PILOT_COLOURS.get(str(pilot), OTHER_COLOUR)


def pilot_palette(pilots: Iterable[str] | None = None) -> dict[str, str]:
    """``{pilot: colour}`` for seaborn's ``palette=`` (default: the five pilots and ``all``)."""
    names = list(pilots) if pilots is not None else [*PILOTS, "all"]
    return {str(p): pilot_colour(p) for p in names}


def class_palette(classes: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """``{class: colour}``: the qualitative palette in the classes' declared order."""
    colours = sns.color_palette(QUALITATIVE, n_colors=max(len(classes), 1))
    return {str(c): colours[i] for i, c in enumerate(classes)}
