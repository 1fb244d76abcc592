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
    "admission_date": ("instroom", "instroomdatum", "datum instroom", "start", "startdatum", "start opvang", "datum in",
                       "begin", "aanvang", "intake", "opname", "admission"),
    "exit_date": ("uitstroomdatum", "datum uitstroom", "einde", "einddatum", "einde opvang", "datum uit", "eind", "exit date",
                  "end"),
    "exit_reason": ("uitstroomreden", "reden uitstroom", "uitstroom", "uitstroomcode", "reden uit", "reden", "bestemming",
                    "exit reason"),
    "exclusion_reason": ("buiten doelgroep", "buiten convenant", "reden buiten convenant", "reden geen doelgroep",
                         "uitsluiting", "exclusion"),
    "birth_date": ("geboortedatum", "geb.datum", "birth date", "date of birth"),
    "birth_year": ("geboortejaar", "birth year"),
    "age_at_admission": ("leeftijd", "leeftijd bij instroom", "age"),
    "sex": ("geslacht", "sekse", "sex", "gender"),
    "country_of_origin": ("land van herkomst", "herkomstland", "nationaliteit", "land", "country", "nationality"),
    "family": ("gezin", "gezinssituatie", "family"),
    "safe_country": ("veilig land", "safe country"),
    "asylum_background": ("asielachtergrond", "asielverleden", "eerdere asielprocedure", "asiel eerder", "asylum"),
    "n_prior_departure_procedures": ("eerdere vertrekprocedures", "aantal vertrekprocedures", "vertrekprocedures",
                                     "departure procedures"),
    "shelter_24h": ("24 uur", "24-uurs", "24u", "opvang", "shelter"),
    "guidance_intensity": ("begeleiding", "begeleidingsintensiteit", "intensiteit", "guidance"),
    "scenario": ("scenario", "perspectief"),
    "scenario_date": ("datum scenario", "scenariodatum", "scenario date"),
    "mrt_referred": ("mrt", "mrt-aanmelding", "aanmelding mrt"),
    "mrt_date": ("datum mrt", "mrt datum"),
    "mrt_conclusion": ("conclusie mrt", "advies mrt", "uitkomst mrt", "mrt uitkomst", "mrt advies", "mrt conclusie"),
    "modified_date": ("laatst gewijzigd", "mutatiedatum", "gewijzigd", "vastgelegd op", "modified"),
    "data_cut_date": ("peildatum", "datum opmaak", "data cut"),
    "participates": ("deelname", "deelnemer", "participates"),
    "in_covenant": ("convenant", "binnen convenant"),
    "length_of_stay_days": ("verblijfsduur", "duur", "dagen", "length of stay"),
    "event_type": ("gebeurtenis", "soort gebeurtenis", "event"),
    "event_date": ("datum gebeurtenis", "datum"),
    "event_value": ("uitkomst", "waarde"),
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


def field_score(header: str, fld: str) -> float:
    """How well a header names a field (1 = one of its words exactly), by :data:`FIELD_WORDS`."""
    name = _norm(header)
    best = 0.0
    for word in FIELD_WORDS[fld]:
        w = _norm(word)
        score = 1.0 if name == w else difflib.SequenceMatcher(None, name, w).ratio()
        if score < CUTOFF and re.search(rf"\b{re.escape(w)}\b", name):
            score = CUTOFF + 0.1 * len(w) / max(len(name), 1)
        best = max(best, score)
    return best


def match_fields(headers: list[str]) -> dict[str, str]:
    """Header -> field, best matches first, each field at most once (others unmatched)."""
    pairs = sorted(((field_score(h, f), -i, h, f) for i, h in enumerate(headers) for f in FIELD_WORDS),
                   reverse=True)
    out: dict[str, str] = {}
    for score, _, header, fld in pairs:
        if score >= CUTOFF and header not in out and fld not in out.values():
            out[header] = fld
    return {h: out[h] for h in headers if h in out}


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


# dates in file names: (regular expression with one group, its format)
NAME_DATES: tuple[tuple[str, str], ...] = (
    (r"(20[0-9]{6})", "%Y%m%d"), (r"(20[0-9]{2}-[0-9]{2}-[0-9]{2})", "%Y-%m-%d"),
    (r"([0-9]{2}-[0-9]{2}-20[0-9]{2})", "%d-%m-%Y"),
)


def date_in_name(name: str) -> tuple[str, str, str] | None:
    """(text, pattern, format) of the first date a file name holds, or None."""
    for pattern, fmt in NAME_DATES:
        found = re.search(pattern, name)
        if found:
            try:
                pd.to_datetime(found.group(1), format=fmt)
            except ValueError:
                continue
            return found.group(1), pattern, fmt
    return None


def _q(text: object) -> str:
    """A YAML scalar in double quotes."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def draft_spec(path: Path, raw_dir: Path | None = None) -> str:
    """The YAML text of a starting source spec for the delivered file ``path`` (its pattern is
    relative to ``raw_dir`` when given)."""
    path = Path(path)
    found = read_delivery(path)
    pattern = path.relative_to(raw_dir).as_posix() if raw_dir is not None else path.name
    columns = match_fields(list(found.frame.columns))
    ignored = [h for h in found.frame.columns if h not in columns]
    out = [f"# Draft source spec for {path.name}, proposed by `lvv-eval spec draft`. Edit every TODO,",
           "# check the column matches, then run `lvv-eval spec check` on this file.",
           "# The keys are described in docs/SOURCE_SPECS.md.",
           f"name: {_q(re.sub(r'[^a-z0-9]+', '_', path.stem.lower()).strip('_'))}",
           f"pilot: {TODO}   # one of {', '.join(PILOTS)}",
           *(["layout: long   # TODO: a row per event: add events.kinds (docs/SOURCE_SPECS.md)"]
             if "event_type" in columns.values() else []),
           "files:", f"  - pattern: {_q(pattern)}", f"    reader: {found.reader}"]
    if found.reader == "csv":
        out += [f"    delimiter: {_q(found.delimiter)}", f"    encoding: {found.encoding}",
                f"    header_row: {found.header_row}"]
    else:
        out += [f"    sheets: [{{name: {_q(found.sheet)}, header_row: {found.header_row}}}]"]
    stamp = date_in_name(path.name)
    if stamp:
        out += [f"    data_cut_date_from_name: {{pattern: {_q(stamp[1])}, format: {_q(stamp[2])}}}"
                f"   # TODO: is {stamp[0]} in the name the data cut date?"]
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
