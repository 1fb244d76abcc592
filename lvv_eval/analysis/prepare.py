"""From a ``stays`` table and an outcome scheme to analysis frames.

An outcome scheme maps every ``exit_reason`` to an outcome class (for example the final
evaluation's ``durable`` / ``semi_durable`` / ``none``). The frames made here are the common input
of the descriptive, competing-risks and regression functions of :mod:`lvv_eval.analysis`.

Time is counted in days on the LVV: ``exit_date`` is the last night, so a stay that ends on its
admission date lasted one day. A stay that is still ongoing is censored at ``data_cut_date``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lvv_eval.analysis.regions import origin_region
from lvv_eval.measures.definitions import Definitions, load_definitions
from lvv_eval.schema import EXIT_REASONS, STAYS_COLUMNS

OutcomeScheme = Mapping[str, str]
"""``{exit_reason: outcome_class}``; must classify every exit reason of the schema."""

EXIT_REASON_SCHEME: dict[str, str] = {r: r for r in EXIT_REASONS}
"""Every exit reason its own class (the finest scheme; the generator's causes)."""

PRIOR_PROCEDURE_BANDS: tuple[str, ...] = ("0", "1", "2-5", ">5")
"""Bands of completed departure procedures before admission."""

CENSORED = "censored"


@dataclass(frozen=True)
class EventCoding:
    """The integer codes of the outcome classes: 0 is censored, 1..K the classes in order."""

    classes: tuple[str, ...]

    def code(self, outcome_class: str) -> int:
        """The event code (1..K) of one outcome class."""
        try:
            return self.classes.index(outcome_class) + 1
        except ValueError:
            raise KeyError(
                f"outcome class {outcome_class!r} is not in the scheme; known: {', '.join(self.classes)}"
            ) from None

    def label(self, code: int) -> str:
        """The outcome class of an event code (``censored`` for 0)."""
        return CENSORED if code == 0 else self.classes[code - 1]


def check_scheme(scheme: OutcomeScheme) -> None:
    """Raise ``ValueError`` unless the scheme classifies exactly the schema's exit reasons."""
    missing = [r for r in EXIT_REASONS if r not in scheme]
    unknown = [r for r in scheme if r not in EXIT_REASONS]
    problems = []
    if missing:
        problems.append(f"exit reasons without an outcome class: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown exit reasons: {', '.join(map(str, unknown))}")
    if CENSORED in set(scheme.values()):
        problems.append(f"{CENSORED!r} is reserved and cannot be an outcome class")
    if problems:
        raise ValueError("outcome scheme: " + "; ".join(problems))


def outcome_scheme(name: str, definitions: Definitions | None = None) -> dict[str, str]:
    """``{exit_reason: outcome_class}`` of a scheme in the definitions file (e.g. ``ee2022``)."""
    defs = definitions if definitions is not None else load_definitions()
    schemes = defs.outcome_schemes
    if name not in schemes:
        raise KeyError(
            f"outcome scheme {name!r} is not in {defs.path}; known: {', '.join(schemes)}"
        )
    return {
        reason: cls
        for cls, entry in schemes[name]["classes"].items()
        for reason in entry.get("exit_reasons", [])
    }


def resolve_scheme(scheme: OutcomeScheme | str) -> OutcomeScheme:
    """A scheme mapping, looking a name up in the definitions file."""
    return outcome_scheme(scheme) if isinstance(scheme, str) else scheme


def scheme_classes(scheme: OutcomeScheme) -> tuple[str, ...]:
    """The outcome classes of a scheme in order of first appearance."""
    return tuple(dict.fromkeys(scheme.values()))


def prior_procedure_band(n_procedures: pd.Series) -> pd.Series:
    """Band a count of prior departure procedures into 0, 1, 2-5 and >5 (ordered category)."""
    n = pd.to_numeric(n_procedures).astype("Float64")
    if (n < 0).any():
        bad = n.index[(n < 0).fillna(False)].tolist()[:5]
        raise ValueError(f"n_prior_departure_procedures negative at rows {bad}")
    bands = pd.cut(
        n.astype("float64"),
        bins=[-0.5, 0.5, 1.5, 5.5, np.inf],
        labels=list(PRIOR_PROCEDURE_BANDS),
    )
    return bands.astype(pd.CategoricalDtype(list(PRIOR_PROCEDURE_BANDS), ordered=True))


def _check_stays_columns(stays: pd.DataFrame) -> None:
    missing = [c for c in STAYS_COLUMNS if c not in stays.columns]
    if missing:
        raise KeyError(f"stays table lacks columns: {', '.join(missing)}")


def _nullable_bool_as_float(s: pd.Series) -> pd.Series:
    return s.astype("Float64").astype("float64")


def _female(sex: pd.Series) -> pd.Series:
    """1.0 female, 0.0 male, NaN when the sex is unknown or missing (never coded as male)."""
    values = sex.astype("object")
    out = pd.Series(np.nan, index=sex.index, dtype="float64")
    out[values == "female"] = 1.0
    out[values == "male"] = 0.0
    return out


def time_to_event(stays: pd.DataFrame, scheme: OutcomeScheme | str) -> pd.DataFrame:
    """One row per stay: days on the LVV, event code and class under ``scheme``, covariates.

    ``scheme`` is a mapping ``{exit_reason: outcome_class}`` or the name of a scheme in the
    definitions file (``"ee2022"``, ``"kb2020_letter"``, ...).

    Columns: ``stay_id``, ``person_id``, ``pilot``, ``time`` (days, >= 1), ``event`` (0 censored,
    1..K outcome classes in scheme order), ``cause`` (class label or ``censored``), ``exit_reason``,
    ``admission_date``, ``admission_year``, ``shelter_24h``, ``guidance_intensity``, ``n_prior``, ``prior_band``,
    ``country_of_origin``, ``origin_region`` (UN M49 sub-regions united, see
    :func:`~lvv_eval.analysis.regions.origin_region`), ``safe_country``, ``asylum_background``, ``age``, ``age_10y``, ``female``, ``family``,
    ``in_covenant``, ``exclusion_reason``. Booleans become 0/1 floats (NaN where unknown); ``female``
    is NaN when the sex is ``unknown`` or missing, so a model using it leaves those stays out and
    counts them (``n_dropped_missing``). The frame carries the event coding in ``.attrs["coding"]``.
    """
    _check_stays_columns(stays)
    scheme = resolve_scheme(scheme)
    check_scheme(scheme)
    coding = EventCoding(scheme_classes(scheme))
    end = stays["exit_date"].fillna(stays["data_cut_date"])
    time = (end - stays["admission_date"]).dt.days + 1
    bad = time.isna() | (time < 1)
    if bad.any():
        rows = stays.loc[bad, "stay_id"].head(5).tolist()
        raise ValueError(
            f"stays with an exit or data cut before admission (or no admission date): {rows}"
        )
    reason = stays["exit_reason"].astype("object")
    cause = reason.map(dict(scheme)).where(reason.notna(), CENSORED).astype("object")
    event = cause.map(lambda c: 0 if c == CENSORED else coding.code(c)).astype("int64")
    out = pd.DataFrame(
        {
            "stay_id": stays["stay_id"].astype("str"),
            "person_id": stays["person_id"].astype("str"),
            "pilot": stays["pilot"],
            "time": time.astype("int64"),
            "event": event,
            "cause": pd.Categorical(cause, categories=[CENSORED, *coding.classes]),
            "exit_reason": stays["exit_reason"],
            "admission_date": stays["admission_date"],
            "admission_year": stays["admission_date"].dt.year.astype("int64"),
            "shelter_24h": _nullable_bool_as_float(stays["shelter_24h"]),
            "guidance_intensity": stays["guidance_intensity"],
            "n_prior": stays["n_prior_departure_procedures"].astype("Float64").astype("float64"),
            "prior_band": prior_procedure_band(stays["n_prior_departure_procedures"]),
            "country_of_origin": stays["country_of_origin"],
            "origin_region": origin_region(stays["country_of_origin"]),
            "safe_country": _nullable_bool_as_float(stays["safe_country"]),
            "asylum_background": _nullable_bool_as_float(stays["asylum_background"]),
            "age": stays["age_at_admission"].astype("Float64").astype("float64"),
            "female": _female(stays["sex"]),
            "family": _nullable_bool_as_float(stays["family"]),
            "in_covenant": _nullable_bool_as_float(stays["in_covenant"]),
            "exclusion_reason": stays["exclusion_reason"],
        }
    )
    out["age_10y"] = out["age"] / 10.0
    out.attrs["coding"] = coding
    return out


def event_coding(tte: pd.DataFrame) -> EventCoding:
    """The event coding a :func:`time_to_event` frame was made with."""
    coding = tte.attrs.get("coding")
    if coding is None:
        classes = [c for c in tte["cause"].cat.categories if c != CENSORED]
        coding = EventCoding(tuple(classes))
    return coding


def window_outcome(tte: pd.DataFrame, outcome_class: str, window_days: int) -> pd.DataFrame:
    """Binary outcome: exit of ``outcome_class`` within ``window_days`` days of admission.

    Stays censored before the window closes cannot be classified and are left out; the number
    left out is in ``.attrs["n_censored_before_window"]``. Adds ``outcome`` (0/1 float).
    """
    if window_days < 1:
        raise ValueError(f"window_days must be at least 1, got {window_days}")
    code = event_coding(tte).code(outcome_class)
    exited_in_window = (tte["event"] > 0) & (tte["time"] <= window_days)
    followed_long_enough = tte["time"] >= window_days
    keep = exited_in_window | followed_long_enough
    out = tte.loc[keep].copy()
    out["outcome"] = ((out["event"] == code) & (out["time"] <= window_days)).astype("float64")
    out.attrs = dict(tte.attrs)
    out.attrs["n_censored_before_window"] = int((~keep).sum())
    out.attrs["window_days"] = window_days
    out.attrs["outcome_class"] = outcome_class
    return out.reset_index(drop=True)


def complete_cases(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """Rows of ``frame`` with no missing value in ``columns``, and how many were dropped."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"columns not in the analysis frame: {', '.join(missing)}")
    ok = frame[list(columns)].notna().all(axis=1)
    return frame.loc[ok], int((~ok).sum())
