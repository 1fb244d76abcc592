"""Tables for notebooks and the command line: linkage rates and the agreement matrix, labelled.

``chain_overview(clean_dir)`` is the one call a notebook section needs: it reads the stays and
chain tables ingest wrote, reconciles them and returns the linkage-rate table, the description of
the unlinked, the agreement matrix per pilot and outcome class (a definitions scheme, default the
2020 letter's), and headline numbers. Aggregates only; they still pass the disclosure gate before
they go into a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval.linkage.data import load_chain_data
from lvv_eval.linkage.reconcile import ChainReconciliation, reconcile_chain
from lvv_eval.linkage.spec import AGREEMENT_CLASSES
from lvv_eval.measures.definitions import Definitions, classify_exits, load_definitions
from lvv_eval.schema import coerce_stays

RATE_COLUMNS = {"en": ("pilot", "register", "persons", "linked persons", "linkage rate (persons)", "stays",
                       "linked stays", "linkage rate (stays)"),
                "nl": ("pilot", "registratie", "personen", "gekoppelde personen", "koppelpercentage (personen)",
                       "verblijven", "gekoppelde verblijven", "koppelpercentage (verblijven)")}


@dataclass
class ChainOverview:
    """What a report section on the chain shows."""

    linkage: pd.DataFrame
    unlinked: pd.DataFrame
    matrix: pd.DataFrame
    summary: dict[str, Any]
    reconciliation: ChainReconciliation


def linkage_rate_table(rec: ChainReconciliation, lang: str = "en") -> pd.DataFrame:
    """Linkage per pilot and register, rates in percent (one decimal), headers in ``lang``."""
    t = rec.linkage
    out = pd.DataFrame({
        0: t["pilot"].astype(str), 1: t["register"].astype(str), 2: t["persons"], 3: t["linked_persons"],
        4: (100 * t["person_rate"]).round(1), 5: t["stays"], 6: t["linked_stays"], 7: (100 * t["stay_rate"]).round(1),
    })
    out.columns = list(RATE_COLUMNS[lang])
    return out


def agreement_matrix_table(rec: ChainReconciliation, defs: Definitions | None = None,
                           scheme: str | None = "kb2020_letter", lang: str = "en") -> pd.DataFrame:
    """The agreement matrix per pilot and outcome class of ``scheme`` (exit reasons when None),
    class columns labelled in ``lang``."""
    outcome = None
    name = "exit_reason"
    if scheme is not None:
        defs = defs or load_definitions()
        outcome = classify_exits(defs, rec.agreement["exit_reason"], scheme)
        name = f"outcome ({scheme})"
    matrix = rec.matrix(outcome, name)
    matrix.columns = [rec.spec.label(c, lang) if c in AGREEMENT_CLASSES else c for c in matrix.columns]
    return matrix


def chain_overview(clean_dir: Path, *, stays: pd.DataFrame | None = None, defs: Definitions | None = None,
                   scheme: str | None = "kb2020_letter", lang: str = "en") -> ChainOverview:
    """Linkage rates, unlinked, agreement matrix and headline numbers from ``clean_dir``."""
    clean_dir = Path(clean_dir)
    if stays is None:
        stays = coerce_stays(pd.read_parquet(clean_dir / "stays.parquet"))
    rec = reconcile_chain(stays, load_chain_data(clean_dir))
    return ChainOverview(linkage_rate_table(rec, lang), rec.unlinked,
                         agreement_matrix_table(rec, defs, scheme, lang), rec.summary(), rec)


AGREEMENT_COLUMN = {"en": "agreement", "nl": "overeenstemming"}
STAYS_COLUMN = {"en": "stays", "nl": "verblijven"}
NOT_LINKED = {"en": ("persons not linked", "stays not linked"),
              "nl": ("niet gekoppelde personen", "niet gekoppelde verblijven")}
ALL_PILOTS = "all pilots"
TOTAL = "total"


def agreement_long(matrix: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The agreement matrix as a tidy count table: one row per pilot, outcome class and agreement
    class (the ``total`` column and the ``all pilots`` rows become total levels)."""
    long = matrix.rename_axis(columns=AGREEMENT_COLUMN[lang]).stack().rename(STAYS_COLUMN[lang]).reset_index()
    for col in long.columns[:-1]:
        long[col] = long[col].astype(str)
    return long


def _checked_linkage(gate: Any, rates: pd.DataFrame, lang: str) -> Any:
    """Linkage rates with the not-linked counts beside them: a small number not linked hides the
    linked count and the rate that give it away."""
    pilot, register, persons, linked_p, rate_p, stays, linked_s, rate_s = RATE_COLUMNS[lang]
    not_p, not_s = NOT_LINKED[lang]
    table = rates.assign(**{not_p: rates[persons] - rates[linked_p], not_s: rates[stays] - rates[linked_s]})
    return gate.table(table, "chain_linkage", counts=[persons, stays, not_p, not_s], keys=[pilot, register],
                      dims=[pilot],
                      derived={not_p: [linked_p, rate_p], not_s: [linked_s, rate_s]})


def checked_chain_tables(gate: Any, overview: ChainOverview, lang: str = "en") -> dict[str, Any]:
    """The chain's aggregate tables checked by the disclosure ``gate``
    (:class:`~lvv_eval.disclosure.DisclosureGate`): linkage rates per pilot and register, the
    unlinked by reason, and the agreement of outcomes with the chain per pilot and, over all
    pilots, per outcome class (the full pilot x outcome matrix is too sparse to publish; it is
    review material). Keys are the output names."""
    unlinked_df = overview.unlinked.astype({"pilot": str, "register": str, "reason": str})
    long = agreement_long(overview.matrix, lang)
    pilot, outcome, agreement, count = long.columns
    by_pilot = long.groupby([pilot, agreement], sort=False)[count].sum().reset_index()
    by_outcome = long[long[pilot] == ALL_PILOTS].drop(columns=pilot)
    return {
        "chain_linkage": _checked_linkage(gate, overview.linkage, lang),
        "chain_unlinked": gate.table(unlinked_df, "chain_unlinked", counts=["persons", "stays"],
                                     dims=["pilot", "register", "reason"]),
        "chain_agreement_by_pilot": gate.table(by_pilot, "chain_agreement_by_pilot", counts=[count],
                                               dims=[pilot, agreement],
                                               totals={pilot: ALL_PILOTS, agreement: TOTAL}),
        "chain_agreement_by_outcome": gate.table(by_outcome, "chain_agreement_by_outcome", counts=[count],
                                                 dims=[outcome, agreement], totals={agreement: TOTAL}),
    }
