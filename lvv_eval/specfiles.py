"""Spec files (YAML) checked by declared schemas: the shared machinery.

Every YAML file of the toolkit (source specs, definitions, validation rules, repairs, capacity,
the country table) declares its structure once as a pydantic model derived from
:class:`SpecModel`. Cross-checks that a structure cannot say (a reference to another section, a
set of classes that must partition the exit reasons) live in the models' validators and report
through :class:`Problems`, so that every problem of a file is found in one pass and each one is
named by its path in the YAML (``indicators.kb2020.durable.all.base: unknown base 'presnt'``).

:func:`validate_spec` turns a parsed mapping into a model or raises a :class:`SpecFileError`
listing every problem, each line starting with the file name.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

from lvv_eval.errors import UserError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class SpecFileError(UserError):
    """A spec file is malformed; ``problems`` holds one ``path: message`` line per problem.

    Raised as ``SpecFileError(path, problems)`` by the validation, or with a single message.
    """

    def __init__(self, path_or_message: Path | str, problems: list[str] | None = None,
                 hint: str = "", what: str = "") -> None:
        if problems is None:
            self.path, self.problems = None, [str(path_or_message)]
            super().__init__(str(path_or_message))
            return
        self.path = Path(path_or_message)
        self.problems = problems
        name = self.path.name
        listing = "\n  ".join(f"{name}: {p}" for p in problems)
        tail = f"\n{hint}" if hint else ""
        head = f"{what} {self.path}" if what else str(self.path)
        super().__init__(f"{head}: {len(problems)} problem(s):\n  {listing}{tail}")


class SpecModel(BaseModel):
    """Base of every spec-file model: unknown keys are errors, objects are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# reading YAML


class _SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available
    """YAML 1.2-style booleans: only true/false, so labels such as yes, no, on, off stay text."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _SpecLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first])


def read_yaml(path: Path) -> object:
    """Parse a spec YAML file (only true/false are booleans)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SpecLoader)  # noqa: S506 - safe loader subclass


def read_mapping(path: Path, what: str, error: type[SpecFileError] = SpecFileError,
                 loader: Callable[[Path], object] = read_yaml) -> dict[str, Any]:
    """A YAML file as a mapping; ``error`` naming the file when it is absent, unreadable or not
    a mapping."""
    path = Path(path)
    try:
        raw = loader(path)
    except FileNotFoundError as exc:
        raise error(path, [f"{what} not found"]) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise error(path, [f"{what} cannot be read as YAML ({exc})"]) from exc
    if not isinstance(raw, dict):
        raise error(path, ["the top level must be a mapping"])
    return raw


# ---------------------------------------------------------------------------------------------
# problems found by validators, each with its own place in the file


class Problems:
    """Collects problems found by one validator and raises them together, each at its location
    (relative to the object being validated)."""

    def __init__(self) -> None:
        self._details: list[InitErrorDetails] = []

    def add(self, loc: Loc, message: str, value: Any = None) -> None:
        """Note a problem at ``loc`` (keys below the validated object)."""
        self._details.append(InitErrorDetails(
            type=PydanticCustomError("spec", "{message}", {"message": message}),
            loc=loc, input=value))

    def __bool__(self) -> bool:
        return bool(self._details)

    def raise_if_any(self, title: str = "spec") -> None:
        """Raise every collected problem (pydantic prefixes the locations with the parent's)."""
        if self._details:
            raise ValidationError.from_exception_data(title, self._details)


def choices(options: Iterable[Any], limit: int = 40) -> str:
    """``a, b, c`` (shortened after ``limit`` options)."""
    shown = [str(o) for o in options]
    more = f", ... ({len(shown) - limit} more)" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def one_of(what: str, options: Collection[Any]) -> Any:
    """A string type that must be one of ``options`` (message: ``unknown <what> 'x' (choose one
    of ...)``; JSON Schema: an enum)."""
    allowed = tuple(options)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r} (choose one of {choices(allowed)})")
        return value

    return Annotated[str, AfterValidator(check), Field(json_schema_extra={"enum": list(allowed)})]


def reference(section: str, what: str) -> Any:
    """A string that must name an entry of another ``section`` of the same file; the names are
    taken from the validation context (``context["names"][section]``)."""

    def check(value: str, info: ValidationInfo) -> str:
        names = ((info.context or {}).get("names") or {}).get(section)
        if names is not None and value not in names:
            raise ValueError(f"unknown {what} {value!r} (choose one of {choices(names)})")
        return value

    return Annotated[str, AfterValidator(check)]


NonEmptyStr = Annotated[str, Field(min_length=1, pattern=r"\S")]


# ---------------------------------------------------------------------------------------------
# validation with every problem named by its YAML path


def validate_spec(model: type[M], mapping: Any, path: Path | str,
                  error: type[SpecFileError] = SpecFileError,
                  context: Mapping[str, Any] | None = None, hint: str = "",
                  where: Callable[[Loc], str] | None = None, what: str = "") -> M:
    """``mapping`` validated as ``model``; ``error`` listing every problem (YAML path: message;
    ``where`` words a location otherwise, e.g. as a row and column of a CSV file)."""
    try:
        return model.model_validate(mapping, context=dict(context or {}))
    except ValidationError as exc:
        raise error(path, problem_lines(exc, model, where or yaml_path), hint, what) from None


def yaml_path(loc: Loc) -> str:
    """``indicators.kb2020.durable.all.base`` for a pydantic location (list items as ``[i]``)."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def problem_lines(exc: ValidationError, model: type[BaseModel],
                  where: Callable[[Loc], str] = yaml_path) -> list[str]:
    """One ``path: message`` line per problem, in the order of the file."""
    lines: list[str] = []
    unknown: dict[Loc, list[str]] = {}
    errors = exc.errors(include_url=False)
    failed_below = {_clean_loc(e["loc"])[:n] for e in errors for n in range(len(e["loc"]))}
    for err in errors:
        loc = _clean_loc(err["loc"])
        if err["type"] == "too_short" and loc in failed_below:
            continue  # a list shortened by its own failing items
        if err["type"] == "extra_forbidden":
            unknown.setdefault(loc[:-1], []).append(str(loc[-1]))
            continue
        line = f"{where(loc)}: {_message(err)}"
        if line not in lines:
            lines.append(line)
    for parent, keys in unknown.items():
        lines.append(_unknown_keys_line(model, parent, keys, where))
    return lines


def _clean_loc(loc: Loc) -> Loc:
    """Drop the tags pydantic adds for unions, key checks and function validators."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (part.startswith(("function-", "tagged-union[", "union["))
                                      or part == "[key]"):
            continue
        out.append(part)
    return tuple(out)


_MESSAGES = {
    "missing": "missing (required)",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "string_type": "expected text",
    "date_type": "expected a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "expected a date (YYYY-MM-DD)",
    "date_parsing": "expected a date (YYYY-MM-DD)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "too_short": "must not be empty",
}


def _message(err: Mapping[str, Any]) -> str:
    if err["type"] == "spec":
        return str(err["ctx"]["message"])
    if err["type"] == "value_error":
        return str(err["ctx"]["error"])
    if err["type"] == "union_tag_invalid":
        ctx = err["ctx"]
        return (f"unknown {ctx['discriminator'].strip(chr(39))} {ctx['tag']!r} (choose one of "
                f"{ctx['expected_tags'].replace(chr(39), '')})")
    if err["type"] == "string_too_short" or err["type"] == "string_pattern_mismatch":
        return "must not be empty"
    got = "" if err["type"] == "missing" else f", got {err['input']!r}"
    if err["type"] in _MESSAGES:
        return _MESSAGES[err["type"]] + got
    return f"{err['msg'][0].lower()}{err['msg'][1:]}{got}"


def _unknown_keys_line(model: type[BaseModel], parent: Loc, keys: list[str],
                       where: Callable[[Loc], str]) -> str:
    allowed = allowed_keys(model, parent)
    text = f"unknown key(s) {keys}"
    if allowed:
        guesses = [g for k in keys for g in difflib.get_close_matches(k, allowed, n=1)]
        text += f"; allowed: {choices(allowed)}"
        if guesses:
            text += f" (did you mean {', '.join(repr(g) for g in guesses)}?)"
    return f"{where(parent)}: {text}"


def allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys a mapping at ``loc`` below ``model`` may have (empty when not a model there)."""
    target: Any = model
    for part in loc:
        target = _step(target, part)
        if target is None:
            return []
    target = _model_in(target)
    if target is None:
        return []
    return [f.alias or name for name, f in target.model_fields.items()]


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation one key below ``annotation``."""
    model = _model_in(annotation)
    if model is not None:
        by_key = {(f.alias or n): f for n, f in model.model_fields.items()}
        field = by_key.get(str(part))
        return field.annotation if field is not None else None
    for arg in _container_args(annotation):
        return arg
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class an annotation holds (through Annotated and Optional), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        models = [m for m in map(_model_in, typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None


def _container_args(annotation: Any) -> list[Any]:
    """Item type of a list/tuple, value type of a dict (through Annotated and Optional)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _container_args(args[0])
    if origin in (typing.Union, types.UnionType):
        return [a for arg in args for a in _container_args(arg)][:1]
    if origin in (list, tuple, set, frozenset):
        return [args[0]] if args else []
    if origin is dict:
        return [args[1]] if len(args) == 2 else []
    return []
