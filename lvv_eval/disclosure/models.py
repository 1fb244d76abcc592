"""Model results: withheld unless enough information stands behind them.

A model with few residual degrees of freedom is close to a lookup table of its data; one with
few events per parameter rests on a handful of people; the estimate for a 0/1 term (a category
against its reference) with few events in or outside the category describes those few. Each
check works on the toolkit's :class:`~lvv_eval.analysis.cox.CoxResult` and
:class:`~lvv_eval.analysis.binary.BinaryResult`, and on a fitted statsmodels result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.disclosure.policy import DisclosurePolicy


@dataclass
class ModelFacts:
    """What the checks need to know about a fitted model."""

    n_obs: int
    n_params: int
    n_events: int | None
    df_resid: float
    exog: pd.DataFrame | None = field(default=None, repr=False)
    events: np.ndarray | None = field(default=None, repr=False)


@dataclass
class ModelVerdict:
    """Whether a model result may be shown, and which rules it failed."""

    passed: bool
    failed: list[str]
    facts: ModelFacts


def _statsmodels_facts(fit: Any) -> ModelFacts:
    model = fit.model
    exog = pd.DataFrame(model.exog, columns=list(model.exog_names))
    endog = np.asarray(model.endog, dtype=float)
    binary = np.isin(endog, (0.0, 1.0)).all()
    return ModelFacts(n_obs=int(fit.nobs), n_params=len(fit.params),
                      n_events=int(endog.sum()) if binary else None,
                      df_resid=float(fit.df_resid), exog=exog,
                      events=endog if binary else None)


def model_facts(result: Any) -> ModelFacts:
    """The facts of a CoxResult, a BinaryResult or a statsmodels result."""
    design = getattr(result, "design", None)
    if design is not None and hasattr(result, "n_events"):  # CoxResult
        p = len(result.params)
        return ModelFacts(result.n_obs, p, int(result.n_events), float(result.n_obs - p),
                          design.exog, np.asarray(design.status, dtype=float))
    fit = getattr(result, "fit", None)
    if fit is not None and hasattr(fit, "model"):  # BinaryResult
        facts = _statsmodels_facts(fit)
        facts.n_events = int(result.n_events)
        return facts
    if hasattr(result, "model") and hasattr(result, "df_resid"):
        return _statsmodels_facts(result)
    raise TypeError(f"cannot check a model result of type {type(result).__name__}")


def _level_events(facts: ModelFacts, term: str) -> tuple[float, float] | None:
    """Events with and without a 0/1 term, or None when the term is not 0/1."""
    if facts.exog is None or facts.events is None or term not in facts.exog.columns:
        return None
    x = facts.exog[term].to_numpy(dtype=float)
    if not np.isin(x, (0.0, 1.0)).all():
        return None
    return float(facts.events[x == 1].sum()), float(facts.events[x == 0].sum())


def check_model(result: Any, policy: DisclosurePolicy, term: str | None = None) -> ModelVerdict:
    """Apply the model rules to ``result`` (and the 0/1 ``term`` it reports, if any)."""
    facts = model_facts(result)
    rules = policy.models
    failed = []
    if facts.df_resid < rules.min_residual_df:
        failed.append("MODEL_DF")
    if facts.n_events is not None and facts.n_events < rules.min_events_per_parameter * facts.n_params:
        failed.append("MODEL_EPP")
    levels = _level_events(facts, term) if term else None
    if levels is not None and min(levels) < rules.min_events_per_level:
        failed.append("MODEL_LEVEL")
    return ModelVerdict(passed=not failed, failed=failed, facts=facts)
