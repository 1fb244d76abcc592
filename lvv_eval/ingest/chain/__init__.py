"""Ingest of chain extracts: IND procedures, DT&V departure cases and municipal V-number crosswalks.

A separate pipeline entry beside the municipal one, through the same machinery: a YAML spec per
extract layout (``lvv_eval/sources/chain/*.yaml``, model in :mod:`.spec`), the shared readers,
repairs with the change log (``specs/chain_repairs.yaml``), validation rules as data
(``specs/chain_rules.yaml``), quarantine, exact-duplicate merging, row accounting, and the same
keyed pseudonymisation: every V-number becomes ``v_key`` (:func:`lvv_eval.pseudonym.v_key`),
every client number ``person_id``; no V-number, client number or case number leaves the ingest.

Library entry point: :func:`lvv_eval.ingest.chain.pipeline.ingest_chain` (``run_ingest`` calls it
after the municipal deliveries and writes its tables into the same ``data_clean/``).
"""
