"""Ingest: five raw deliveries become one validated, harmonised ``stays`` table with an audit trail.

Read (layout from a YAML source spec) -> map (labels, dates, flags) -> repair (named, logged
rules) -> validate (rules as data) -> quarantine -> deduplicate -> pseudonymise -> write.
The library entry point is :func:`lvv_eval.ingest.pipeline.run_ingest`.
"""
