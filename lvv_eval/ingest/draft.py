"""A starting source spec proposed from one delivered file (``lvv-eval spec draft``).

The draft is a YAML text the data manager edits: the file's reader, delimiter, encoding and
header row as found; each column matched to a harmonised field by its name (words that Dutch
and English deliveries use for it), the others under ``ignore_columns``; the date format that
reads a date column; the distinct labels of each label and yes/no column listed for mapping,
each with ``TODO`` where a contract value is to be chosen (``lvv-eval spec check`` names every
one still open). Values of the identifier, of date columns and of columns with many distinct
values (free text) are never written into the draft.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lvv_eval.config import PILOTS
from lvv_eval.ingest.diagnose import suggest_date_format
from lvv_eval.ingest.errors import IngestError
from lvv_eval.ingest.readers import DELIMITERS, _header_cells, column_text, open_workbook
from lvv_eval.ingest.spec_models import BOOL_FIELDS, DATE_FIELDS, LABEL_FIELDS, _allowed_values

TODO = "TODO"
MAX_LABELS = 40  # more distinct values than this: free text, not listed
HEADER_ROWS_SEARCHED = 20
ENCODINGS = ("utf-8", "cp1252")
# words in a column header that point to a field (lower case; Dutch and English)
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "source_id": ("clientnummer", "cliëntnummer", "clientnr", "client", "v-nummer", "vnummer", "id", "registratienummer"),
    "admission_date": ("instroom", "instroomdatum", "start", "startdatum", "begin", "aanvang", "intake", "opname",
                       "admission"),
    "exit_date": ("uitstroom", "uitstroomdatum", "einde", "einddatum", "eind", "exit", "end"),
    "exit_reason": ("uitstroomreden", "reden uitstroom", "uitstroom", "reden", "bestemming", "exit reason"),
    "exclusion_reason": ("buiten doelgroep", "buiten convenant", "uitsluiting", "exclusion"),
    "birth_date": ("geboortedatum", "geb.datum", "birth date", "date of birth"),
    "birth_year": ("geboortejaar", "birth year"),
    "age_at_admission": ("leeftijd", "age"),
    "sex": ("geslacht", "sekse", "sex", "gender"),
    "country_of_origin": ("land van herkomst", "herkomstland", "nationaliteit", "land", "country", "nationality"),
    "family": ("gezin", "gezinssituatie", "family"),
    "safe_country": ("veilig land", "safe country"),
    "asylum_background": ("asielachtergrond", "asielverleden", "asylum"),
    "n_prior_departure_procedures": ("eerdere vertrekprocedures", "vertrekprocedures", "departure procedures"),
    "shelter_24h": ("24 uur", "24-uurs", "24u", "opvang", "shelter"),
    "guidance_intensity": ("begeleiding", "begeleidingsintensiteit", "intensiteit", "guidance"),
    "scenario": ("scenario", "perspectief"),
    "scenario_date": ("datum scenario", "scenariodatum", "scenario date"),
    "mrt_referred": ("mrt", "mrt-aanmelding", "aanmelding mrt"),
    "mrt_date": ("datum mrt", "mrt datum"),
    "mrt_conclusion": ("conclusie mrt", "advies mrt", "mrt advies", "mrt conclusie"),
    "modified_date": ("laatst gewijzigd", "mutatiedatum", "gewijzigd", "modified"),
    "data_cut_date": ("peildatum", "datum opmaak", "data cut"),
    "participates": ("deelname", "deelnemer", "participates"),
    "in_covenant": ("convenant", "binnen convenant"),
    "length_of_stay_days": ("verblijfsduur", "duur", "dagen", "length of stay"),
}
CUTOFF = 0.75


@dataclass
class Delivery:
    """What was read from the file: its layout and its columns (as text)."""

    reader: str
    encoding: str
    delimiter: str
    header_row: int
    sheet: str
    frame: pd.DataFrame


def _norm(text: str) -> str:
    return re.sub(r"[\s_()/.:-]+", " ", text.casefold()).strip()


def match_field(header: str, taken: set[str]) -> str | None:
    """The field a header names best (by the words of :data:`FIELD_WORDS`), not yet taken."""
    name = _norm(header)
    best: tuple[float, str | None] = (0.0, None)
    for fld, words in FIELD_WORDS.items():
        if fld in taken:
            continue
        for word in words:
            w = _norm(word)
            score = 1.0 if name == w else difflib.SequenceMatcher(None, name, w).ratio()
            if score < CUTOFF and re.search(rf"\b{re.escape(w)}\b", name):
                score = CUTOFF + 0.1 * len(w) / max(len(name), 1)
            if score > best[0]:
                best = (score, fld)
    return best[1] if best[0] >= CUTOFF else None


def _header_row(rows: list[list[str]]) -> int:
    """The first of the first rows with the most filled cells, none of them a number or date."""
    def score(row: list[str]) -> int:
        cells = [c for c in row if c]
        if any(re.fullmatch(r"[\d\s.,/:-]+", c) for c in cells):
            return 0
        return len(cells)
    scores = [score(_header_cells(r)) for r in rows[:HEADER_ROWS_SEARCHED]]
    return scores.index(max(scores)) + 1 if scores and max(scores) else 1


def read_delivery(path: Path) -> Delivery:
    """A delivered file's columns as text, with the layout found (CSV or Excel)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        wb = open_workbook(path, path.name)
        sheet = wb.sheet_names[0]
        rows = [["" if c is None else str(c) for c in r] for r in wb.get_sheet_by_name(sheet).to_python()]
        header = _header_row(rows)
        cells = _header_cells(rows[header - 1])
        body = rows[header:]
        width = len(cells)
        frame = pd.DataFrame({h: column_text([(r + [""] * width)[i] for r in body])
                              for i, h in enumerate(cells) if h})
        return Delivery("excel", "", "", header, sheet, frame)
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise IngestError(f"file {path}: neither UTF-8 nor cp1252 text; re-export it as CSV")
    lines = text.splitlines()
    head = "\n".join(lines[:HEADER_ROWS_SEARCHED])
    delimiter = max(DELIMITERS, key=lambda d: (head.count(d), -DELIMITERS.index(d)))
    rows = [next(csv.reader([line], delimiter=delimiter), []) for line in lines]
    header = _header_row(rows)
    cells = _header_cells(rows[header - 1])
    body = [r for r in rows[header:] if any(c.strip() for c in r)]
    width = len(cells)
    frame = pd.DataFrame([(r + [""] * width)[:width] for r in body], columns=cells, dtype="str").replace("", None)
    return Delivery("csv", encoding, delimiter, header, "", frame)


def _q(text: object) -> str:
    """A YAML scalar in double quotes."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def draft_spec(path: Path, raw_dir: Path | None = None) -> str:
    """The YAML text of a starting source spec for the delivered file ``path`` (its pattern is
    relative to ``raw_dir`` when given)."""
    path = Path(path)
    found = read_delivery(path)
    pattern = path.relative_to(raw_dir).as_posix() if raw_dir is not None else path.name
    columns: dict[str, str] = {}
    for header in found.frame.columns:
        fld = match_field(header, set(columns.values()))
        if fld is not None:
            columns[header] = fld
    ignored = [h for h in found.frame.columns if h not in columns]
    out = [f"# Draft source spec for {path.name}, proposed by `lvv-eval spec draft`. Edit every TODO,",
           "# check the column matches, then run `lvv-eval spec check` on this file.",
           "# The keys are described in docs/SOURCE_SPECS.md.",
           f"name: {_q(re.sub(r'[^a-z0-9]+', '_', path.stem.lower()).strip('_'))}",
           f"pilot: {TODO}   # one of {', '.join(PILOTS)}",
           "files:", f"  - pattern: {_q(pattern)}", f"    reader: {found.reader}"]
    if found.reader == "csv":
        out += [f"    delimiter: {_q(found.delimiter)}", f"    encoding: {found.encoding}",
                f"    header_row: {found.header_row}"]
    else:
        out += [f"    sheets: [{{name: {_q(found.sheet)}, header_row: {found.header_row}}}]"]
    stamp = re.search(r"(20\d{6})", path.stem)
    if stamp:
        out += [f"    data_cut_date_from_name: {{pattern: {_q('(20[0-9]{6})')}, format: {_q('%Y%m%d')}}}"
                f"   # TODO: is {stamp.group(1)} in the name the data cut date?"]
    out += ["columns:"] + [f"  {_q(h)}: {f}" for h, f in columns.items()]
    out += ["ignore_columns:   # TODO: map what belongs in the stays contract (see docs/SOURCE_SPECS.md)"]
    out += [f"  - {_q(h)}" for h in ignored] or ["  []"]
    if not stamp and "data_cut_date" not in columns.values():
        out += ["constants:", "  # data_cut_date: \"YYYY-MM-DD\"   # TODO: the date the delivery was drawn up"]
    out += _dates_block(found.frame, columns) + _labels_block(found.frame, columns)
    derive = []
    if "birth_date" in columns.values() and "age_at_admission" not in columns.values():
        derive.append("  - {field: age_at_admission, method: age_from_birth_date}")
    if "birth_year" in columns.values() and "age_at_admission" not in columns.values():
        derive.append("  - {field: age_at_admission, method: age_from_birth_year}")
    if "exclusion_reason" in columns.values():
        derive.append("  - {field: in_covenant, method: covenant_from_exclusion}")
    if derive:
        out += ["derive:"] + derive
    return "\n".join(out) + "\n"


def _dates_block(frame: pd.DataFrame, columns: dict[str, str]) -> list[str]:
    formats: list[str] = []
    months = False
    for header, fld in columns.items():
        if fld not in DATE_FIELDS:
            continue
        values = frame[header].dropna().astype(str).unique()[:500]
        fmt, needs_months = suggest_date_format(values) if len(values) else (None, False)
        months |= needs_months
        if fmt and fmt not in formats:
            formats.append(fmt)
    if not formats:
        return []
    lines = ["dates:", f"  formats: [{', '.join(_q(f) for f in formats)}]"]
    if months:
        lines.append("  month_names: {januari: 1, februari: 2, maart: 3, april: 4, mei: 5, juni: 6, juli: 7, "
                     "augustus: 8, september: 9, oktober: 10, november: 11, december: 12}")
    return lines


def _labels_block(frame: pd.DataFrame, columns: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for header, fld in columns.items():
        if fld not in LABEL_FIELDS and fld not in BOOL_FIELDS:
            continue
        values = sorted(frame[header].dropna().astype(str).str.strip().unique())
        if not values or len(values) > MAX_LABELS:
            lines.append(f"  # {fld}: {len(values)} distinct values in '{header}': map them here or use a vocabulary")
            continue
        allowed = _allowed_values(fld)
        choose = ", ".join(str(a).lower() if isinstance(a, bool) else str(a) for a in allowed) if allowed else "any"
        lines.append(f"  {fld}:   # choose from: {choose}; null = known to mean unknown")
        lines += [f"    {_q(v)}: {TODO}" for v in values]
    return (["labels:"] + lines) if lines else []
