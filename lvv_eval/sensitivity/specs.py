"""Specifications: options merged into the definitions, validated, and named by a stable id.

A specification's definitions are the base definitions file, then the grid's ``base`` overlay,
then each axis's chosen option, each applied as a JSON merge patch (RFC 7396). The result is
validated by the definitions loader's own checks, exactly as a hand-edited copy of
``definitions.yaml`` would be. The spec id is a hash of the resolved definitions the
specification's outcomes read (:func:`specification_closure`), serialised canonically
(:func:`canonical_json`), so it is the same on every run and machine and changes exactly when
a definition the outcomes depend on changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lvv_eval.errors import UserError
from lvv_eval.measures.definitions import (
    DEFINITIONS_YAML,
    Definitions,
    DefinitionsError,
    load_definitions_mapping,
)
from lvv_eval.sensitivity.grid import Grid

SPEC_ID_LENGTH = 12
"""Hex digits kept of the sha256 (48 bits: a clash among a million specs has odds ~2e-3)."""


class SpecificationError(UserError):
    """A specification's merged definitions do not validate; names the grid, the options and
    every problem with its YAML path."""


def merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with ``patch`` applied as a JSON merge patch (RFC 7396); inputs untouched.

    Mappings merge key by key, a ``None`` value removes the key, anything else (lists too)
    replaces. Untouched sub-mappings are shared with ``target``, not copied.
    """
    if not isinstance(patch, Mapping):
        return patch
    out = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _json_default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__} in a specification")


def canonical_json(value: Any) -> str:
    """A canonical text of a YAML-like value: sorted keys, no spaces, ASCII, ISO dates.

    Python's ``json`` writes floats by their shortest round-trip repr and ints exactly, on any
    platform; nothing depends on dict order, hash seeds or locale.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False, default=_json_default)


def hash_id(value: Any) -> str:
    """The first :data:`SPEC_ID_LENGTH` hex digits of the sha256 of ``canonical_json(value)``."""
    return hashlib.sha256(canonical_json(value).encode("ascii")).hexdigest()[:SPEC_ID_LENGTH]


def _indicator_closure(raw: Mapping[str, Any], indicator: Mapping[str, Any]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for key, section in (("population", "populations"), ("unit", "units"), ("base", "bases")):
        if key in indicator:
            parts.setdefault(section, {})[indicator[key]] = raw[section][indicator[key]]
    base = raw["bases"].get(indicator.get("base"), {})
    dates = [indicator.get("reference_date"), base.get("status_date")]
    for ref in dates:
        if isinstance(ref, str) and ref in raw["reference_dates"]:
            parts.setdefault("reference_dates", {})[ref] = raw["reference_dates"][ref]
    outcome = (indicator.get("condition") or {}).get("outcome")
    if outcome:
        parts.setdefault("outcome_schemes", {})[outcome["scheme"]] = \
            raw["outcome_schemes"][outcome["scheme"]]
    return parts


def specification_closure(raw: Mapping[str, Any], grid: Grid) -> dict[str, Any]:
    """The part of resolved definitions a grid's outcomes read: its outcome indicators, the
    entries they name, and the entries the models name (scheme, population, unit, censoring)."""
    closure: dict[str, Any] = {"indicators": {}}
    for outcome in grid.spec.outcomes.values():
        indicator = raw["indicators"][outcome.indicator]
        closure["indicators"][outcome.indicator] = indicator
        for section, entries in _indicator_closure(raw, indicator).items():
            closure.setdefault(section, {}).update(entries)
    m = grid.spec.models
    for section, name in (("outcome_schemes", m.scheme), ("populations", m.population),
                          ("units", m.unit), ("censoring", m.censoring)):
        closure.setdefault(section, {})[name] = raw[section][name]
    end = raw["censoring"][m.censoring].get("end")
    if isinstance(end, str) and end in raw["reference_dates"]:
        closure.setdefault("reference_dates", {})[end] = raw["reference_dates"][end]
    closure["models"] = {"treatment": m.treatment, "cause": m.cause, "adjust": list(m.adjust),
                         "horizon_days": m.horizon_days, "level": m.level, "seed": m.seed}
    return closure


@dataclass(frozen=True)
class Specification:
    """One specification: its options, its resolved definitions and its id."""

    choices: Mapping[str, str]
    definitions: Definitions
    closure: Mapping[str, Any] = field(repr=False)
    spec_id: str = ""


def base_definitions_raw(path: Path | None = None) -> dict[str, Any]:
    """The parsed base definitions file (validated), as a mapping to merge options into."""
    path = path or DEFINITIONS_YAML
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionsError(f"{path}: cannot read the definitions: {exc}") from exc
    if not isinstance(raw, dict):
        raise DefinitionsError(f"{path}: expected a mapping at the top level")
    load_definitions_mapping(raw, path)  # every problem with its YAML path
    return raw


def overlay(grid: Grid, choices: Mapping[str, str]) -> list[tuple[str, Mapping[str, Any]]]:
    """The merge patches of a specification in order, each with the YAML path it comes from."""
    patches: list[tuple[str, Mapping[str, Any]]] = [("base", grid.spec.base)]
    for axis, option in choices.items():
        patches.append((f"axes.{axis}.options.{option}.set", grid.axes[axis].options[option].set))
    return patches


def touched_entries(grid: Grid) -> set[tuple[str, str]]:
    """(section, entry name) of every definitions entry some option of the grid patches."""
    return {(section, name) for axis in grid.axes.values() for option in axis.options.values()
            for section, entries in option.set.items() if isinstance(entries, Mapping)
            for name in entries}


def _references(indicator: Any) -> set[tuple[str, str]]:
    if not isinstance(indicator, Mapping):
        return set()
    refs = {(section, indicator[key]) for key, section in
            (("population", "populations"), ("unit", "units"), ("base", "bases"),
             ("reference_date", "reference_dates")) if isinstance(indicator.get(key), str)}
    outcome = (indicator.get("condition") or {}).get("outcome") or {}
    if isinstance(outcome, Mapping) and isinstance(outcome.get("scheme"), str):
        refs.add(("outcome_schemes", outcome["scheme"]))
    return refs


class Resolver:
    """Resolves the specifications of one grid on one base definitions mapping.

    The base definitions with the grid's ``base`` overlay are merged and validated in full once.
    Each specification's options are merged on top and validated by the same checks
    (:func:`~lvv_eval.measures.definitions.load_definitions_mapping`) on every section, with the indicators and monitor entries that
    name an entry some option patches (the others read nothing an option can change, so their
    result is the one already checked).
    """

    def __init__(self, grid: Grid, base_raw: Mapping[str, Any]) -> None:
        self.grid = grid
        self.start = merge_patch(base_raw, grid.spec.base)
        self.touched = touched_entries(grid)
        self.reach = {section: {name for name, entry in (self.start.get(section) or {}).items()
                                if _references(entry) & self.touched}
                      | {name for s, name in self.touched if s == section}
                      for section in ("indicators", "monitor")}
        try:
            load_definitions_mapping(self.start, grid.path)
        except DefinitionsError as exc:
            raise SpecificationError(f"{grid.path}: the base overlay does not give valid "
                                     f"definitions: {exc}") from exc

    def _reachable(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        kept = {section: {name: entry for name, entry in (raw.get(section) or {}).items()
                          if name in names} for section, names in self.reach.items()}
        return dict(raw) | kept

    def resolve(self, choices: Mapping[str, str]) -> Specification:
        """The specification for ``choices`` (axis -> option): merged, validated, with its id."""
        raw: Any = self.start
        for _, patch in overlay(self.grid, choices)[1:]:
            raw = merge_patch(raw, patch)
        try:
            load_definitions_mapping(self._reachable(raw), self.grid.path)
            closure = specification_closure(raw, self.grid)
        except (DefinitionsError, KeyError) as exc:
            named = ", ".join(f"{a}={o}" for a, o in choices.items())
            raise SpecificationError(
                f"{self.grid.path}: the specification {named} does not give valid definitions "
                f"(merged from {', '.join(p for p, _ in overlay(self.grid, choices))}): {exc}"
            ) from exc
        return Specification(choices=dict(choices), definitions=Definitions(raw, self.grid.path),
                             closure=closure, spec_id=hash_id(closure))


def resolve(grid: Grid, choices: Mapping[str, str], base_raw: Mapping[str, Any]) -> Specification:
    """The specification for ``choices`` (axis -> option) of ``grid``: merged, validated, with
    its id."""
    return Resolver(grid, base_raw).resolve(choices)


def resolve_grid(grid: Grid, definitions: Path | None = None,
                 choices: Sequence[Mapping[str, str]] | None = None) -> list[Specification]:
    """Every specification of the grid (constraints applied), or just ``choices``, resolved and
    validated.

    Raises :class:`SpecificationError` when two specifications resolve to the same definitions
    (the grid would count one specification twice).
    """
    resolver = Resolver(grid, base_definitions_raw(definitions))
    wanted = grid.choices() if choices is None else list(choices)
    specs = [resolver.resolve(c) for c in wanted]
    seen: dict[str, Mapping[str, str]] = {}
    for spec in specs:
        if spec.spec_id in seen:
            raise SpecificationError(
                f"{grid.path}: options {dict(spec.choices)} and {dict(seen[spec.spec_id])} give "
                f"the same definitions (spec id {spec.spec_id}); drop one or add a constraint")
        seen[spec.spec_id] = spec.choices
    return specs
