"""E-values (VanderWeele & Ding 2017)."""

from __future__ import annotations

import math

import pytest

from lvv_eval.analysis.evalue import e_value, e_value_rr, risk_ratio_approximation


def test_paper_example():
    # VanderWeele & Ding (2017), Ann Intern Med 167:268, worked example: RR 3.9 (95% CI 1.8-8.7)
    # gives E-values 7.26 for the estimate and 3.0 for the lower limit
    ev = e_value(3.9, 1.8, 8.7, scale="rr")
    assert ev.point == pytest.approx(7.26, abs=0.005)
    assert ev.ci == pytest.approx(3.0)


def test_protective_estimates_are_inverted_and_ci_uses_upper_limit():
    ev = e_value(0.5, 0.3, 0.8, scale="rr")
    assert ev.point == pytest.approx(e_value_rr(2.0))
    assert ev.ci == pytest.approx(e_value_rr(1 / 0.8))


def test_interval_through_one_gives_one():
    assert e_value(1.3, 0.9, 1.8).ci == 1.0


def test_common_outcome_conversions():
    hr = 2.0
    assert risk_ratio_approximation(hr, "hr", rare_outcome=False) == pytest.approx(
        (1 - 0.5 ** math.sqrt(2)) / (1 - 0.5 ** math.sqrt(0.5))
    )
    assert risk_ratio_approximation(4.0, "or", rare_outcome=False) == pytest.approx(2.0)
    assert risk_ratio_approximation(4.0, "or", rare_outcome=True) == pytest.approx(4.0)


def test_invalid_input():
    with pytest.raises(ValueError):
        e_value(-1.0)
    with pytest.raises(ValueError):
        e_value(1.5, 2.0, 1.0)
