"""The disclosure policy as data: ``specs/disclosure_policy.yaml`` read into a pydantic model.

Every key is declared; an unknown key, a wrong type or an impossible value is an error that names
the file and the key's path in the YAML (``frequency.method``). Exception requests (a
researcher asking the output checker to release something the gate held back) are a second,
small YAML file validated the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from lvv_eval.config import SPECS_DIR
from lvv_eval.specfiles import SpecFileError, read_mapping, validate_spec

POLICY_YAML = SPECS_DIR / "disclosure_policy.yaml"

Count = Annotated[int, Field(ge=1)]


class DisclosurePolicyError(SpecFileError):
    """The policy or an exceptions file is missing, not YAML, or breaks its schema."""


def _read_yaml_1_1(path: Path) -> object:
    """The policy as plain YAML (an empty file is an empty mapping)."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZerosPolicy(_Strict):
    """How zero counts are treated."""

    sampling: Literal["suppress", "show"] = "suppress"
    structural: Literal["show", "suppress"] = "show"


class FrequencyPolicy(_Strict):
    """Counts below the threshold: suppress or round; secondary suppression."""

    method: Literal["suppress", "round"] = "suppress"
    rounding_base: Annotated[int, Field(ge=2, le=100)] = 5
    secondary: bool = True
    margins_public: bool = True


class SurvivalPolicy(_Strict):
    """Survival and cumulative-incidence curves: a coarse grid and enough events per step."""

    grid_days: Annotated[int, Field(ge=1, le=3650)] = 30
    min_events_per_step: Count = 10
    min_at_risk: Count = 10


class ModelPolicy(_Strict):
    """Minimum information behind a model result."""

    min_residual_df: Count = 10
    min_events_per_parameter: Count = 10
    min_events_per_level: Count = 10


class PublishedPolicy(_Strict):
    """Figures already in the public domain."""

    show_as_published: bool = True


class Markers(_Strict):
    """What a cell that is not shown reads as."""

    suppressed: Annotated[str, Field(min_length=1, max_length=8)] = "x"
    withheld: Annotated[str, Field(min_length=1, max_length=8)] = "x"


class Identity(_Strict):
    """One indicator equals the sum of others."""

    total: Annotated[str, Field(min_length=1)]
    parts: Annotated[list[str], Field(min_length=1)]


class MonitorLayout(_Strict):
    """How the monitor's indicators hang together."""

    identities: list[Identity] = []
    cumulative: list[str] = []


class DisclosurePolicy(_Strict):
    """The whole policy (see ``specs/disclosure_policy.yaml`` for what each value means)."""

    threshold: Annotated[int, Field(ge=2, le=1000)] = 10
    zeros: ZerosPolicy = ZerosPolicy()
    frequency: FrequencyPolicy = FrequencyPolicy()
    survival: SurvivalPolicy = SurvivalPolicy()
    models: ModelPolicy = ModelPolicy()
    published: PublishedPolicy = PublishedPolicy()
    markers: Markers = Markers()
    monitor: MonitorLayout = MonitorLayout()
    source: str = Field(default="", exclude=True)

    def summary(self) -> dict[str, Any]:
        """The policy's values as a flat mapping (for the record)."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude={"monitor"}).items():
            if isinstance(value, dict):
                out.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                out[key] = value
        return out


class ExceptionRequest(_Strict):
    """A researcher's request that the output checker release something the gate held back."""

    output: Annotated[str, Field(min_length=1)]
    reason: Annotated[str, Field(min_length=20)]
    requested_by: str = ""
    cells: str = ""


class ExceptionRequests(_Strict):
    """The exceptions file: a list of requests."""

    exceptions: list[ExceptionRequest] = []


def load_policy(path: str | Path | None = None) -> DisclosurePolicy:
    """The policy in ``path`` (default: the package's ``specs/disclosure_policy.yaml``)."""
    path = Path(path) if path else POLICY_YAML
    raw = read_mapping(path, "disclosure policy", DisclosurePolicyError, loader=_read_yaml_1_1)
    policy = validate_spec(DisclosurePolicy, raw, path, DisclosurePolicyError, what="disclosure policy")
    return policy.model_copy(update={"source": str(path)})


def load_exceptions(path: str | Path | None) -> list[ExceptionRequest]:
    """The exception requests in ``path`` (none when ``path`` is empty)."""
    if not path:
        return []
    path = Path(path)
    raw = read_mapping(path, "exceptions file", DisclosurePolicyError, loader=_read_yaml_1_1)
    return validate_spec(ExceptionRequests, raw, path, DisclosurePolicyError, what="exceptions file").exceptions
