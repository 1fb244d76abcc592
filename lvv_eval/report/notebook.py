"""Small helpers notebooks call: check parameters, load the cleaned stays, save tables and figures.

A notebook run writes its tables to ``tables/*.csv`` and figures to ``figures/*.png`` in its
working folder (the report run folder), each marked SYNTHETIC when the data are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval.config import clean_dir
from lvv_eval.provenance import stays_provenance

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


def save_table(table: pd.DataFrame, name: str, synthetic: bool, folder: str | Path = "tables") -> Path:
    """Write ``table`` to ``<folder>/<name>.csv`` (a SYNTHETIC column when it is) and return the path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.csv"
    (table.assign(data="SYNTHETIC") if synthetic else table).to_csv(path, index=False)
    return path


def save_figure(fig: Any, name: str, folder: str | Path = "figures") -> Path:
    """Write a matplotlib figure to ``<folder>/<name>.png`` and return the path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
