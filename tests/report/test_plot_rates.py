"""Every interval the rates figure draws is the interval of its own bar's row in the table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from lvv_eval.analysis import rates_per_100_person_years, time_to_event
from lvv_eval.analysis.plots import labels, plot_rates


def drawn_bars(fig):
    """(pilot, class label, height, lower, upper) of every bar as the figure shows it: the pilot
    from the nearest x tick, the class from the legend colour, the interval from the vertical
    line drawn at the bar's centre."""
    ax = fig.axes[0]
    ticks = {round(float(t), 6): lab.get_text() for t, lab in zip(ax.get_xticks(), ax.get_xticklabels(),
                                                                  strict=True)}
    legend = ax.get_legend()
    colour_of = {to_rgba(h.get_facecolor()): t.get_text()
                 for h, t in zip(legend.legend_handles, legend.get_texts(), strict=True)}
    lines = [ln for ln in ax.lines if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1]]
    out = []
    for bar in ax.patches:
        if bar.get_width() == 0 or not np.isfinite(bar.get_height()):
            continue
        centre = bar.get_x() + bar.get_width() / 2
        pilot = ticks[min(ticks, key=lambda t: abs(t - centre))]
        klass = colour_of[to_rgba(bar.get_facecolor())]
        at = [ln for ln in lines if np.isclose(ln.get_xdata()[0], centre)]
        interval = tuple(sorted(at[0].get_ydata())) if len(at) == 1 else (np.nan, np.nan)
        out.append((pilot, klass, bar.get_height(), *interval, len(at)))
    return pd.DataFrame(out, columns=["pilot", "klass", "height", "lower", "upper", "n_lines"])


def check_every_interval(rates: pd.DataFrame, lang: str) -> int:
    fig = plot_rates(rates, lang=lang)
    try:
        drawn = drawn_bars(fig)
    finally:
        plt.close(fig)
    names = labels(lang)["classes"]
    table = rates.assign(klass=rates["cause"].astype(str).map(lambda c: names.get(c, c)))
    table = table[np.isfinite(table["rate_per_100py"].astype(float))]
    assert len(drawn) == len(table), "one bar per table row with a rate"
    merged = drawn.merge(table, on=["pilot", "klass"], how="left", validate="one_to_one",
                         suffixes=("_x", "_y"))
    assert merged["rate_per_100py"].notna().all()
    np.testing.assert_allclose(merged["height"], merged["rate_per_100py"].astype(float))
    finite = np.isfinite(merged["lower_y"].astype(float)) & np.isfinite(merged["upper_y"].astype(float))
    assert (merged.loc[finite, "n_lines"] == 1).all(), "every bar with an interval has exactly one"
    np.testing.assert_allclose(merged.loc[finite, "lower_x"], merged.loc[finite, "lower_y"].astype(float))
    np.testing.assert_allclose(merged.loc[finite, "upper_x"], merged.loc[finite, "upper_y"].astype(float))
    return int(finite.sum())


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_drawn_interval_is_its_rows_interval(truth_stays, lang):
    tte = time_to_event(truth_stays, "ee2022")
    rates = rates_per_100_person_years(tte, by="pilot")
    assert check_every_interval(rates, lang) == len(rates)


def test_intervals_follow_their_bars_when_rates_tie_or_are_hidden(truth_stays):
    """Equal heights (a tie) and hidden cells (NaN, as the disclosure gate leaves them) made the
    old matching by height draw another row's interval or none at all."""
    tte = time_to_event(truth_stays, "ee2022")
    rates = rates_per_100_person_years(tte, by="pilot")
    rates = rates.sample(frac=1.0, random_state=3).reset_index(drop=True)  # any row order
    rates.loc[1, ["rate_per_100py", "lower", "upper"]] = (
        rates.loc[0, "rate_per_100py"], rates.loc[0, "lower"] - 1, rates.loc[0, "upper"] + 1)
    rates.loc[2, ["events", "rate_per_100py", "lower", "upper"]] = np.nan
    assert check_every_interval(rates, "nl") == len(rates) - 1
