"""Linkage of stays to the chain registers (IND, DT&V) and reconciliation of outcomes.

- :mod:`.spec`: the reconciliation rules as data (``specs/chain_reconciliation.yaml``).
- :mod:`.data`: the chain tables ingest wrote (``load_chain_data``).
- :mod:`.link`: which stays and persons link to which register, and which chain records link
  to no LVV person.
- :mod:`.reconcile`: per stay with an outcome its agreement class with the chain, the agreement
  matrix, DT&V's count of prior departure procedures, and the discrepancy list for data managers.
- :mod:`.outcomes`: chain-verified outcomes and prior procedures as definition choices.

For notebooks: ``reconcile_chain(stays, load_chain_data(clean_dir))`` returns a
:class:`~lvv_eval.linkage.reconcile.ChainReconciliation` with ``.linkage`` (rates per pilot and
register), ``.matrix()`` (agreement per pilot and outcome class) and ``.discrepancies``.
Everything here works on pseudonymised keys only (``person_id``, ``v_key``).
"""

from lvv_eval.linkage.data import ChainData, load_chain_data
from lvv_eval.linkage.reconcile import ChainReconciliation, reconcile_chain

__all__ = ["ChainData", "ChainReconciliation", "load_chain_data", "reconcile_chain"]
