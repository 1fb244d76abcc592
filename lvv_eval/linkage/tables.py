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
