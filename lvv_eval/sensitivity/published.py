"""The published disagreement explained: where the published figures fall on the curve.

For each published line of the grid (a figure id of ``published_figures.csv``, or the sum of
several), :func:`place_published` says whether any specification reaches it (its estimate,
rounded half up to the published decimals, equals the figure), which reaching specification
changes the fewest axes from the base, and, when none reaches it, the closest specification and
the axis that would have to move further than the grid's options go.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.measures.reproduce import load_published, round_half_up
from lvv_eval.sensitivity.grid import Grid, GridError, PublishedLine
from lvv_eval.sensitivity.run import GridResults

PUBLISHED_DECIMALS = 0
"""The published shares are whole percents (definitions.yaml `comparison.decimals`)."""

PLACEMENT_COLUMNS: tuple[str, ...] = (
    "name", "label_en", "label_nl", "figures", "published", "outcome", "pilot",
    "n_specifications", "n_reaching", "reached", "lowest", "highest", "spec_id", "estimate",
    "changes", "move_axis", "move_option", "move_estimate", "explanation_en", "explanation_nl",
)


def published_value(line: PublishedLine, published: pd.DataFrame, grid: Grid) -> float:
    """The figure of a published line: the sum of its figures' values in the published table."""
    values = []
    for fid in line.figures:
        row = published[published["figure_id"] == fid]
        if row.empty:
            raise GridError(f"{grid.path}: published figure {fid!r} is not in the published "
                            f"figures table")
        try:
            values.append(float(row.iloc[0]["value"]))
        except ValueError as exc:
            raise GridError(f"{grid.path}: published figure {fid!r} has no numeric value "
                            f"({row.iloc[0]['value']!r})") from exc
    return float(sum(values))


def _changes(choices: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    return {a: o for a, o in choices.items() if o != base[a]}


def _changes_text(changes: Mapping[str, str], words: Mapping[str, str]) -> str:
    if not changes:
        return words["no_changes"]
    return ", ".join(f"{a} = {o}" for a, o in changes.items())


def _axis_that_carries(rows: pd.DataFrame, axes: tuple[str, ...], start: pd.Series,
                       target: float) -> tuple[str, str, float] | None:
    """For a specification that does not reach ``target``: the axis whose chosen option moves
    its estimate furthest towards the target, compared with that axis's other options (the
    others held fixed). Returns (axis, its chosen option, the estimate under the option furthest
    from the target), or None when no axis moves it at all."""
    direction = np.sign(target - float(start["estimate"]))
    key = [str(start[a]) for a in axes]
    index = {tuple(r): e for r, e in zip(rows[list(axes)].astype(str).itertuples(index=False),
                                        rows["estimate"], strict=True)}
    best, best_push = None, 0.0
    for i, axis in enumerate(axes):
        for option in rows[axis].astype(str).unique():
            value = index.get(tuple(key[:i] + [option] + key[i + 1:]))
            if value is None or not np.isfinite(value):
                continue
            push = direction * (float(start["estimate"]) - value)
            if push > best_push + 1e-9:
                best, best_push = (axis, key[i], float(value)), push
    return best


def _place_one(name: str, line: PublishedLine, value: float, results: GridResults,
               lang_words: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    axes = results.axes
    base = results.grid.base_choices()
    rows = results.outcome(line.outcome, line.pilot).dropna(subset=["estimate"])
    rounded = rows["estimate"].map(lambda v: round_half_up(float(v), PUBLISHED_DECIMALS))
    reaching = rows[rounded == value]
    n_changes = rows[list(axes)].astype(str).ne(pd.Series(base)).sum(axis=1)
    gap = (rows["estimate"] - value).abs()
    out: dict[str, Any] = {
        "name": name, "label_en": line.label_en, "label_nl": line.label_nl,
        "figures": " + ".join(line.figures), "published": value, "outcome": line.outcome,
        "pilot": line.pilot, "n_specifications": len(rows), "n_reaching": len(reaching),
        "reached": len(reaching) > 0, "lowest": float(rows["estimate"].min()),
        "highest": float(rows["estimate"].max()),
        "move_axis": "", "move_option": "", "move_estimate": np.nan,
    }
    if len(reaching):
        order = pd.DataFrame({"c": n_changes[reaching.index], "g": gap[reaching.index]})
        chosen = rows.loc[order.sort_values(["c", "g"], kind="stable").index[0]]
    else:
        chosen = rows.loc[gap.idxmin()]
        move = _axis_that_carries(rows, axes, chosen, value)
        if move is not None:
            out.update(move_axis=move[0], move_option=move[1], move_estimate=move[2])
    changes = _changes({a: str(chosen[a]) for a in axes}, base)
    out.update(spec_id=chosen["spec_id"], estimate=float(chosen["estimate"]))
    for lang, words in lang_words.items():
        out[f"changes_{lang}"] = _changes_text(changes, words)
        out[f"explanation_{lang}"] = _explain(out, words, lang)
    out["changes"] = out.pop("changes_en")
    out.pop("changes_nl", None)
    return out


def _explain(row: Mapping[str, Any], words: Mapping[str, str], lang: str) -> str:
    fields = dict(row) | {"label": row[f"label_{lang}"], "changes": row[f"changes_{lang}"]}
    if row["reached"]:
        return words["reached"].format(**fields)
    template = words["not_reached_move"] if row["move_axis"] else words["not_reached_edge"]
    return words["not_reached"].format(**fields) + " " + template.format(**fields)


def place_published(results: GridResults, published: pd.DataFrame | Path | None = None) -> pd.DataFrame:
    """Where the grid's published lines fall on their curves (one row per line; the values are
    read from ``published_figures.csv`` unless another table or file is given)."""
    if not isinstance(published, pd.DataFrame):
        published = load_published(published)
    words = {lang: w.model_dump() for lang, w in results.grid.spec.words.items()}
    rows = [_place_one(name, line, published_value(line, published, results.grid), results, words)
            for name, line in results.grid.spec.published.items()]
    return pd.DataFrame(rows).reindex(columns=list(PLACEMENT_COLUMNS))


def describe_placement(placement: pd.DataFrame, lang: str = "en") -> str:
    """The placement as sentences, one per published line."""
    return "\n".join(f"- {text}" for text in placement[f"explanation_{lang}"])
