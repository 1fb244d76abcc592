"""Small helpers notebooks call: check parameters, load the cleaned stays, save tables and figures.

A notebook run writes its tables to ``tables/*.csv`` and figures to ``figures/*.png`` in its
working folder (the report run folder), each marked SYNTHETIC when the data are. Every table and
figure goes through the run's disclosure gate (:func:`report_gate`, see
:mod:`lvv_eval.disclosure`): tables are written as checked, a figure only when it draws nothing
but values its gated source tables show, and each save updates the run's record
(``disclosure.json``, ``.csv``, ``.html``). ``lvv-eval report`` puts the gate's settings (policy,
exception requests, the unchecked switch for SYNTHETIC data) in ``disclosure_settings.json`` in
the run folder; without that file the package's policy applies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval.config import clean_dir
from lvv_eval.disclosure import CheckedCurves, CheckedTable, DisclosureGate
from lvv_eval.provenance import stays_provenance

DISCLOSURE_SETTINGS = "disclosure_settings.json"
TABLES_INDEX = "tables.json"
"""Every table a notebook showed, for the run's workbook and ``lvv-eval diff``."""
_GATES: dict[tuple[Path, bool], DisclosureGate] = {}

SYNTHETIC_BANNER = {
    "nl": "**SYNTHETISCHE GEGEVENS** - geen echte personen; cijfers tonen de werking van de toolkit.",
    "en": "**SYNTHETIC DATA** - no real people; figures demonstrate the toolkit.",
}
UNKNOWN_BANNER = {
    "nl": "**HERKOMST ONBEKEND** - naast dit bestand staat geen ingest-manifest; de gegevens zijn niet als "
          "synthetisch gemarkeerd en kunnen echte personen betreffen.",
    "en": "**PROVENANCE UNKNOWN** - no ingest manifest beside this file; the data are not marked synthetic "
          "and may describe real people.",
}


class ParameterError(ValueError):
    """A notebook parameter has the wrong type or an unknown value."""


def check_parameters(values: Mapping[str, Any], expected: Mapping[str, type | tuple]) -> None:
    """Raise :class:`ParameterError` naming every parameter whose type or value is not allowed.

    ``expected`` maps a name to a type, or to a tuple of allowed values.
    """
    problems = []
    for name, rule in expected.items():
        if name not in values:
            problems.append(f"{name}: missing")
            continue
        value = values[name]
        if isinstance(rule, tuple):
            if value not in rule:
                problems.append(f"{name}={value!r}: choose one of {', '.join(map(repr, rule))}")
        elif not isinstance(value, rule):
            problems.append(f"{name}={value!r}: expected {rule.__name__}")
    if problems:
        raise ParameterError("notebook parameters: " + "; ".join(problems))


def provenance(path: str | Path = "") -> str:
    """``"synthetic"``, ``"real"`` or ``"unknown"`` for a stays file (see
    :func:`lvv_eval.provenance.stays_provenance`)."""
    return stays_provenance(Path(path) if path else clean_dir() / "stays.parquet")


def load_stays(path: str | Path = "") -> tuple[pd.DataFrame, bool]:
    """The cleaned stays (default ``data_clean/stays.parquet``) and whether they are SYNTHETIC: only
    when the ingest manifest beside them (or the generator's marker) says so, never by default."""
    path = Path(path) if path else clean_dir() / "stays.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `lvv-eval ingest` (or `make run`) first")
    return pd.read_parquet(path), provenance(path) == "synthetic"


def banner(synthetic: bool | str, lang: str = "nl") -> str:
    """Markdown banner for the data's provenance: SYNTHETIC, "provenance unknown" (pass the string
    of :func:`provenance`), or empty for real data."""
    if synthetic == "unknown":
        return UNKNOWN_BANNER[lang]
    return SYNTHETIC_BANNER[lang] if synthetic in (True, "synthetic") else ""


def report_gate(synthetic: bool, folder: str | Path = ".") -> DisclosureGate:
    """The disclosure gate of the run in ``folder`` (one per folder and kernel), configured by the
    run's ``disclosure_settings.json`` when there is one."""
    root = Path(folder).resolve()
    key = (root, bool(synthetic))
    if key not in _GATES:
        settings_file = root / DISCLOSURE_SETTINGS
        settings = (json.loads(settings_file.read_text(encoding="utf-8"))
                    if settings_file.exists() else {})
        _GATES[key] = DisclosureGate.from_policy(
            settings.get("policy") or None, synthetic=synthetic,
            unchecked=bool(settings.get("unchecked", False)),
            exceptions=settings.get("exceptions") or None)
    return _GATES[key]


def _current_gate(synthetic: bool | None) -> DisclosureGate:
    if synthetic is not None:
        return report_gate(synthetic)
    here = [g for (root, _), g in _GATES.items() if root == Path(".").resolve()]
    return here[-1] if here else report_gate(False)


def save_table(table: pd.DataFrame | CheckedTable | CheckedCurves, name: str, synthetic: bool,
               folder: str | Path = "tables", **roles: Any) -> Path:
    """Write ``table`` through the run's gate to ``<folder>/<name>.csv`` and return the path.

    ``table`` is a checked table (``gate.table(...)``, ``gate.rates(...)``, ...) or a plain
    DataFrame checked here with the ``roles`` given (``counts=[...]``, ``dims=[...]``, ...; see
    :meth:`~lvv_eval.disclosure.DisclosureGate.table`). A SYNTHETIC column marks synthetic data.
    """
    gate = report_gate(synthetic)
    if not isinstance(table, CheckedTable | CheckedCurves):
        table = gate.table(table, name, **roles)
    extra = {"data": "SYNTHETIC"} if synthetic else None
    path = gate.write_table(table, Path(folder) / f"{name}.csv", extra=extra,
                            record_root=Path("."))
    gate.save_record(".")
    return path


def save_figure(fig: Any, name: str, folder: str | Path = "figures", *,
                sources: Sequence[CheckedTable | CheckedCurves] = (), synthetic: bool | None = None,
                axis: str = "y") -> Path | None:
    """Write a matplotlib figure to ``<folder>/<name>.png`` if every value it draws (on ``axis``)
    is shown in the gated ``sources``; returns the path, or None when the figure is withheld
    (the record says why)."""
    gate = _current_gate(synthetic)
    path = gate.write_figure(fig, Path(folder) / f"{name}.png", sources, axis=axis,
                             record_root=Path("."))
    gate.save_record(".")
    return path
