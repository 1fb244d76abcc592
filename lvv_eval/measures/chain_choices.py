"""Chain verification as definition choices: where outcomes and prior departure procedures come from.

``definitions.yaml`` section ``chain_verification`` (all optional; the defaults reproduce the
published figures from the municipal records):

- ``outcome_source``: ``municipal`` (the delivery's exit reason, as published), ``chain`` (the
  exit reason the IND and DT&V registers imply around the exit; a municipal outcome the chain
  could confirm but does not becomes ``unverified_exit_reason``), or ``both`` (an outcome the
  chain can check counts only where municipality and chain agree, else
  ``unverified_exit_reason``).
- ``prior_procedures_source``: ``municipal`` (the delivery's count), ``dtv`` (DT&V's cases closed
  before the admission; unknown for persons who do not link), ``dtv_else_municipal``.
- ``unverified_exit_reason``: the exit reason an unconfirmed outcome gets (default ``other``).

These are the sensitivity grid's axes :data:`CHAIN_AXES`; :func:`with_chain_choices` returns a
definitions copy with other choices (no file needed).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from lvv_eval.schema import EXIT_REASONS

SECTION = "chain_verification"
OUTCOME_SOURCES: tuple[str, ...] = ("municipal", "chain", "both")
PRIOR_PROCEDURES_SOURCES: tuple[str, ...] = ("municipal", "dtv", "dtv_else_municipal")
CHAIN_AXES: dict[str, tuple[str, ...]] = {
    "outcome_source": OUTCOME_SOURCES, "prior_procedures_source": PRIOR_PROCEDURES_SOURCES,
}


class ChainVerification(BaseModel):
    """The chain verification choices of a definitions file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome_source: Literal["municipal", "chain", "both"] = "municipal"
    prior_procedures_source: Literal["municipal", "dtv", "dtv_else_municipal"] = "municipal"
    unverified_exit_reason: Literal[EXIT_REASONS] = "other"  # type: ignore[valid-type]
    label_en: str = ""
    label_nl: str = ""

    @property
    def needs_chain(self) -> bool:
        """Whether these choices read the chain tables at all."""
        return self.outcome_source != "municipal" or self.prior_procedures_source != "municipal"

    def describe(self, lang: str = "en") -> str:
        """The choices in words."""
        if lang == "nl":
            return (f"uitkomsten: {self.outcome_source}; eerdere vertrekprocedures: {self.prior_procedures_source}; "
                    f"onbevestigde uitkomst telt als: {self.unverified_exit_reason}")
        return (f"outcomes: {self.outcome_source}; prior departure procedures: {self.prior_procedures_source}; "
                f"an unconfirmed outcome counts as: {self.unverified_exit_reason}")


def chain_verification_errors(raw: Mapping[str, Any]) -> list[str]:
    """Problems in a definitions mapping's ``chain_verification`` section, with their YAML path."""
    section = raw.get(SECTION)
    if section is None:
        return []
    if not isinstance(section, dict):
        return [f"{SECTION}: expected a mapping"]
    try:
        ChainVerification.model_validate(section)
    except ValidationError as exc:
        return [f"{SECTION}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return []


def chain_choices(raw: Mapping[str, Any]) -> ChainVerification:
    """The chain verification choices of a (validated) definitions mapping; defaults when absent."""
    return ChainVerification.model_validate(raw.get(SECTION) or {})


def with_choices(raw: Mapping[str, Any], **choices: str) -> dict[str, Any]:
    """A deep copy of a definitions mapping with other chain verification choices."""
    out = copy.deepcopy(dict(raw))
    section = {**(out.get(SECTION) or {}), **choices}
    problems = chain_verification_errors({SECTION: section})
    if problems:
        raise ValueError("; ".join(problems))
    out[SECTION] = section
    return out
