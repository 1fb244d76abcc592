"""Published versus computed: every figure of published_figures.csv recomputed from stays.

Each figure is computed from its indicator in the definitions file, compared with the published
value under the figure's unit (counts to the unit, percentages to whole percents, soft figures
in words as approximate targets), and given a status: match, deviation or not computable, with
the definition in words in English and Dutch. Computed under a *variant* of the definitions (a
copy of ``definitions.yaml`` edited by a researcher), a figure that differs from the published
one is not a failure to reproduce it but the variant's effect: its status is "differs under
variant", and the table names the variant, its file and the file's sha256.

Some published figures are inputs of the toolkit rather than results (the agreed places, read
from the capacity file): their kind is ``input``, their data source the capacity file with its
provenance, and when the input agrees with the publication their status is ``input``, never
``match`` (nothing was reproduced).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval import config
from lvv_eval.capacity import capacity_provenance, load_capacity_file
from lvv_eval.files import sha256_of
from lvv_eval.measures.definitions import (
    INPUT_MEASURES,
    USES_CAPACITY,
    Definitions,
    load_definitions,
)
from lvv_eval.measures.indicators import (
    IndicatorResult,
    compute_figure,
    describe_indicator,
)

VARIANT_STATUS = "differs under variant"
# "input": an input of the toolkit (agreed places) equal to the published value, not computed
STATUSES: tuple[str, ...] = ("match", "input", "deviation", VARIANT_STATUS, "not computable")
AGREES: tuple[str, ...] = ("match", "input")  # statuses of a figure that agrees with its source
KINDS: tuple[str, ...] = ("computed", "input")
DEFAULT_DEFINITIONS = "default"
ROLES: tuple[str, ...] = ("hard", "soft", "context")
TABLE_COLUMNS: tuple[str, ...] = (
    "figure_id", "publication", "pilot", "reference_date", "indicator", "role", "unit", "kind",
    "published", "published_value", "computed_value", "computed_rounded", "difference",
    "status", "detail", "reason_en", "reason_nl", "definition_en", "definition_nl",
    "data_source", "definitions", "definitions_file", "definitions_sha256",
)


@dataclass(frozen=True)
class DefinitionsVariant:
    """A named variant of the definitions: the file it was read from and that file's sha256."""

    name: str
    path: Path
    sha256: str

    @classmethod
    def of(cls, path: Path, name: str | None = None) -> DefinitionsVariant:
        """The variant read from ``path`` (named after the file unless ``name`` is given)."""
        return cls(name or path.stem, path, sha256_of(path))


@dataclass(frozen=True)
class PublishedValue:
    """A published value: a number, a yes/no, or an approximate number in words."""

    text: str
    number: float | None = None
    boolean: bool | None = None
    qualifier: str | None = None  # e.g. "about", "a little over"


def load_published(path: Path | None = None) -> pd.DataFrame:
    """The published figures table (all values kept as text)."""
    table = pd.read_csv(path or config.PUBLISHED_FIGURES_CSV, dtype=str, keep_default_na=False)
    table["publication_key"] = table["figure_id"].map(publication_key)
    return table


def publication_key(figure_id: str) -> str:
    """The publication a figure belongs to: the figure id up to its first dot (e.g. kb2020)."""
    return figure_id.split(".", 1)[0]


def parse_published_value(defs: Definitions, text: str) -> PublishedValue:
    """Read a published value: ``1142``, ``yes``, ``about 20``, ``a little over 10``."""
    text = text.strip()
    booleans = defs.comparison.get("booleans", {})
    if text.lower() in booleans:
        return PublishedValue(text, boolean=bool(booleans[text.lower()]))
    try:
        return PublishedValue(text, number=float(text))
    except ValueError:
        pass
    for qualifier in sorted(defs.comparison.get("approximate_qualifiers", {}), key=len, reverse=True):
        match = re.fullmatch(rf"{re.escape(qualifier)}\s+(-?\d+(?:\.\d+)?)", text, re.IGNORECASE)
        if match:
            return PublishedValue(text, number=float(match.group(1)), qualifier=qualifier)
    return PublishedValue(text)


def round_half_up(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals`` with halves away from zero (17.5 -> 18)."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def unit_decimals(defs: Definitions, unit: str) -> int:
    """Decimals kept when comparing values in ``unit`` (0 when the unit is not listed)."""
    return int(defs.comparison.get("decimals", {}).get(unit, 0))


@dataclass(frozen=True)
class Comparison:
    """Outcome of comparing one computed value with its published value."""

    computed_rounded: float | bool | None
    difference: float | None
    status: str
    detail: str = ""


def compare(
    defs: Definitions, published: PublishedValue, unit: str, result: IndicatorResult
) -> Comparison:
    """Status of a computed result against the published value, under the unit's rounding."""
    if not result.computable:
        return Comparison(None, None, "not computable", result.reason)
    if published.boolean is not None:
        same = bool(result.value) == published.boolean
        return Comparison(bool(result.value), None, "match" if same else "deviation", result.reason)
    if published.number is None:
        return Comparison(None, None, "not computable",
                          f"published value {published.text!r} is not a number")
    rounded = round_half_up(float(result.value), unit_decimals(defs, unit))
    difference = rounded - published.number
    if published.qualifier is None:
        status = "match" if difference == 0 else "deviation"
        return Comparison(rounded, difference, status, result.reason)
    band = defs.comparison["approximate_qualifiers"][published.qualifier]
    low = published.number * (1 + float(band["low"]))
    high = published.number * (1 + float(band["high"]))
    value = float(result.value)
    inside = (low < value if band.get("exclusive_low") else low <= value) and value <= high
    detail = f"'{published.qualifier}' read as [{low:g}, {high:g}]"
    if result.reason:
        detail = f"{detail}; {result.reason}"
    return Comparison(rounded, difference, "match" if inside else "deviation", detail)


def reproduce_figure(
    defs: Definitions, row: pd.Series, stays: pd.DataFrame, capacity: pd.DataFrame,
    stays_source: str = "stays table",
    variant: DefinitionsVariant | None = None,
) -> dict[str, Any]:
    """One row of the reproduce table for one published figure (``stays_source`` says where the
    stays come from, for the ``data_source`` column)."""
    fid = row["figure_id"]
    published = parse_published_value(defs, row["value"])
    out: dict[str, Any] = {
        "figure_id": fid, "publication": row["publication_key"], "pilot": row["pilot"],
        "reference_date": row["reference_date"], "indicator": row["indicator"],
        "role": row["role"], "unit": row["unit"], "published": row["value"],
        "published_value": published.number if published.boolean is None else published.boolean,
    }
    spec = defs.indicators.get(fid)
    if spec is None:
        return out | {"status": "not computable",
                      "detail": f"no indicator for {fid} in {defs.path.name}"}
    result = compute_figure(defs, fid, stays, capacity)
    kind = "input" if spec["measure"] in INPUT_MEASURES else "computed"
    comparison = compare(defs, published, row["unit"], result)
    if kind == "input":
        comparison = as_input(comparison, capacity, spec.get("pilot", "all"))
    status = comparison.status
    if variant is not None and status == "deviation":
        status = VARIANT_STATUS
    reasons = {f"reason_{lang}": gap_reason(defs, spec, fid, row["role"], status, lang, variant)
               for lang in ("en", "nl")}
    return out | reasons | {
        "kind": kind,
        "data_source": data_source(spec, kind, capacity, stays_source),
        "computed_value": result.value,
        "computed_rounded": comparison.computed_rounded,
        "difference": comparison.difference,
        "status": status,
        "detail": comparison.detail,
        "definition_en": describe_indicator(defs, spec, "en"),
        "definition_nl": describe_indicator(defs, spec, "nl"),
    }


def as_input(comparison: Comparison, capacity: pd.DataFrame, pilot: str) -> Comparison:
    """The comparison of an input figure: ``input`` where it agrees with the publication."""
    where = capacity_provenance(capacity, pilot)
    if comparison.status != "match":
        said = f"agreed places from {where}"
        return Comparison(comparison.computed_rounded, comparison.difference, comparison.status,
                          f"{said}; {comparison.detail}" if comparison.detail else said)
    return Comparison(comparison.computed_rounded, comparison.difference, "input",
                      f"not computed from stays: agreed places from {where}")


def data_source(spec: Mapping[str, Any], kind: str, capacity: pd.DataFrame,
                stays_source: str) -> str:
    """Where a figure's value comes from: the capacity file for inputs, the stays otherwise
    (with the capacity file for measures that compare with the agreed places)."""
    if kind == "input":
        return f"input: {capacity_provenance(capacity, spec.get('pilot', 'all'))}"
    if spec["measure"] in USES_CAPACITY:
        return f"{stays_source}; agreed places: {capacity.attrs.get('path', 'capacity table')}"
    return stays_source


def gap_reason(defs: Definitions, spec: Mapping[str, Any], figure_id: str, role: str, status: str,
               lang: str, variant: DefinitionsVariant | None = None) -> str:
    """Why a figure does not match: computed under a variant, the figure's own
    ``gap_reason_<lang>``, or the role's general reason."""
    if status in AGREES:
        return ""
    if status == VARIANT_STATUS and variant is not None:
        return defs.words(lang)["gap_variant"].format(variant=variant.name)
    own = spec.get(f"gap_reason_{lang}")
    if own:
        return str(own)
    key = "gap_not_computable" if status == "not computable" else f"gap_{role}"
    return defs.words(lang)[key].format(figure_id=figure_id)


def reproduce_table(
    stays: pd.DataFrame,
    publication: str = "all",
    defs: Definitions | None = None,
    capacity: pd.DataFrame | None = None,
    published: pd.DataFrame | None = None,
    stays_source: str = "stays table",
    variant: DefinitionsVariant | None = None,
) -> pd.DataFrame:
    """Published versus computed for every figure of ``publication`` (a key such as kb2020, or
    all); ``stays_source`` names the stays in the ``data_source`` column, ``variant`` the
    definitions when they are not the package's own."""
    defs = defs or load_definitions()
    capacity = capacity if capacity is not None else load_capacity_file()
    published = published if published is not None else load_published()
    if publication != "all":
        known = sorted(set(published["publication_key"]))
        if publication not in known:
            raise ValueError(f"unknown publication {publication!r}; known: {', '.join(known)}")
        published = published[published["publication_key"] == publication]
    rows = [reproduce_figure(defs, row, stays, capacity, stays_source, variant)
            for _, row in published.iterrows()]
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["definitions"] = variant.name if variant is not None else DEFAULT_DEFINITIONS
    table["definitions_file"] = str(variant.path if variant is not None else defs.path)
    table["definitions_sha256"] = (variant.sha256 if variant is not None
                                   else sha256_of(Path(defs.path)))
    table["status"] = pd.Categorical(table["status"], categories=list(STATUSES))
    table.attrs["capacity_file"] = capacity.attrs.get("path", "")
    return table


def status_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Counts of figures per role and status (all statuses shown, zeros kept)."""
    counts = pd.crosstab(table["role"], table["status"], dropna=False)
    return counts.reindex(columns=list(STATUSES), fill_value=0)


def _show(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if value == int(value) else f"{value:.2f}"
    return str(value)


def format_table(table: pd.DataFrame, definitions: bool = False) -> str:
    """The reproduce table as plain text for a terminal (definitions in words optional)."""
    cols = ["figure_id", "pilot", "role", "published", "computed_value", "difference", "status"]
    if definitions:
        cols.append("definition_en")
    shown = table.loc[:, cols].copy()
    shown["computed_value"] = table["computed_value"].map(_show)
    shown["difference"] = table["difference"].map(_show)
    shown["status"] = table["status"].astype(str)
    text = shown.to_string(index=False)
    gaps = table[~table["status"].astype(str).isin(AGREES)]
    if len(gaps):
        text += "\n\nWhy the others differ:\n" + "\n".join(
            f"  {r.figure_id}: {r.reason_en}" for r in gaps.itertuples())
    inputs = table[table["kind"] == "input"]
    if len(inputs):
        where = table.attrs.get("capacity_file") or "; ".join(dict.fromkeys(inputs["data_source"]))
        text += (f"\n\nInputs, not computed from stays: {len(inputs)} figure(s) of agreed places, "
                 f"taken from {where} (status 'input' when equal to the publication)")
    summary = status_summary(table)
    variant = "definitions" in table and set(table["definitions"]) != {DEFAULT_DEFINITIONS}
    shown = [s for s in STATUSES if s != ("deviation" if variant else VARIANT_STATUS)]
    lines = [f"{role}: " + ", ".join(f"{summary.loc[role, s]} {s}" for s in shown)
             for role in ROLES if role in summary.index]
    return text + "\n\n" + "\n".join(lines)


def figure_bases(table: pd.DataFrame, defs: Definitions, stays: pd.DataFrame,
                 capacity: pd.DataFrame) -> dict[str, tuple[float | None, float | None]]:
    """Numerator and denominator behind each figure of the reproduce ``table`` that has an
    indicator (the disclosure gate checks them against its threshold where a computed value is
    shown beside its publication)."""
    out = {}
    for fid in table["figure_id"]:
        if fid in defs.indicators:
            result = compute_figure(defs, fid, stays, capacity)
            out[fid] = (result.numerator, result.denominator)
    return out


def indicator_measures(defs: Definitions) -> dict[str, str]:
    """The measure of every indicator (figure id -> count, share, ...), as the gate needs them."""
    return {fid: spec.get("measure", "") for fid, spec in defs.indicators.items()}


def variant_of(definitions: str | Path) -> DefinitionsVariant | None:
    """The definitions variant a report names (None for the package's own definitions: empty)."""
    return DefinitionsVariant.of(Path(definitions)) if str(definitions) else None


def for_pilots(table: pd.DataFrame, pilots: Sequence[str] = ()) -> pd.DataFrame:
    """The figures of ``pilots`` (every figure when empty)."""
    if not pilots:
        return table
    return table[table["pilot"].isin(list(pilots))].reset_index(drop=True)
