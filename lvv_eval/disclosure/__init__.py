"""Output disclosure control: nothing leaves ``reports/`` that could identify a person.

An output checker in the style of ACRO/SACRO (the tools of UK and Dutch secure research
environments), as a gate every writer of a table, figure or model result goes through. The rules
are data (``specs/disclosure_policy.yaml``, read by :func:`load_policy`); a cell that fails is
suppressed (the marker ``x``, explained in the record) or rounded, a model result that fails is
withheld with its reason, and every output is listed with its status in a record for the human
output checker (``disclosure.json``, ``disclosure.csv``, ``disclosure.html`` in the output folder).

The API::

    gate = DisclosureGate.from_policy(path=None, synthetic=False, exceptions=None)

    # a tidy count table: one row per cell, the roles of its numeric columns declared
    checked = gate.table(rates, "rates_per_100py", counts=["events"], dims=["pilot", "cause"],
                         derived={"events": ["rate_per_100py", "lower", "upper"]},
                         statistics={"person_years": group_sizes})
    checked.data        # the table with every cell not shown set to NaN (draw figures from this)
    checked.shown()     # the table as written: counts as integers, "x" where not shown
    gate.write_table(checked, "tables/rates_per_100py.csv")

    curves = gate.cumulative_incidence(cif, tte, "cumulative_incidence_by_pilot")
    plot_cumulative_incidence(curves.result)            # drawn from the shown grid points only

    gate.model(cox_result, term="shelter_24h")           # ModelVerdict(passed, failed rules)
    gate.model_table(table, "effects", models=[...])      # a row per model; failing rows withheld

    # the analysis layer's standard tables in one call each
    gate.length_of_stay(los); gate.rates(rates, tte)
    gate.shelter_effect(effect); gate.prior_procedures_gradient(gradient)
    # the writers of reproduce and monitor
    gate.published_comparison(table, name, measures, bases); gate.monitor(table, specs)
    gate.waterfall(waterfall, name)

    gate.write_figure(fig, "figures/rates.png", sources=[checked])   # None when withheld
    gate.text("only 7 events")                           # free text: small numbers -> "x"
    gate.record                                          # the output checker's record
    gate.audit_folder(folder, narrative=[...])           # files written without the gate
    gate.save_record("reports/<run_id>")                 # disclosure.json/.csv/.html

In a notebook, :func:`lvv_eval.report.notebook.report_gate` gives the run's gate and
``save_table``/``save_figure`` write through it.

Roles of numeric columns (:class:`~lvv_eval.disclosure.tables.Roles`): ``counts`` of people
(threshold, zeros per policy, secondary suppression), ``derived`` from a count (a share, rate or
limit that gives it away: hidden with it), ``statistics`` resting on a basis count (a column name
or values; hidden when the basis is below the threshold), ``structural`` (not about people; the
reason is recorded), ``text`` (scanned for small counts). A numeric column without a role is not
shown and the output needs review.

Layout of a count table (:class:`~lvv_eval.disclosure.layout.Layout`): ``keys`` identify a row;
``dims`` are additive (their margins are public: in the table as a ``totals`` level such as
``{"pilot": "all"}``, or published elsewhere when the policy says ``margins_public``);
``relations`` are identities between levels (:class:`Relation`); ``cumulative`` marks counts
that grow along a column (:class:`Cumulative`: the flows between dates are protected too).
Secondary suppression is proved: for every hidden count below the threshold a linear programme
finds the largest value an attacker cannot rule out, and it must reach the threshold.

``public`` marks cells already published (shown as published); ``structural_zeros`` zeros that
cannot be otherwise. On SYNTHETIC data the gate runs the same way; ``unchecked=True`` (allowed
only when the data are marked SYNTHETIC) writes outputs unchecked and marks every one of them.
Exception requests (a YAML file, :class:`ExceptionRequest`) are recorded for the output
checker, never applied.
"""

from lvv_eval.disclosure.engine import Problem, Protection, feasible_upper, protect
from lvv_eval.disclosure.gate import CHECK_COLUMN, UNCHECKED_LABEL, DisclosureGate
from lvv_eval.disclosure.layout import Cumulative, Layout, Relation
from lvv_eval.disclosure.models import ModelVerdict, check_model
from lvv_eval.disclosure.policy import (
    POLICY_YAML,
    DisclosurePolicy,
    DisclosurePolicyError,
    ExceptionRequest,
    load_exceptions,
    load_policy,
)
from lvv_eval.disclosure.record import Entry, Record, read_record
from lvv_eval.disclosure.survival import CheckedCurves
from lvv_eval.disclosure.tables import CheckedTable, Roles, check_table

__all__ = [
    "CHECK_COLUMN",
    "POLICY_YAML",
    "UNCHECKED_LABEL",
    "CheckedCurves",
    "CheckedTable",
    "Cumulative",
    "DisclosureGate",
    "DisclosurePolicy",
    "DisclosurePolicyError",
    "Entry",
    "ExceptionRequest",
    "Layout",
    "ModelVerdict",
    "Problem",
    "Protection",
    "Record",
    "Relation",
    "Roles",
    "check_model",
    "check_table",
    "feasible_upper",
    "load_exceptions",
    "load_policy",
    "protect",
    "read_record",
]
