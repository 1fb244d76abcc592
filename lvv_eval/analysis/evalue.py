"""E-values for unmeasured confounding (VanderWeele & Ding 2017, Ann Intern Med 167:268-274).

The E-value is the minimum strength of association, on the risk-ratio scale, that an unmeasured
confounder would need with both the treatment and the outcome to explain away an estimate.
Hazard and odds ratios are first turned into approximate risk ratios as in the paper (Table 2):
unchanged for a rare outcome (< 15% by the end of follow-up); for a common outcome
HR -> (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) and OR -> sqrt(OR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCALES = ("rr", "hr", "or")


@dataclass(frozen=True)
class EValue:
    """E-values of a point estimate and of the confidence limit closer to the null."""

    estimate: float
    lower: float | None
    upper: float | None
    scale: str
    rare_outcome: bool
    point: float
    ci: float | None


def risk_ratio_approximation(value: float, scale: str, rare_outcome: bool) -> float:
    """The risk ratio an HR, OR or RR stands for (VanderWeele & Ding 2017, Table 2)."""
    if value <= 0 or not math.isfinite(value):
        raise ValueError(f"ratio must be positive and finite, got {value}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    if scale == "rr" or rare_outcome:
        return value
    if scale == "or":
        return math.sqrt(value)
    return (1 - 0.5 ** math.sqrt(value)) / (1 - 0.5 ** math.sqrt(1 / value))


def e_value_rr(rr: float) -> float:
    """E-value of a risk ratio: RR + sqrt(RR (RR - 1)), after inverting an RR below 1."""
    if rr <= 0 or not math.isfinite(rr):
        raise ValueError(f"risk ratio must be positive and finite, got {rr}")
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def e_value(
    estimate: float,
    lower: float | None = None,
    upper: float | None = None,
    scale: str = "hr",
    rare_outcome: bool = True,
) -> EValue:
    """E-value for a ratio estimate and, given its CI, for the limit closer to 1.

    The CI E-value is 1 when the interval includes 1. An unbounded limit (``inf`` or 0, as a
    bootstrap interval can have with five clusters) is allowed: only the limit closer to 1 is used.
    """
    rr = risk_ratio_approximation(estimate, scale, rare_outcome)
    point = e_value_rr(rr)
    ci = None
    if lower is not None and upper is not None:
        if lower > upper:
            raise ValueError(f"lower limit {lower} above upper limit {upper}")
        if lower <= 1 <= upper:
            ci = 1.0
        else:  # the limit closer to 1 is finite even when the other one is unbounded
            closer = lower if lower > 1 else upper
            ci = e_value_rr(risk_ratio_approximation(closer, scale, rare_outcome))
    return EValue(estimate, lower, upper, scale, rare_outcome, point, ci)
