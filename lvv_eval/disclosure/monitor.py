"""The monitor's snapshots (``lvv-eval monitor``): indicators per pilot and date, one tidy table.

Every count indicator is a cell of one count table over dates, pilots (with their total, pilot
``all``) and indicators, tied by the identities between indicators and by the growth of counts
"since the start" between dates (both from the policy's ``monitor`` section). Secondary
suppression runs over all of it. Every other number in the table is one of those cells in
disguise (the numerator of the occupancy is the count present, the denominator of a count is the
count of its base) or follows from one (a percentage of agreed places, a rate): it is not shown
when its cell is not. Agreed places and the number of monitor rounds are not about people.
Indicators of an unknown kind are not shown and the table needs review.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from lvv_eval.disclosure.layout import Cumulative, Layout, Relation
from lvv_eval.disclosure.policy import DisclosurePolicy
from lvv_eval.disclosure.record import describe
from lvv_eval.disclosure.tables import CheckedTable, Roles, check_table, small_counts_in_text

NUMBERS: tuple[str, ...] = ("value", "numerator", "denominator")
KEYS: tuple[str, ...] = ("date", "pilot", "indicator")
STRUCTURAL_MEASURES: frozenset[str] = frozenset({"capacity", "monitor_rounds"})
# a column's source: the count indicators it equals or follows from; STRUCTURAL: not about
# people; OWN: its own count (no indicator holds it); UNKNOWN: not shown
STRUCTURAL, OWN, UNKNOWN = "structural", "own", "unknown"
Sources = tuple[str, ...] | str


def _count_like(specs: Mapping[str, Mapping[str, Any]], spec: Mapping[str, Any],
                keys: tuple[str, ...], condition: Any) -> str | None:
    for name, other in specs.items():
        if (other.get("measure") == "count" and other.get("condition") == condition
                and all(other.get(k) == spec.get(k) for k in keys)):
            return name
    return None


def indicator_sources(specs: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Sources]]:
    """For each monitor indicator, what its value, numerator and denominator rest on."""
    out: dict[str, dict[str, Sources]] = {}
    for name, spec in specs.items():
        measure = spec.get("measure")
        base = _count_like(specs, spec, ("population", "unit", "base"), None)
        hit = _count_like(specs, spec, ("population", "unit"), spec.get("condition"))
        base_src: Sources = (base,) if base else OWN
        if measure == "count":
            out[name] = {"value": (name,), "numerator": (name,), "denominator": base_src}
        elif measure == "percent_of_capacity":
            out[name] = {"value": base_src, "numerator": base_src, "denominator": STRUCTURAL}
        elif measure in ("rate", "share") and hit:
            both = (hit, base) if measure == "share" and base else (hit,)
            out[name] = {"value": both, "numerator": (hit,), "denominator": both}
        elif measure in STRUCTURAL_MEASURES:
            out[name] = dict.fromkeys(NUMBERS, STRUCTURAL)
        else:
            out[name] = dict.fromkeys(NUMBERS, UNKNOWN)
    return out


def monitor_layout(policy: DisclosurePolicy, all_pilots: str) -> Layout:
    """Dates, pilots (with their total) and indicators, with the policy's identities."""
    relations = tuple(Relation("indicator", i.total, tuple(i.parts))
                      for i in policy.monitor.identities)
    cumulative = (Cumulative("date", {"indicator": tuple(policy.monitor.cumulative)})
                  if policy.monitor.cumulative else None)
    return Layout(keys=KEYS, dims=("pilot",), totals={"pilot": all_pilots}, relations=relations,
                  cumulative=cumulative)


def _hidden_for(sources: Sources, column: str, row: pd.Series, cell_hidden: dict, policy) -> bool:
    if sources == STRUCTURAL:
        return False
    if sources == UNKNOWN:
        return True
    if sources == OWN:
        v = row[column]
        return bool(pd.notna(v) and v < policy.threshold and (v > 0 or policy.zeros.sampling == "suppress"))
    key = (row["date"], row["pilot"])
    return any(cell_hidden.get((*key, ind), True) for ind in sources)


def check_monitor(table: pd.DataFrame, specs: Mapping[str, Mapping[str, Any]],
                  policy: DisclosurePolicy, all_pilots: str = "all", name: str = "monitor",
                  synthetic: bool = False) -> CheckedTable:
    """Gate the monitor's snapshot table (columns of ``measures.monitor.MONITOR_COLUMNS``)."""
    data = table.reset_index(drop=True).copy()
    sources = indicator_sources(specs)
    ind = data["indicator"].astype(object)
    is_count = ind.map(lambda i: specs.get(i, {}).get("measure") == "count").to_numpy(bool)
    cells = data.loc[is_count, list(KEYS)].astype(object).assign(_count=data.loc[is_count, "value"])
    counted = check_table(cells.reset_index(drop=True), name, policy, Roles(counts=("_count",)),
                          monitor_layout(policy, all_pilots), kind="frequency", synthetic=synthetic)
    cell_hidden = dict(zip(map(tuple, cells[list(KEYS)].to_numpy()),
                           counted.hidden["_count"].to_numpy(), strict=True))
    hidden = pd.DataFrame(False, index=data.index, columns=data.columns)
    keyed = data.astype({"pilot": object, "indicator": object})
    for i, row in keyed.iterrows():
        src = sources.get(row["indicator"], dict.fromkeys(NUMBERS, UNKNOWN))
        for col in NUMBERS:
            hidden.at[i, col] = _hidden_for(src[col], col, row, cell_hidden, policy)
    hidden["note"] = data["note"].map(lambda t: small_counts_in_text(t, policy.threshold)).to_numpy(bool)
    return _monitor_result(name, data, hidden, counted, sources, policy)


def _monitor_result(name: str, data: pd.DataFrame, hidden: pd.DataFrame, counted: CheckedTable,
                    sources: Mapping[str, Mapping[str, Sources]], policy: DisclosurePolicy) -> CheckedTable:
    entry = counted.entry
    rules = list(entry.rules)
    if hidden[list(NUMBERS)].to_numpy().sum() > counted.hidden["_count"].sum():
        rules.append("DERIVED")
    if hidden["note"].any():
        rules.append("TEXT_COUNTS")
    unknown = sorted(i for i, s in sources.items() if s["value"] == UNKNOWN)
    if unknown:
        rules.append("UNCLASSIFIED")
        entry.details.append(f"indicators of an unknown kind: {', '.join(unknown)}")
    entry.rules = list(dict.fromkeys(rules))
    entry.checks = list(dict.fromkeys([*entry.checks, "DERIVED", "TEXT_COUNTS"]))
    n_hidden = int(hidden.to_numpy().sum())
    entry.status = "needs review" if unknown else ("suppressed" if n_hidden else "pass")
    entry.reason_en = describe(entry.rules, policy, "en")
    entry.reason_nl = describe(entry.rules, policy, "nl")
    entry.cells, entry.cells_not_shown = int(hidden.size), n_hidden
    entry.columns = {"value": "count, or a percentage/rate of counts", "numerator": "count",
                     "denominator": "count, agreed places or person-days", "note": "text"}
    entry.kind = "frequency"
    return CheckedTable(name, data.mask(hidden), hidden, entry, policy.markers.suppressed,
                        integer_columns=())

