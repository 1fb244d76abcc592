"""Reports: the parameterised notebooks run by papermill into ``reports/<run_id>/``.

:mod:`~lvv_eval.report.runner` executes a notebook and exports its HTML and manifest;
:mod:`~lvv_eval.report.notebook` holds the small helpers notebooks call (parameters, the stays,
saving tables and figures).
"""
