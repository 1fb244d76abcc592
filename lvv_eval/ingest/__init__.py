"""Ingest: five raw deliveries become one validated, harmonised ``stays`` table with an audit trail.

Read (layout from a YAML source spec in ``lvv_eval/sources/``) -> map (labels, flags, dates) ->
repair (named rules in ``specs/repairs.yaml``, every changed cell logged) -> validate (rules as
data in ``specs/validation_rules.yaml``) -> quarantine -> merge duplicates -> pseudonymise ->
pandera contract -> atomic write of ``data_clean/``.

Library entry point::

    from lvv_eval.ingest.pipeline import run_ingest
    result = run_ingest(raw_dir, out_dir, skip_steps=(), strict=False, progress=True,
                        sources_dir=None, workers=None, capacity_file=None)
    result.stays, result.quarantine, result.changes, result.validation, result.manifest

Modules: ``spec_models`` (the declared structure of source specs, rules and repairs files),
``spec`` (loading and checking source specs), ``readers`` (Excel/CSV), ``mapping`` (labels, dates, numbers),
``events`` (long layouts), ``derive`` (derived fields), ``repairs`` + ``tracking`` (named repairs
and the change log), ``rules`` (validation), ``quarantine``, ``dedup``, ``pseudonymise``,
``accounting``, ``summary``, ``output``, ``pipeline``.
"""
