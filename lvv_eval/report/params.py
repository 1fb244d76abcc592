"""Notebook parameters: declared once, shown by papermill, checked before anything runs.

A notebook declares its parameters in its cell tagged ``parameters``, one per line, in the form
papermill's ``inspect_notebook`` reads (``papermill --help-notebook`` shows them)::

    population: str = "in_covenant"  # population of the definitions file; choices: @populations
    horizon_days: int = 365  # cumulative incidence read at this many days; min: 1

The help text may end with ``choices: a, b, c`` (a fixed list) or ``choices: @name`` (a list
known at run time: ``@populations``, ``@reference_dates``, ``@schemes``, ``@classes`` of the
chosen scheme, ``@pilots``), and with ``min: N`` for numbers. Types: ``str``, ``int``,
``float``, ``bool``, ``list`` (of strings). A help text holds no ``=`` (papermill skips such a line).

The parameters every notebook takes are :data:`COMMON` (copy the block that
:func:`common_block` prints into a new notebook); a notebook's declaration of a common parameter
must match it (checked by :func:`notebook_parameters`). The runner (``lvv-eval report -p``)
and the notebook itself (:func:`check_values`, called by
:meth:`lvv_eval.report.present.Report.start`) refuse an unknown name or a bad value with a
:class:`ParameterError` naming the parameter and what is allowed.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from lvv_eval.config import PILOTS
from lvv_eval.errors import UserError

TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "list": list}
_CHOICES = re.compile(r"(?:^|[;,.]?\s+)choices:\s*(?P<choices>[^;]+?)\s*(?:;|$)")
_MIN = re.compile(r"(?:^|[;,.]?\s+)min:\s*(?P<min>-?[0-9.]+)\s*(?:;|$)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ParameterError(UserError, ValueError):
    """A notebook parameter that is unknown, of the wrong type or not allowed."""


@dataclass(frozen=True)
class Param:
    """One declared parameter: name, type, default, help, and what values are allowed."""

    name: str
    type: str
    default: Any
    help: str = ""
    choices: tuple[str, ...] = ()
    choices_from: str = ""
    minimum: float | None = None

    def line(self) -> str:
        """The declaration line of the parameters cell (papermill's ``name: type = default  # help``)."""
        tail = []
        if self.choices:
            tail.append("choices: " + ", ".join(self.choices))
        elif self.choices_from:
            tail.append(f"choices: @{self.choices_from}")
        if self.minimum is not None:
            tail.append(f"min: {self.minimum:g}")
        help_text = "; ".join([self.help, *tail]) if self.help else "; ".join(tail)
        return f"{self.name}: {self.type} = {_literal(self.default)}  # {help_text}"

    def allowed_text(self, known: Mapping[str, Iterable[str]] | None = None) -> str:
        """What values are allowed, in words."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.choices_from:
            values = list((known or {}).get(self.choices_from, ()))
            extra = " or a date YYYY-MM-DD" if self.choices_from == "reference_dates" else ""
            many = "any of " if self.type == "list" else "one of "
            return (many + ", ".join(map(str, values)) + extra) if values else f"@{self.choices_from}"
        kind = {"list": "a list of strings (a,b,c)", "bool": "true or false"}.get(self.type, f"a {self.type}")
        return kind + (f" >= {self.minimum:g}" if self.minimum is not None else "")


def _literal(value: Any) -> str:
    """A default as Python source, strings in double quotes."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


COMMON: dict[str, Param] = {p.name: p for p in (
    Param("population", "str", "in_covenant", "population of the definitions file",
          choices_from="populations"),
    Param("pilots", "list", [], "pilots to include (empty: all)", choices_from="pilots"),
    Param("reference_date", "str", "ee2022",
          "reference date: a name in the definitions file or YYYY-MM-DD",
          choices_from="reference_dates"),
    Param("definitions", "str", "", "definitions YAML or sensitivity grid (empty: the package's)"),
    Param("lang", "str", "nl", "report language", choices=("nl", "en")),
    Param("scheme", "str", "ee2022", "outcome scheme of the definitions file",
          choices_from="schemes"),
    Param("classes", "list", [], "outcome classes shown (empty: every class of the scheme)",
          choices_from="classes"),
    Param("stays_path", "str", "", "stays table (empty: data_clean/stays.parquet)"),
)}
"""The parameters every notebook takes, in the order of its parameters cell."""


def common_block() -> str:
    """The lines of :data:`COMMON` for a notebook's parameters cell."""
    return "\n".join(p.line() for p in COMMON.values())


def parse_help(help_text: str) -> tuple[str, tuple[str, ...], str, float | None]:
    """``(help, choices, choices_from, minimum)`` from a declaration's help comment."""
    choices: tuple[str, ...] = ()
    choices_from = ""
    minimum = None
    text = help_text
    m = _CHOICES.search(text)
    if m:
        raw = m["choices"].strip()
        if raw.startswith("@"):
            choices_from = raw[1:].strip()
        else:
            choices = tuple(c.strip() for c in raw.split(",") if c.strip())
        text = text.replace(m.group(0), "")
    m = _MIN.search(text)
    if m:
        minimum = float(m["min"])
        text = text.replace(m.group(0), "")
    return text.strip(" ;"), choices, choices_from, minimum


def _declarations(source: str) -> list[tuple[ast.AnnAssign | ast.Assign, str]]:
    """Each assignment of a cell with the comment at the end of its last line."""
    lines = source.splitlines()
    out = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.AnnAssign | ast.Assign):
            continue
        last = lines[node.end_lineno - 1]
        tail = last[node.end_col_offset:]
        comment = tail.split("#", 1)[1].strip() if "#" in tail else ""
        out.append((node, comment))
    return out


def parse_cell(source: str, origin: str = "parameters cell") -> dict[str, Param]:
    """The parameters a ``parameters`` cell declares: ``name: type = literal  # help`` per line,
    as papermill's ``inspect_notebook`` reads them (checked against it by the tests)."""
    params: dict[str, Param] = {}
    try:
        declarations = _declarations(source)
    except SyntaxError as exc:
        raise ParameterError(f"{origin}: the parameters cell is not valid Python: {exc}") from exc
    for node, comment in declarations:
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
        name = getattr(target, "id", "?")
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.annotation, ast.Name):
            raise ParameterError(f"{origin}: {name}: declare a type, one of {', '.join(TYPES)} "
                                 f"(`{name}: str = ...`)")
        type_name = node.annotation.id
        if type_name not in TYPES:
            raise ParameterError(f"{origin}: {name}: type {type_name!r}; use one of {', '.join(TYPES)}")
        try:
            default = ast.literal_eval(node.value) if node.value is not None else None
        except ValueError as exc:
            raise ParameterError(f"{origin}: {name}: the default is not a literal") from exc
        help_text, choices, choices_from, minimum = parse_help(comment)
        params[name] = Param(name, type_name, default, help_text, choices, choices_from, minimum)
    return params


def parameters_cell(path: Path) -> str:
    """The source of a notebook's cell tagged ``parameters`` (a jupytext percent ``.py`` file or
    an ``.ipynb``), read without starting jupytext."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        for cell in json.loads(text).get("cells", []):
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                source = cell.get("source", "")
                return "".join(source) if isinstance(source, list) else source
        raise ParameterError(f"{path}: no cell tagged 'parameters'")
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("# %%")]
    for i, start in enumerate(starts):
        if re.search(r"tags=\[[^\]]*[\"']parameters[\"']", lines[start]):
            end = starts[i + 1] if i + 1 < len(starts) else len(lines)
            return "\n".join(lines[start + 1:end])
    raise ParameterError(f"{path}: no cell tagged 'parameters' (a line `# %% tags=[\"parameters\"]`)")


def notebook_parameters(path: str | Path) -> dict[str, Param]:
    """The parameters a notebook (jupytext ``.py`` or ``.ipynb``) declares; a
    :class:`ParameterError` when it lacks a common parameter or declares one differently."""
    path = Path(path)
    params = parse_cell(parameters_cell(path), str(path))
    problems = []
    for name, common in COMMON.items():
        mine = params.get(name)
        if mine is None:
            problems.append(f"{name} missing (add: {common.line()})")
        elif (mine.type, mine.default, mine.choices, mine.choices_from) != (
                common.type, common.default, common.choices, common.choices_from):
            problems.append(f"{name} declared differently from the common declaration "
                            f"({common.line()})")
    if problems:
        raise ParameterError(f"{path}: " + "; ".join(problems))
    return params


@dataclass
class Known:
    """The values the ``@name`` choices stand for, filled lazily from the definitions file."""

    definitions: str = ""
    scheme: str = ""
    _cache: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> tuple[str, ...]:
        if key not in self._cache:
            self._cache[key] = tuple(self._lookup(key))
        return self._cache[key]

    def get(self, key: str, default: Any = ()) -> tuple[str, ...]:
        try:
            return self[key]
        except KeyError:
            return default

    def _lookup(self, key: str) -> Iterable[str]:
        if key == "pilots":
            return PILOTS
        defs = load_definitions_or_grid(self.definitions)
        if key == "populations":
            return defs.populations
        if key == "reference_dates":
            return defs.reference_dates
        if key == "schemes":
            return defs.outcome_schemes
        if key == "classes":
            scheme = defs.outcome_schemes.get(self.scheme) or {}
            return list(scheme.get("classes", {}))
        raise KeyError(key)


def load_definitions_or_grid(path: str | Path = "") -> Any:
    """The :class:`~lvv_eval.measures.definitions.Definitions` a ``definitions`` parameter names:
    the package's (empty), a definitions YAML, or the base definitions of a sensitivity grid
    (read once per file version in a process)."""
    from lvv_eval.measures.definitions import DEFINITIONS_YAML

    file = Path(path) if path else DEFINITIONS_YAML
    if not file.is_file():
        raise ParameterError(f"definitions={str(path)!r}: no such file")
    stat = file.stat()
    return _load_definitions_or_grid(str(file.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load_definitions_or_grid(file: str, mtime_ns: int, size: int) -> Any:
    from lvv_eval.measures.definitions import (
        DefinitionsError,
        load_definitions,
        load_definitions_mapping,
    )

    path = Path(file)
    if is_grid_file(path):
        from lvv_eval.sensitivity.grid import load_grid
        from lvv_eval.sensitivity.specs import base_definitions_raw, merge_patch

        grid = load_grid(path)
        raw = merge_patch(base_definitions_raw(None), grid.spec.base)
        return load_definitions_mapping(raw, path)
    try:
        return load_definitions(path)
    except DefinitionsError as exc:
        raise ParameterError(f"definitions={str(path)!r}: {exc}") from exc


def is_grid_file(path: str | Path) -> bool:
    """Whether a YAML file is a sensitivity grid (it has ``axes``) rather than definitions."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and "axes" in raw


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1", "yes", "ja"):
        return True
    if low in ("false", "0", "no", "nee"):
        return False
    raise ValueError(text)


_FROM_TEXT: dict[str, Callable[[str], Any]] = {
    "str": str, "int": int, "float": float, "bool": _parse_bool,
    "list": lambda t: [v.strip() for v in t.split(",") if v.strip()],
}


def coerce(param: Param, value: Any) -> Any:
    """``value`` in the parameter's type (text from the command line converted); a
    :class:`ParameterError` when it cannot be."""
    try:
        if isinstance(value, str) and param.type != "str":
            text = value.strip()
            if param.type == "list" and text.startswith("["):
                value = ast.literal_eval(text)
            else:
                value = _FROM_TEXT[param.type](text)
        if param.type == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if param.type == "list" and isinstance(value, tuple):
            value = list(value)
    except (ValueError, SyntaxError):
        pass
    expected = TYPES[param.type]
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if ok and param.type == "list":
        ok = all(isinstance(v, str) for v in value)
    if not ok:
        raise ParameterError(f"parameter {param.name}={value!r}: expected {param.allowed_text()}")
    return value


def _check_allowed(param: Param, value: Any, known: Known) -> str | None:
    if param.minimum is not None and value < param.minimum:
        return f"parameter {param.name}={value!r}: must be >= {param.minimum:g}"
    if not (param.choices or param.choices_from):
        return None
    allowed = param.choices or known[param.choices_from]
    values = value if param.type == "list" else [value]
    bad = [v for v in values if v not in allowed]
    if param.choices_from == "reference_dates":
        bad = [v for v in bad if not _is_iso_date(v)]
    if bad:
        return (f"parameter {param.name}={value!r}: {', '.join(map(repr, bad))} not allowed; "
                f"choose {param.allowed_text(known)}")
    return None


def _is_iso_date(text: str) -> bool:
    if not _DATE.match(str(text)):
        return False
    try:
        date.fromisoformat(str(text))
    except ValueError:
        return False
    return True


def unknown_names(names: Iterable[str], declared: Iterable[str]) -> list[str]:
    """Problems for names nobody declared, each with the closest declared name."""
    declared = list(declared)
    out = []
    for name in names:
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            out.append(f"unknown parameter {name!r}{hint}; known: {', '.join(sorted(declared))}")
    return out


def check_values(values: Mapping[str, Any], declared: Mapping[str, Param],
                 origin: str = "notebook") -> dict[str, Any]:
    """Every declared parameter with its value (default where none is given), converted and
    checked; a :class:`ParameterError` listing every unknown name and bad value."""
    problems = unknown_names(values, declared)
    out: dict[str, Any] = {}
    for name, param in declared.items():
        try:
            out[name] = coerce(param, values[name]) if name in values else param.default
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError(f"{origin}: " + "; ".join(problems))
    known = Known(str(out.get("definitions", "")), str(out.get("scheme", "")))
    for name, param in declared.items():
        try:
            problem = _check_allowed(param, out[name], known)
        except ParameterError as exc:
            problem = str(exc)
        if problem:
            problems.append(problem)
    if problems:
        raise ParameterError(f"{origin}: " + "; ".join(problems))
    return out


def with_default(param: Param, default: Any) -> Param:
    """A copy of ``param`` with another default."""
    return replace(param, default=default)
