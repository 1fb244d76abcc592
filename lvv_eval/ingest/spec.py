"""Source specs: one YAML file per delivery layout (file pattern, reader, column and label maps).

A spec is data. Adding a delivery layout means adding a YAML file to a specs folder; no reader
code names a pilot. The guide for data managers, with every key and a worked example, is
``docs/SOURCE_SPECS.md``. The package's ``sources/`` describe the SYNTHETIC default; the real
deliveries' specs live beside the data (``$LVV_DATA_ROOT/specs/``, or ``--specs-dir``; see
:func:`specs_folder`), with their vocabularies and an optional ``repairs.yaml`` of their own. The structure of a spec is declared once in
:mod:`lvv_eval.ingest.spec_models` (:class:`SourceSpec`); :func:`load_spec` checks a file
against it so that every typo in a spec is reported at once, each naming the spec file and the
YAML path, never a silent default.

Keys of a spec (see ``lvv_eval/sources/*.yaml`` for the five deliveries):

- ``name``, ``pilot`` (one of config.PILOTS), ``description``.
- ``files``: list of ``{pattern (glob under the raw folder), reader: csv|excel, delimiter,
  encoding, header_row (1-based), header_search_rows, sheets: [{name, header_row, constants}],
  constants, several, footer: {rows, starts_with}, data_cut_date_from_name: {pattern, format}}``;
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
- ``dates``: ``{formats: [strptime formats], columns: {column: [formats]}, excel_serial: bool,
  month_names: {word: month}}``.
- ``combine``: ``[{field, columns, separator}]``: a field written over several raw columns.
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

from lvv_eval.config import SOURCES_DIR, user_specs_dir
from lvv_eval.ingest.errors import SpecError
from lvv_eval.ingest.spec_models import (
    BOOL_FIELDS,
    DATE_FIELDS,
    DEFAULT_MAX_LOST_SHARE,
    FIELDS,
    INT_FIELDS,
    LABEL_FIELDS,
    REPAIRS_FILE,
    TEXT_FIELDS,
    CodebookSpec,
    FileSpec,
    RecodeSpec,
    Repair,
    SheetSpec,
    SourceSpec,
    load_repairs_file,
)
from lvv_eval.specfiles import read_mapping, read_yaml, validate_spec

__all__ = [
    "BOOL_FIELDS", "DATE_FIELDS", "FIELDS", "INT_FIELDS", "LABEL_FIELDS", "TEXT_FIELDS",
    "DEFAULT_MAX_LOST_SHARE", "CodebookSpec", "FileSpec", "RecodeSpec", "SheetSpec", "SourceSpec", "load_spec",
    "load_specs", "read_spec_mapping", "read_yaml", "validate_source_spec", "specs_folder", "folder_repairs",
    "SPEC_FOLDER_FILES",
]

# files of a specs folder that are not source specs
EXTRA_REPAIRS = "repairs.yaml"
SPEC_FOLDER_FILES: tuple[str, ...] = (EXTRA_REPAIRS,)


def specs_folder(explicit: Path | None = None, synthetic: bool = False) -> Path | None:
    """The folder of source specs an ingest reads: ``explicit`` (``--specs-dir``), else for
    deliveries not marked SYNTHETIC ``$LVV_DATA_ROOT/specs/`` when it holds YAML files; None
    means the package's own specs (which describe the SYNTHETIC default)."""
    if explicit is not None:
        folder = Path(explicit)
        if not folder.is_dir():
            raise SpecError(f"specs folder {folder} does not exist (--specs-dir); name the folder that holds "
                            f"the source specs (*.yaml), or leave the option out")
        return folder
    user = user_specs_dir()
    if not synthetic and user.is_dir() and any(user.glob("*.yaml")):
        return user
    return None


def folder_repairs(folder: Path | None) -> list[Repair]:
    """The package's repairs followed by those of ``repairs.yaml`` in a specs folder (new ids
    only: a recode of a real delivery names its own repair there)."""
    repairs = list(load_repairs_file(REPAIRS_FILE).repairs)
    extra_path = Path(folder) / EXTRA_REPAIRS if folder is not None else None
    if extra_path is None or not extra_path.is_file():
        return repairs
    extra = list(load_repairs_file(extra_path).repairs)
    known = {r.id for r in repairs}
    clash = [r.id for r in extra if r.id in known]
    if clash:
        raise SpecError(extra_path, [f"repairs: id(s) {clash} are repairs of the package; give your "
                                     f"repairs their own ids"], "Fix the YAML file and run again.", "repairs file")
    return repairs + extra


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
        repair_actions = {r.id: r.action for r in folder_repairs(path.parent)}
    context = {"include_dirs": list(dict.fromkeys([path.parent, SOURCES_DIR])),
               "repair_actions": dict(repair_actions)}
    spec = validate_spec(SourceSpec, mapping, path, SpecError, context=context,
                         hint="Fix the YAML file and run again.", what="source spec")
    return spec.with_path(path)


def load_spec(path: Path, repair_actions: Mapping[str, str] | None = None) -> SourceSpec:
    """Load and check one source spec YAML file."""
    path = Path(path)
    return validate_source_spec(read_spec_mapping(path, "source spec"), path, repair_actions)


def spec_paths(folder: Path) -> list[Path]:
    """The source spec files of a folder (``*.yaml`` except :data:`SPEC_FOLDER_FILES`), by name."""
    return sorted(p for p in Path(folder).glob("*.yaml") if p.name not in SPEC_FOLDER_FILES)


def load_specs(sources_dir: Path | None = None,
               repair_actions: Collection[str] | Mapping[str, str] | None = None) -> list[SourceSpec]:
    """All source specs in ``sources_dir`` (default: the package's ``sources/``), by file name;
    a recode may name a repair of the package or of the folder's ``repairs.yaml``."""
    folder = Path(sources_dir) if sources_dir is not None else SOURCES_DIR
    paths = spec_paths(folder)
    if not paths:
        raise SpecError(f"no source specs (*.yaml) in {folder}; add one YAML file per delivery layout")
    if repair_actions is None:
        repair_actions = {r.id: r.action for r in folder_repairs(sources_dir)}
    return [load_spec(p, dict(repair_actions)) for p in paths]


def check_spec_files(files: Collection[Path], specs_dir: Path | None = None,
                     raw_dir: Path | None = None) -> tuple[list[Path], list[str]]:
    """Validate source spec files (default: every spec of the specs folder the ingest reads)
    without ingesting, and with ``raw_dir`` whether each fits its delivery there; returns the
    files checked and one ``file: key: problem`` line per problem."""
    from lvv_eval.ingest.diagnose import fit_problems

    paths = [Path(f) for f in files]
    if not paths:
        folder = specs_folder(specs_dir) or SOURCES_DIR
        paths = spec_paths(folder)
        if not paths:
            raise SpecError(f"no source specs (*.yaml) in {folder}")
    lines: list[str] = []
    for path in paths:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            lines += [f"{path}: {p}" for p in exc.problems] if exc.path is not None else [f"{path}: {exc}"]
            continue
        if raw_dir is not None:
            lines += [f"{path}: {p}" for p in fit_problems(spec, Path(raw_dir))]
    return paths, lines
