"""The reconciliation rules (``specs/chain_reconciliation.yaml``), checked by a pydantic model."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lvv_eval.chain_schema import CHAIN_DTV_DTYPES, CHAIN_IND_DTYPES, DATE
from lvv_eval.config import SPECS_DIR
from lvv_eval.errors import UserError
from lvv_eval.schema import EXIT_REASONS

RECONCILIATION_YAML = SPECS_DIR / "chain_reconciliation.yaml"
AGREEMENT_CLASSES: tuple[str, ...] = (
    "confirmed", "contradicted", "timing_difference", "not_in_chain", "unlinked", "not_checkable",
)
RULE_IDS: tuple[str, ...] = ("C_CONTRADICTED", "C_TIMING", "C_NOT_IN_CHAIN", "C_NO_V_NUMBER", "C_PERSON_NOT_FOUND",
                             "C_PRIOR_PROCEDURES_DIFFER", "C_CHAIN_ONLY")
REGISTER_TABLES = {"IND": CHAIN_IND_DTYPES, "DTV": CHAIN_DTV_DTYPES}


class ReconciliationSpecError(UserError):
    """The reconciliation rules file is malformed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labelled(_Strict):
    """An entry with English and Dutch labels."""

    label_en: str
    label_nl: str


class EventRule(Labelled):
    """Which register records are an outcome event, their date and the exit reason they imply."""

    register_name: Literal["IND", "DTV"] = Field(alias="register")
    where: dict[str, list[str]]
    date: str
    implies: str

    @model_validator(mode="after")
    def _known(self) -> EventRule:
        table = REGISTER_TABLES[self.register_name]
        if self.date not in table or table[self.date] != DATE:
            raise ValueError(f"date: {self.date!r} is not a date column of the {self.register_name} table")
        for col, values in self.where.items():
            dtype = table.get(col)
            if dtype is None or not hasattr(dtype, "categories"):
                raise ValueError(f"where: {col!r} is not a coded column of the {self.register_name} table")
            wrong = [v for v in values if v not in dtype.categories]
            if wrong:
                raise ValueError(f"where.{col}: {wrong} are not values of {col}")
        if self.implies not in EXIT_REASONS:
            raise ValueError(f"implies: {self.implies!r} is not an exit reason")
        return self


class Tolerance(_Strict):
    """Days before and after the municipal exit date within which a matching event confirms it."""

    before: int
    after: int


class Windows(_Strict):
    """How far after the exit a matching event still counts, and where another outcome contradicts."""

    search_after_exit_days: int
    contradiction: Tolerance


class PriorProcedures(_Strict):
    """Difference between the municipal and DT&V counts above which a stay is flagged."""

    tolerance: int


class ReconciliationSpec(_Strict):
    """The whole reconciliation spec."""

    events: dict[str, EventRule]
    checks: dict[str, Tolerance]
    windows: Windows
    prior_procedures: PriorProcedures
    classes: dict[str, Labelled]
    rules: dict[str, Labelled]

    @model_validator(mode="after")
    def _complete(self) -> ReconciliationSpec:
        unknown = [r for r in self.checks if r not in EXIT_REASONS]
        if unknown:
            raise ValueError(f"checks: {unknown} are not exit reasons")
        implied = {e.implies for e in self.events.values()}
        unconfirmable = [r for r in self.checks if r not in implied]
        if unconfirmable:
            raise ValueError(f"checks: no event implies {unconfirmable}; add an event or drop the check")
        missing = [c for c in AGREEMENT_CLASSES if c not in self.classes] + [r for r in RULE_IDS if r not in self.rules]
        if missing:
            raise ValueError(f"labels missing for {missing}")
        return self

    def label(self, name: str, lang: str = "en") -> str:
        """The label of a class or rule id in ``lang``."""
        entry = self.classes.get(name) or self.rules[name]
        return entry.label_nl if lang == "nl" else entry.label_en


def load_reconciliation_spec(path: Path | None = None) -> ReconciliationSpec:
    """Read and check the reconciliation spec (the package's by default)."""
    return _load(Path(path) if path is not None else RECONCILIATION_YAML)


@cache
def _load(path: Path) -> ReconciliationSpec:
    from lvv_eval.ingest.spec import read_yaml

    try:
        raw = read_yaml(path)
        return ReconciliationSpec.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ReconciliationSpecError(f"{path}: cannot be read ({exc})") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ReconciliationSpecError(f"{path}: {problems}") from exc
