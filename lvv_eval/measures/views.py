"""Readable views of the published-figure and monitor tables, and their figures, in Dutch or English.

Every function takes a table *as the disclosure gate shows it* (``checked.shown()``: a cell not
shown holds the marker) and only selects, orders and labels: no number is computed here that the
gated table does not hold. Column labels and coded values come from ``labels.yaml`` beside this
module; definitions, reasons, waterfall lines and indicator names from the definitions YAML.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import yaml
from matplotlib.figure import Figure

from lvv_eval import config
from lvv_eval.measures.definitions import Definitions, label
from lvv_eval.measures.reproduce import AGREES, STATUSES, parse_published_value

LABELS_YAML = Path(__file__).with_name("labels.yaml")
LANGUAGES: tuple[str, ...] = ("nl", "en")
FIGURE_COLUMNS: tuple[str, ...] = ("figure_id", "pilot", "reference_date", "role", "published",
                                   "computed_rounded", "difference", "status")
REASON_COLUMNS: tuple[str, ...] = ("figure_id", "status", "definition", "reason")
WATERFALL_VIEW_COLUMNS: tuple[str, ...] = ("label", "change", "remaining", "detail")
# waterfall lines that are not counts of rows, stays or persons
NOT_COUNTS: tuple[str, ...] = ("computed", "published", "difference")
# decimals shown for a monitor indicator's value by its measure (counts are whole numbers)
MEASURE_DECIMALS: dict[str, int] = {"percent_of_capacity": 1, "share": 1, "rate": 3, "mean": 1}


@cache
def _labels_file() -> dict[str, Any]:
    return yaml.safe_load(LABELS_YAML.read_text(encoding="utf-8"))


def view_labels(lang: str = "nl") -> dict[str, dict[str, str]]:
    """``columns``, ``values`` and ``figure`` words in ``lang`` (nl or en)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: choose one of {', '.join(LANGUAGES)}")
    return _labels_file()[lang]


def _values(series: pd.Series, lang: str) -> pd.Series:
    words = view_labels(lang)["values"]
    return series.astype("object").map(lambda v: words.get(str(v), v))


def _numeric(series: pd.Series) -> pd.Series:
    """Numbers where the cell holds one, the cell itself (the marker, yes/no) otherwise."""
    as_number = pd.to_numeric(series, errors="coerce")
    return series.astype("object").where(as_number.isna(), as_number)


def labelled(table: pd.DataFrame, lang: str = "nl") -> pd.DataFrame:
    """``table`` with its column names as headings in ``lang`` (names without a label kept)."""
    names = view_labels(lang)["columns"]
    return table.rename(columns={c: names.get(str(c), c) for c in table.columns})


def published_words(defs: Definitions, text: str, lang: str = "nl") -> str:
    """A published value in ``lang``: "about 40" as "ongeveer 40" (the qualifier's ``label_nl``
    in the definitions file, its last alternative), "yes" as "ja"; numbers as they are."""
    value = parse_published_value(defs, str(text))
    if lang == "en":
        return value.text
    if value.boolean is not None:
        return "ja" if value.boolean else "nee"
    if value.qualifier is not None and value.number is not None:
        said = defs.comparison["approximate_qualifiers"][value.qualifier].get("label_nl")
        if said:
            return f"{str(said).split('/')[-1].strip()} {value.number:g}"
    return value.text


def reproduce_figures(shown: pd.DataFrame, lang: str = "nl",
                      defs: Definitions | None = None) -> pd.DataFrame:
    """One row per published figure: published (in words of ``lang`` with ``defs``), computed
    (rounded to the figure's unit), difference and outcome, with roles and outcomes in ``lang``."""
    table = shown.reindex(columns=list(FIGURE_COLUMNS)).copy()
    if defs is not None:
        table["published"] = table["published"].map(lambda t: published_words(defs, t, lang))
    table["computed_rounded"] = table["computed_rounded"].map(_yes_no(lang))
    for col in ("published", "computed_rounded", "difference"):
        table[col] = _numeric(table[col])
    table["pilot"] = _values(table["pilot"], lang)
    table["role"] = _values(table["role"], lang)
    table["status"] = _values(table["status"], lang)
    table["reference_date"] = table["reference_date"].fillna("")
    return table.reset_index(drop=True)


def _yes_no(lang: str) -> Any:
    yes, no = ("ja", "nee") if lang == "nl" else ("yes", "no")
    return lambda v: (yes if v else no) if isinstance(v, bool) else v


def reproduce_reasons(shown: pd.DataFrame, lang: str = "nl", only_gaps: bool = False) -> pd.DataFrame:
    """Each figure's definition in words and, where it does not agree with its publication, why
    (in ``lang``); ``only_gaps`` keeps only the figures that do not agree."""
    table = pd.DataFrame({
        "figure_id": shown["figure_id"],
        "status": shown["status"].astype("str"),
        "definition": shown[f"definition_{lang}"].fillna(""),
        "reason": shown[f"reason_{lang}"].fillna(""),
    }, columns=list(REASON_COLUMNS))
    if only_gaps:
        table = table[~table["status"].isin(AGREES)]
    table["status"] = _values(table["status"], lang)
    return table.reset_index(drop=True)


def status_counts(shown: pd.DataFrame, lang: str = "nl") -> pd.DataFrame:
    """Number of figures per kind of figure (hard, soft, context) and outcome, zeros kept; a
    count of figures, not of people."""
    counts = pd.crosstab(shown["role"].astype("str"), shown["status"].astype("str"))
    counts = counts.reindex(columns=[s for s in STATUSES if s in counts.columns or s in AGREES],
                            fill_value=0)
    counts.index = _values(counts.index.to_series(), lang).to_numpy()
    counts.columns = _values(counts.columns.to_series(), lang).to_numpy()
    counts.index.name = view_labels(lang)["columns"]["role"]
    return counts.reset_index()


def waterfall_view(shown: pd.DataFrame, lang: str = "nl", defs: Definitions | None = None,
                   figure_id: str = "") -> pd.DataFrame:
    """The reconciliation waterfall's lines in ``lang``: what each removes and what remains; with
    ``defs`` and ``figure_id`` the details (population, base, recoded solutions) in ``lang`` too."""
    table = pd.DataFrame({
        "label": shown[f"label_{lang}"],
        "change": _numeric(shown["change"]),
        "remaining": _numeric(shown["remaining"]),
        "detail": [_detail(step, str(d), lang, defs, figure_id)
                   for step, d in zip(shown["step"], shown["detail"].fillna(""), strict=True)],
    }, columns=list(WATERFALL_VIEW_COLUMNS))
    table["change"] = table["change"].map(lambda v: "" if isinstance(v, float) and v == 0 else v)
    return table.reset_index(drop=True)


_RECODED = re.compile(r"^(\S+) in the base, of which (\S+) now outside the figure and (\S+) inside$")
_MISMATCH = re.compile(r"^MISMATCH: the stays table holds (\S+)$")


def _detail(step: str, detail: str, lang: str, defs: Definitions | None, figure_id: str) -> str:
    """A waterfall line's detail (written in English by the reconciliation) in ``lang``."""
    if lang == "en" or not detail:
        return detail
    words = view_labels(lang)["waterfall_detail"]
    spec = defs.indicators.get(figure_id, {}) if defs is not None else {}
    if spec and step.startswith("population:") and spec.get("population") in defs.populations:
        return label(defs.populations[spec["population"]], lang)
    if spec and step.startswith("base:") and spec.get("base") in defs.bases:
        return label(defs.bases[spec["base"]], lang)
    recoded, mismatch = _RECODED.match(detail), _MISMATCH.match(detail)
    if recoded:
        return words["temporary_recoded"].format(n=recoded[1], outside=recoded[2], inside=recoded[3])
    if mismatch:
        return words["mismatch"].format(n=mismatch[1])
    return words.get(detail, detail)


def plot_waterfall(shown: pd.DataFrame, lang: str = "nl", synthetic: bool = False,
                   figure_id: str = "", pilot: str = "", marker: str = "x") -> Figure:
    """The waterfall's count lines as floating bars: a bar from zero for the totals (raw rows,
    stays, the figure's base), a bar from what was there to what remains for each line that
    removes something. A line whose numbers the gate did not show draws only the ``marker``. Read
    the values on the x axis."""
    words = view_labels(lang)["figure"]
    lines = shown[~shown["step"].isin(NOT_COUNTS)].reset_index(drop=True)
    remaining = pd.to_numeric(lines["remaining"], errors="coerce")
    change = pd.to_numeric(lines["change"], errors="coerce")
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(lines) + 1.6))
    for i in range(len(lines)):
        y, now = len(lines) - 1 - i, remaining.iloc[i]
        if pd.isna(now):  # not shown by the gate: the marker, nothing drawn
            ax.text(0, y, f" {marker}", va="center", fontsize=8, color="grey")
            continue
        before = remaining.iloc[i - 1] if i else None
        if change.iloc[i] == 0 or i == 0 or before is None or pd.isna(before):
            start, colour = (0.0, "#4c72b0") if change.iloc[i] == 0 or i == 0 else (now, "#dd8452")
        else:
            start, colour = before, "#dd8452"
        ax.plot([start, now], [y, y], color=colour, linewidth=11, solid_capstyle="butt")
    ax.set_yticks(range(len(lines)))
    ax.set_yticklabels([textwrap.fill(str(t), 60) for t in lines[f"label_{lang}"][::-1]], fontsize=8)
    ax.set_xlabel(words["waterfall_axis"])
    ax.set_xlim(left=0)
    ax.grid(axis="y", visible=False)
    ax.set_title(words["waterfall_title"].format(figure_id=figure_id, pilot=pilot), fontsize=10)
    _stamp(fig, synthetic, words)
    fig.tight_layout()
    return fig


def _stamp(fig: Figure, synthetic: bool, words: Mapping[str, str]) -> None:
    if synthetic:
        fig.text(0.99, 0.005, words["synthetic"], ha="right", va="bottom", color="red",
                 fontsize=8, fontweight="bold")


def _decimal_text(value: Any, decimals: int, lang: str) -> Any:
    """A number that is not whole as text with ``decimals`` (decimal comma in Dutch); whole
    numbers, missing values and markers as they are."""
    if not isinstance(value, int | float) or isinstance(value, bool) or pd.isna(value) \
            or float(value) == int(value):
        return value
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".") if lang == "nl" else text


def monitor_view(shown: pd.DataFrame, defs: Definitions, lang: str = "nl",
                 pilots: Sequence[str] | None = None) -> pd.DataFrame:
    """The monitor's snapshots (at the rounds, when the table of
    :func:`~lvv_eval.measures.monitor.monitor_over_time` marks them) as pilot and indicator
    (labelled in ``lang``) by date: one column per date, values as the gate shows them
    (percentages with one decimal, rates with three)."""
    table = shown.copy()
    if "at_round" in table.columns:
        table = table[table["at_round"].astype(bool)]
    table["pilot"] = table["pilot"].astype("str")
    if pilots:
        table = table[table["pilot"].isin([*pilots, "all"])]
    names = table["indicator"].astype("str")
    table["_order"] = names.map({name: i for i, name in enumerate(defs.monitor)})
    decimals = names.map(lambda n: MEASURE_DECIMALS.get(defs.monitor.get(n, {}).get("measure"), 2))
    table["indicator"] = names.map(lambda n: label(defs.monitor[n], lang) if n in defs.monitor else n)
    table["date"] = pd.to_datetime(table["date"]).dt.date.astype("str")
    table["value"] = [_decimal_text(v, d, lang) for v, d in zip(_numeric(table["value"]), decimals,
                                                                  strict=True)]
    table["_pilot"] = table["pilot"].map({p: i for i, p in enumerate([*config.PILOTS, "all"])})
    wide = table.pivot(index=["_pilot", "pilot", "_order", "indicator"], columns="date",
                       values="value")
    wide = wide.sort_index().reset_index().drop(columns=["_pilot", "_order"])
    wide["pilot"] = _values(wide["pilot"], lang)
    wide.columns.name = None
    return wide


def plot_occupancy(shown: pd.DataFrame, lang: str = "nl", synthetic: bool = False,
                   palette: Mapping[str, Any] | None = None,
                   rounds: pd.DataFrame | None = None) -> Figure:
    """Present within the covenant per pilot over time (solid) against its agreed places
    (dashed, same colour), from the gated table of
    :func:`lvv_eval.measures.monitor.monitor_over_time`; ``rounds`` (from
    :func:`~lvv_eval.measures.monitor.monitor_rounds`) marks the monitor rounds, solid where the
    date was published and dotted where it is the toolkit's choice."""
    words = view_labels(lang)["figure"]
    palette = dict(palette or {})
    data = shown.copy()
    data["pilot"] = data["pilot"].astype("str")
    data["date"] = pd.to_datetime(data["date"])
    data["value"] = pd.to_numeric(data["value"], errors="coerce")
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for pilot in [p for p in config.PILOTS if p in set(data["pilot"])]:
        part = data[data["pilot"] == pilot].sort_values("date")
        colour = palette.get(pilot)
        present = part[part["indicator"].astype("str") == "present"]
        places = part[part["indicator"].astype("str") == "capacity"]
        line, = ax.plot(present["date"], present["value"], label=pilot, color=colour, linewidth=1.8,
                        marker="o", markersize=2.5)
        ax.plot(places["date"], places["value"], color=line.get_color(), linestyle="--",
                linewidth=1.0, label="_nolegend_")
    if rounds is not None:
        for _, r in rounds.iterrows():
            ax.axvline(r["date"], color="grey", linewidth=0.8,
                       linestyle="-" if r["published"] else ":")
    ax.plot([], [], color="grey", linestyle="--", linewidth=1.0, label=words["occupancy_places"])
    ax.plot([], [], color="grey", linestyle=":", linewidth=0.8, label=words["occupancy_round"])
    ax.set_xlabel(words["date"])
    ax.set_ylabel(words["occupancy_axis"])
    ax.set_ylim(bottom=0)
    ax.grid(axis="x", visible=False)
    ax.set_title(words["occupancy_title"], fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    _stamp(fig, synthetic, words)
    fig.tight_layout()
    return fig


def rounds_view(rounds: pd.DataFrame) -> pd.DataFrame:
    """The table of :func:`~lvv_eval.measures.monitor.monitor_rounds` with its headings and
    yes/no in its language."""
    words = rounds.attrs["labels"]
    out = rounds.copy()
    out["date"] = pd.to_datetime(out["date"]).dt.date.astype("str")
    out["published"] = out["published"].map({True: words["yes"], False: words["no"]})
    return out.rename(columns={c: words[c] for c in out.columns if c in words})


def for_pilots(shown: pd.DataFrame, pilots: Sequence[str] = ()) -> pd.DataFrame:
    """The rows of ``pilots`` (every row when empty)."""
    if not pilots:
        return shown
    return shown[shown["pilot"].astype("str").isin(list(pilots))].reset_index(drop=True)
