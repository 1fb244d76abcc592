"""Chain-verified outcomes and prior departure procedures: the definition choices applied.

:func:`apply_chain_choices` rewrites a stays table under a :class:`ChainVerification` (from
``definitions.yaml``, section ``chain_verification``), using a reconciliation of the same stays:

- ``outcome_source: chain``: a stay's exit reason becomes the one the chain implies: the confirmed
  or (late) matching outcome, or the contradicting one; where the chain could confirm the
  municipal outcome but shows nothing (or the person does not link), ``unverified_exit_reason``;
  an exit reason the chain cannot check keeps its municipal value unless the chain implies an
  outcome around it (a forced departure after detention, say).
- ``outcome_source: both``: a checkable outcome counts only where both agree (confirmed, or the
  same outcome at another date); otherwise ``unverified_exit_reason``. Exit reasons the chain
  cannot check keep their municipal value.
- ``prior_procedures_source``: ``dtv`` takes DT&V's count (unknown where the person does not
  link), ``dtv_else_municipal`` falls back to the municipal count there.

Exit and admission dates always stay the municipality's: the chain tells what happened, the
municipality when the stay ended. Ongoing stays stay ongoing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lvv_eval.linkage.data import load_chain_data
from lvv_eval.linkage.reconcile import ChainReconciliation, reconcile_chain
from lvv_eval.measures.chain_choices import ChainVerification
from lvv_eval.measures.definitions import Definitions
from lvv_eval.schema import coerce_stays

AGREE = ("confirmed", "timing_difference")


def chain_exit_reasons(rec: ChainReconciliation, choices: ChainVerification) -> pd.Series:
    """The exit reason of every stay with an exit under ``choices.outcome_source`` (by stay id)."""
    a = rec.agreement
    municipal = a["exit_reason"].astype("object").to_numpy()
    chain = a["chain_exit_reason"].astype("object").to_numpy()
    klass = a["agreement"].astype("str").to_numpy()
    unverified = choices.unverified_exit_reason
    if choices.outcome_source == "municipal":
        reason = municipal
    elif choices.outcome_source == "chain":
        reason = np.select(
            [np.isin(klass, [*AGREE, "contradicted"]), np.isin(klass, ["not_in_chain", "unlinked"]),
             pd.notna(chain)], [chain, unverified, chain], municipal)
    else:
        reason = np.where(np.isin(klass, ["contradicted", "not_in_chain", "unlinked"]), unverified, municipal)
    return pd.Series(reason, index=a["stay_id"].to_numpy(), dtype="object")


def prior_procedure_counts(rec: ChainReconciliation, choices: ChainVerification) -> pd.Series:
    """Prior departure procedures of every stay under ``choices.prior_procedures_source``."""
    p = rec.prior
    if choices.prior_procedures_source == "municipal":
        values = p["n_prior_municipal"]
    elif choices.prior_procedures_source == "dtv":
        values = p["n_prior_dtv"]
    else:
        values = p["n_prior_dtv"].fillna(p["n_prior_municipal"])
    return pd.Series(values.to_numpy(), index=p["stay_id"].to_numpy(), dtype="Int64")


def apply_chain_choices(stays: pd.DataFrame, rec: ChainReconciliation, choices: ChainVerification) -> pd.DataFrame:
    """``stays`` with exit reasons and prior procedures as ``choices`` say (see the module docstring)."""
    out = stays.copy()
    ids = out["stay_id"].astype("str")
    if choices.outcome_source != "municipal":
        reasons = chain_exit_reasons(rec, choices)
        has_exit = out["exit_date"].notna().to_numpy()
        new = reasons.reindex(ids.to_numpy()).to_numpy(dtype=object)
        out["exit_reason"] = np.where(has_exit, new, None)
    if choices.prior_procedures_source != "municipal":
        out["n_prior_departure_procedures"] = prior_procedure_counts(rec, choices).reindex(ids.to_numpy()).to_numpy()
    return coerce_stays(out)


def stays_for_definitions(stays: pd.DataFrame, defs: Definitions, clean_dir: Path,
                          rec: ChainReconciliation | None = None) -> pd.DataFrame:
    """The stays under the definitions' chain verification choices (unchanged when both are
    ``municipal``); the chain tables come from ``clean_dir`` (ingest's output beside the stays)."""
    choices = defs.chain_verification
    if not choices.needs_chain:
        return stays
    if rec is None:
        rec = reconcile_chain(stays, load_chain_data(clean_dir))
    return apply_chain_choices(stays, rec, choices)


def beside_chain_verified(table: pd.DataFrame, chain_table: pd.DataFrame, source: str) -> pd.DataFrame:
    """The reproduce table with each figure's chain-verified counterpart beside it: the value
    computed under ``outcome_source = source`` and its shift from the municipal value."""
    chain = chain_table.set_index("figure_id")
    out = table.copy()
    out["chain_verified_source"] = source
    out["chain_verified_value"] = chain["computed_value"].reindex(out["figure_id"]).to_numpy()
    numeric = pd.to_numeric(out["chain_verified_value"], errors="coerce") - pd.to_numeric(
        out["computed_value"], errors="coerce")
    out["chain_shift"] = numeric.to_numpy()
    return out
