"""The published measures: definitions as data, indicators computed from the stays, the
published-vs-computed table, the waterfall from raw rows to a figure, and the monitor snapshots.

Modules: :mod:`~lvv_eval.measures.definitions` (the definitions YAML: schemes, populations,
bases, indicators), :mod:`~lvv_eval.measures.indicators` (one figure computed),
:mod:`~lvv_eval.measures.reproduce` (every figure of a publication against its published value),
:mod:`~lvv_eval.measures.reconcile` (the waterfall) and :mod:`~lvv_eval.measures.monitor`.
"""
