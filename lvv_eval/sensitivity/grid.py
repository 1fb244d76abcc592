"""The sensitivity grid as data: a YAML file of axes, options, constraints and outcomes.

A grid names *axes* (a choice a researcher makes: the outcome scheme, the population, the
counting unit, the reference date, the denominator, the censoring), each with *options*. An
option is a small override of the definitions (``set``: a JSON merge patch, RFC 7396: mappings
merge, ``null`` removes a key, anything else replaces), applied on top of the base definitions
and the grid's own ``base`` overlay. A *specification* takes one option per axis; *constraints*
keep combinations out that make no sense, each with its reason. The structure is declared once
(:class:`GridFile`); an error names the file and the YAML path of every problem.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lvv_eval.config import SPECS_DIR
from lvv_eval.specfiles import SpecFileError, read_mapping, validate_spec

DEFAULT_GRID_YAML = SPECS_DIR / "sensitivity_grid.yaml"


class GridError(SpecFileError):
    """The grid file is malformed; the message names the file and the YAML path of each problem."""


def _read_yaml_1_1(path: Path) -> object:
    """A grid file as YAML 1.1, like the definitions file its options patch."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labelled(_Model):
    label_en: str = Field(min_length=1)
    label_nl: str = Field(min_length=1)


class Option(Labelled):
    """One option of an axis: its override of the definitions (a JSON merge patch)."""

    set: dict[str, Any] = Field(default_factory=dict)


class Axis(Labelled):
    """A choice: named options, one of which is the base (the published definition)."""

    base: str
    options: dict[str, Option] = Field(min_length=1)

    @model_validator(mode="after")
    def _base_is_an_option(self) -> Axis:
        if self.base not in self.options:
            raise ValueError(f"base {self.base!r} is not one of the options "
                             f"({', '.join(self.options)})")
        return self


class Constraint(Labelled):
    """Combinations kept out: every axis in ``when`` takes one of the listed options."""

    when: dict[str, str | list[str]] = Field(min_length=2)
    reason_en: str = Field(min_length=1)
    reason_nl: str = Field(min_length=1)

    def options(self, axis: str) -> tuple[str, ...]:
        """The options of ``axis`` this constraint names."""
        chosen = self.when[axis]
        return (chosen,) if isinstance(chosen, str) else tuple(chosen)

    def excludes(self, choices: Mapping[str, str]) -> bool:
        """Whether a specification (axis -> option) falls under this constraint."""
        return all(choices[axis] in self.options(axis) for axis in self.when)


class Outcome(Labelled):
    """A headline outcome: an indicator of the resolved definitions (computed per pilot)."""

    indicator: str


class PublishedLine(Labelled):
    """A published figure drawn on the curve of ``outcome`` (sum of the listed figure ids)."""

    outcome: str
    pilot: str = "all"
    figures: list[str] = Field(min_length=1)


class Models(_Model):
    """The analysis outcomes: what the time-to-event models read from the definitions."""

    treatment: str = "shelter_24h"
    cause: str
    scheme: str
    population: str
    unit: str
    censoring: str
    adjust: list[str]
    horizon_days: int = Field(gt=0)
    level: float = Field(default=0.95, gt=0, lt=1)
    seed: int = 20191


WORD_KEYS: tuple[str, ...] = ("reached", "not_reached", "not_reached_move", "not_reached_edge",
                              "no_changes")
"""Sentences :func:`lvv_eval.sensitivity.published.place_published` fills in, per language."""


class Words(_Model):
    """The sentences that place a published figure on the curve (``{placeholders}`` filled in)."""

    reached: str
    not_reached: str
    not_reached_move: str
    not_reached_edge: str
    no_changes: str


class GridFile(Labelled):
    """A whole grid file."""

    schema_version: int = Field(default=1, ge=1, le=1)
    base: dict[str, Any] = Field(default_factory=dict)
    outcomes: dict[str, Outcome] = Field(min_length=1)
    axes: dict[str, Axis] = Field(min_length=1)
    constraints: list[Constraint] = Field(default_factory=list)
    models: Models
    published: dict[str, PublishedLine] = Field(default_factory=dict)
    words: dict[str, Words]

    @model_validator(mode="after")
    def _names_exist(self) -> GridFile:
        problems = []
        for i, constraint in enumerate(self.constraints):
            for axis in constraint.when:
                if axis not in self.axes:
                    problems.append(f"constraints.{i}.when.{axis}: unknown axis (choose one of "
                                    f"{', '.join(self.axes)})")
                    continue
                problems += [f"constraints.{i}.when.{axis}: unknown option {o!r} of {axis}"
                             for o in constraint.options(axis) if o not in self.axes[axis].options]
        for name, line in self.published.items():
            if line.outcome not in self.outcomes:
                problems.append(f"published.{name}.outcome: unknown outcome {line.outcome!r}")
        problems += [f"words.{lang}: missing" for lang in ("en", "nl") if lang not in self.words]
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class Grid:
    """A validated grid file and where it came from."""

    spec: GridFile
    path: Path

    @property
    def axes(self) -> Mapping[str, Axis]:
        return self.spec.axes

    @property
    def axis_names(self) -> tuple[str, ...]:
        return tuple(self.spec.axes)

    def base_choices(self) -> dict[str, str]:
        """The base specification: every axis at its base option."""
        return {name: axis.base for name, axis in self.spec.axes.items()}

    def excluded_by(self, choices: Mapping[str, str]) -> Constraint | None:
        """The first constraint that keeps ``choices`` out, or None."""
        return next((c for c in self.spec.constraints if c.excludes(choices)), None)

    def all_choices(self) -> Iterator[dict[str, str]]:
        """Every combination of options, constrained or not, in axis and option order."""
        names = self.axis_names
        for combo in itertools.product(*(self.spec.axes[a].options for a in names)):
            yield dict(zip(names, combo, strict=True))

    def choices(self) -> list[dict[str, str]]:
        """The specifications of the grid: every combination no constraint keeps out."""
        return [c for c in self.all_choices() if self.excluded_by(c) is None]


def load_grid(path: str | Path | None = None) -> Grid:
    """Read and validate a grid file (the package's default grid when ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_GRID_YAML
    raw = read_mapping(path, "grid file", GridError, loader=_read_yaml_1_1)
    return Grid(spec=validate_spec(GridFile, raw, path, GridError, what="grid file"), path=path)
