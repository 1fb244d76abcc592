"""Source specs: one YAML file per delivery layout (file pattern, reader, column and label maps).

A spec is data. Adding a delivery layout means adding a YAML file to the sources folder; no
reader code names a pilot. The structure of a spec is declared once in
:mod:`lvv_eval.ingest.spec_models` (:class:`SourceSpec`); :func:`load_spec` checks a file
against it so that every typo in a spec is reported at once, each naming the spec file and the
YAML path, never a silent default.

Keys of a spec (see ``lvv_eval/sources/*.yaml`` for the five deliveries):

- ``name``, ``pilot`` (one of config.PILOTS), ``description``.
- ``files``: list of ``{pattern (glob under the raw folder), reader: csv|excel, delimiter,
  encoding, header_row (1-based), sheets: [{name, header_row, constants}], constants, several}``;
  ``several: true`` allows more than one file to match the pattern (default: one file).
- ``max_lost_share``: the share of a table's rows that may be quarantined before the ingest
  fails (default :data:`DEFAULT_MAX_LOST_SHARE`).
- ``layout``: ``wide`` (a row per stay) or ``long`` (a row per event; then ``events.kinds``
  maps each event kind to the date field it fills, the field its value fills, and which kind
  opens a stay).
- ``columns``: raw header -> harmonised field (:data:`FIELDS`); ``ignore_columns``: headers that
  are delivered but not used. Any other header is an error.
- ``labels``: field -> {raw label: contract value}; matching ignores case and outer spaces;
  ``null`` means "known to mean unknown"; ``include: vocab/x.yaml`` merges a shared
  vocabulary (own entries win); for a table in several languages add ``language: nl`` (the
  country table ``vocab/countries.yaml``, see :mod:`lvv_eval.vocabulary`).
- ``flags``: ``{true: [...], false: [...], missing: [...]}`` for yes/no fields without labels.
- ``dates``: ``{formats: [strptime formats], excel_serial: bool, month_names: {word: month}}``.
- ``sentinels``: raw values meaning unknown (set missing by repair R_SENTINEL_TO_MISSING).
- ``codebooks``: ``[{field, pattern, code_column, label_column, delimiter, encoding}]``.
- ``recodes``: ``[{rule, field, map}]``: label -> label recodes run as the named repair (a
  repair of ``specs/repairs.yaml`` with action ``recode_labels``).
- ``constants``: field -> value for every row (e.g. ``data_cut_date``).
- ``derive``: ``[{field, method, ...}]`` (see :mod:`lvv_eval.ingest.derive`).
- ``participation``: ``{field}``: rows where that flag is false are non-participants.
- ``duplicates``: ``{cross_sheet: {prefer: {field: value}}}`` (see :mod:`lvv_eval.ingest.dedup`).
- ``source_id_is``: ``v_number`` when the source identifier is the person's V-number (then each
  person also gets ``v_key``, the cross-source key, in ``person_links``), ``client_number``
  (default) when it is the municipality's own number (linked through a crosswalk, if any).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from lvv_eval.config import SOURCES_DIR
from lvv_eval.ingest.errors import SpecError
from lvv_eval.ingest.spec_models import (
    BOOL_FIELDS,
    DATE_FIELDS,
    DEFAULT_MAX_LOST_SHARE,
    FIELDS,
    INT_FIELDS,
    LABEL_FIELDS,
    TEXT_FIELDS,
    CodebookSpec,
    FileSpec,
    RecodeSpec,
    SheetSpec,
    SourceSpec,
    load_repairs_file,
)
from lvv_eval.specfiles import read_mapping, read_yaml, validate_spec

__all__ = [
    "BOOL_FIELDS", "DATE_FIELDS", "FIELDS", "INT_FIELDS", "LABEL_FIELDS", "TEXT_FIELDS",
    "DEFAULT_MAX_LOST_SHARE", "CodebookSpec", "FileSpec", "RecodeSpec", "SheetSpec", "SourceSpec", "load_spec",
    "load_specs", "read_spec_mapping", "read_yaml", "validate_source_spec",
]


def read_spec_mapping(path: Path, what: str) -> dict[str, Any]:
    """A YAML file of the ingest's specs as a mapping; a :class:`SpecError` naming it otherwise."""
    return read_mapping(path, what, SpecError)


def validate_source_spec(
    mapping: Mapping[str, Any], path: Path | str, repair_actions: Mapping[str, str] | None = None,
) -> SourceSpec:
    """A parsed source spec checked against :class:`SourceSpec` (every problem at once, each
    with its YAML path). ``path`` names the spec in messages and is where ``include`` files are
    looked for (then in the package's sources folder); ``repair_actions`` (repair id -> action)
    are the repairs a recode may name (default: the package's repairs.yaml)."""
    path = Path(path)
    if repair_actions is None:
        repair_actions = {r.id: r.action for r in load_repairs_file().repairs}
    context = {"include_dirs": list(dict.fromkeys([path.parent, SOURCES_DIR])),
               "repair_actions": dict(repair_actions)}
    spec = validate_spec(SourceSpec, mapping, path, SpecError, context=context,
                         hint="Fix the YAML file and run again.", what="source spec")
    return spec.with_path(path)


def load_spec(path: Path, repair_actions: Mapping[str, str] | None = None) -> SourceSpec:
    """Load and check one source spec YAML file."""
    path = Path(path)
    return validate_source_spec(read_spec_mapping(path, "source spec"), path, repair_actions)


def load_specs(sources_dir: Path | None = None,
               repair_actions: Collection[str] | Mapping[str, str] | None = None) -> list[SourceSpec]:
    """All source specs in ``sources_dir`` (default: the package's ``sources/``), by file name."""
    folder = Path(sources_dir) if sources_dir is not None else SOURCES_DIR
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise SpecError(f"no source specs (*.yaml) in {folder}; add one YAML file per delivery layout")
    if repair_actions is None:
        repair_actions = {r.id: r.action for r in load_repairs_file().repairs}
    return [load_spec(p, dict(repair_actions)) for p in paths]
