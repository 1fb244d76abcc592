"""What every notebook calls: its parameters checked, the stays selected, tables and figures shown.

A notebook is a parameters cell (see :mod:`lvv_eval.report.params`) and a short sequence of
calls::

    # %% tags=["parameters"]
    population: str = 'in_covenant'  # population of the definitions file; choices: @populations
    ...                              # the common block: print(lvv_eval.report.params.common_block())
    horizon_days: int = 365  # cumulative incidence read at this many days; min: 1

    # %%
    from lvv_eval import analysis as A
    from lvv_eval.report.present import Report

    rep = Report.start("04_outcomes_by_pilot", globals())  # refuses unknown names and bad values
    tte = rep.time_to_event()                    # rep.stays: population, pilots, reference date
    rates = rep.gate.rates(A.rates_per_100_person_years(tte), tte)
    rep.show_table(rates, "rates_per_100py", title="Uitstroom per 100 persoonsjaren")
    rep.show_figure(plot_rates(rates.data, lang=rep.lang, synthetic=rep.synthetic),
                    "rates_per_100py", sources=[rates])
    rep.show_table(df, "case_mix", counts=["n"], dims=["pilot"])   # a DataFrame: gated here

:meth:`Report.start` checks the notebook's parameters against its own declaration (unknown
names and bad values raise :class:`~lvv_eval.report.params.ParameterError` before anything is
computed), loads the stays (source file, sha256, provenance SYNTHETIC/real/unknown), selects
the population, pilots and reference date (stays admitted after it left out, later exits
censored at it), sets the house style and shows the provenance banner.

:meth:`Report.show_table` passes a table through the run's disclosure gate
(:func:`lvv_eval.report.notebook.report_gate`), writes ``tables/<name>.csv``, shows it as a
readable HTML table (headings and formats from ``report/labels.yaml``, outcome classes from the
labels and the definitions file, percentages with one decimal, no index) with a note under it:
source and its sha256, reference date, population, pilots, definition scheme, N and excluded N,
and SYNTHETIC when the data are. :meth:`Report.show_figure` does the same for a figure (PNG
written, embedded in the notebook's output). Each table is listed in ``tables.json`` for the
run's Excel workbook and for ``lvv-eval diff``.

Under ``lvv-eval report`` outputs go to the notebook's folder of the run; run interactively
(JupyterLab, a bare papermill run) they go to ``reports/scratch/<notebook>/`` (ignored by git).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from lvv_eval.config import NOTEBOOKS_DIR, clean_dir, reports_dir
from lvv_eval.disclosure import CheckedCurves, CheckedTable, DisclosureGate, Entry
from lvv_eval.files import sha256_of
from lvv_eval.report.notebook import (
    DISCLOSURE_SETTINGS,
    TABLES_INDEX,
    banner,
    load_stays,
    provenance,
    report_gate,
)
from lvv_eval.report.params import (
    Param,
    ParameterError,
    check_values,
    load_definitions_or_grid,
    notebook_parameters,
)
from lvv_eval.report.style import FIGURE_DPI, apply_theme

LABELS_YAML = Path(__file__).with_name("labels.yaml")
SCRATCH = "scratch"
RUN_FOLDER_ENV = "LVV_REPORT_FOLDER"
_PLAIN = (str, int, float, bool, list, tuple, dict, type(None))
_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
_CSS = """<style>
.lvv-output{margin:0.6em 0 1.4em 0;max-width:100%;overflow-x:auto}
.lvv-output table.lvv-table{border-collapse:collapse;font-size:0.9em}
.lvv-output table.lvv-table th{background:#f2f2f2;text-align:left;padding:3px 8px;
 border-bottom:1px solid #999;vertical-align:bottom}
.lvv-output table.lvv-table td{padding:2px 8px;border-bottom:1px solid #e6e6e6;text-align:left}
.lvv-output table.lvv-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.lvv-output p.lvv-note{font-size:0.8em;color:#444;margin:0.3em 0 0 0}
.lvv-output p.lvv-note strong.lvv-synthetic{color:#c00}
.lvv-output h4.lvv-title{margin:0 0 0.3em 0}
</style>"""

NOT_ESTIMABLE = {
    "nl": "*Dit onderdeel is op deze gegevens niet te berekenen: {reason}.*",
    "en": "*This section cannot be computed on these data: {reason}.*",
}


@cache
def report_labels() -> dict[str, Any]:
    """The report's words (``report/labels.yaml``)."""
    return yaml.safe_load(LABELS_YAML.read_text(encoding="utf-8"))


def localise_caveat(message: str, lang: str) -> str:
    """An analysis caveat (English) in ``lang``: the Dutch text of the first pattern in
    ``labels.yaml`` (``caveats``) that matches it, else the message as it is."""
    if lang == "en":
        return message
    for entry in report_labels().get("caveats", []):
        match = re.match(entry["pattern"], message)
        if match:
            return entry[lang].format(**match.groupdict())
    return message


def notebook_path(notebook: str | Path) -> Path:
    """The notebook file of a name (``04_outcomes_by_pilot``), a file name or a path."""
    path = Path(notebook)
    if path.suffix not in (".py", ".ipynb"):
        path = path.with_name(path.name + ".py")
    if not path.is_absolute() and not path.exists():
        path = NOTEBOOKS_DIR / path.name
    return path


def output_folder(notebook: str) -> Path:
    """Where a notebook writes: the run folder under ``lvv-eval report`` (it holds the run's
    disclosure settings, or ``LVV_REPORT_FOLDER`` names it), else ``reports/scratch/<notebook>/``."""
    named = os.environ.get(RUN_FOLDER_ENV)
    if named:
        return Path(named).resolve()
    here = Path.cwd()
    if (here / DISCLOSURE_SETTINGS).is_file():
        return here.resolve()
    return (reports_dir() / SCRATCH / Path(notebook).stem).resolve()


def namespace_values(namespace: Mapping[str, Any], declared: Mapping[str, Param]) -> dict[str, Any]:
    """The parameter-like names of a notebook's globals: the declared ones and any other plain
    value (an injected unknown parameter), leaving out IPython's names, modules and functions."""
    out = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in _IPYTHON_NAMES:
            continue
        if name in declared or isinstance(value, _PLAIN):
            out[name] = value
    return out


@dataclass
class Selection:
    """The stays an analysis uses and how many were left out, by reason."""

    stays: pd.DataFrame
    n_total: int
    excluded: dict[str, int] = field(default_factory=dict)


def select_stays(stays: pd.DataFrame, defs: Any, population: str, pilots: Sequence[str],
                 reference: pd.Timestamp) -> Selection:
    """The stays of ``population`` and ``pilots`` admitted on or before ``reference``, with exits
    after it censored at it; the counts left out by each step."""
    from lvv_eval.measures.definitions import population_mask

    n_total = len(stays)
    excluded = {}
    keep = population_mask(defs, stays, population).to_numpy(bool).copy()
    excluded["population"] = int((~keep).sum())
    if pilots:
        in_pilots = stays["pilot"].isin(list(pilots)).to_numpy(bool)
        excluded["pilots"] = int((keep & ~in_pilots).sum())
        keep &= in_pilots
    admitted = (stays["admission_date"] <= reference).to_numpy(bool, na_value=False)
    excluded["reference_date"] = int((keep & ~admitted).sum())
    keep &= admitted
    out = stays[keep].copy()
    after = (out["exit_date"] > reference).fillna(False).astype(bool)
    if after.any():
        out.loc[after, "exit_date"] = pd.NaT
        out.loc[after, "exit_reason"] = np.nan
    out["data_cut_date"] = out["data_cut_date"].clip(upper=reference)
    if isinstance(out["pilot"].dtype, pd.CategoricalDtype):  # tables list the selected pilots only
        out["pilot"] = out["pilot"].cat.remove_unused_categories()
    return Selection(out, n_total, {k: v for k, v in excluded.items() if v})


class Report:
    """One notebook's run: its checked parameters, the selected stays, the gate and the writers.

    Attributes: ``params`` (every parameter with its value), ``lang``, ``definitions`` (a
    :class:`~lvv_eval.measures.definitions.Definitions`), ``scheme``, ``classes`` (the chosen
    outcome classes, default every class of the scheme), ``population``, ``pilots``,
    ``reference_date`` (a Timestamp), ``stays_path``, ``stays_sha256``, ``provenance``
    (``synthetic``/``real``/``unknown``), ``synthetic``, ``all_stays`` (as loaded), ``stays``
    (selected), ``n`` and ``excluded`` (by reason), ``gate``, ``folder``.
    """

    current: Report | None = None

    def __init__(self, notebook: str, params: Mapping[str, Any], folder: Path | None = None,
                 stays: pd.DataFrame | None = None) -> None:
        self.notebook = Path(notebook).stem
        self.params = dict(params)
        self.lang = str(params.get("lang", "nl"))
        self.folder = Path(folder) if folder is not None else output_folder(self.notebook)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.definitions = load_definitions_or_grid(str(params.get("definitions", "")))
        self.scheme = str(params.get("scheme", "ee2022"))
        self.classes = tuple(params.get("classes") or self._scheme_classes())
        self.population = str(params.get("population", "in_covenant"))
        self.pilots = list(params.get("pilots") or [])
        self.reference_name = str(params.get("reference_date", "ee2022"))
        self.reference_date = self._resolve_reference(self.reference_name)
        path = Path(params.get("stays_path") or clean_dir() / "stays.parquet")
        self.stays_path = path.resolve()
        if stays is None:
            try:
                stays, _ = load_stays(self.stays_path)
            except FileNotFoundError as exc:
                raise ParameterError(f"stays_path={str(path)!r}: {exc}") from exc
        self.stays_sha256 = sha256_of(self.stays_path) if self.stays_path.is_file() else ""
        self.provenance = provenance(self.stays_path)
        self.synthetic = self.provenance == "synthetic"
        self.all_stays = self._with_chain(stays)
        self.selection = select_stays(self.all_stays, self.definitions, self.population,
                                      self.pilots, self.reference_date)
        self._mark_scratch()
        self.gate: DisclosureGate = report_gate(self.synthetic, self.folder)
        self.tables: dict[str, dict[str, Any]] = {}
        self.figures: dict[str, Path | None] = {}
        Report.current = self

    def reselect(self, population: str, reference: pd.Timestamp | None = None) -> None:
        """Select the stays again for another population (and reference date), so that the
        tables and their notes say what was used: e.g. every registered stay when the
        population is an axis of a sensitivity grid."""
        self.population = population
        if reference is not None:
            self.reference_date = pd.Timestamp(reference)
            self.reference_name = self.reference_date.date().isoformat()
        self.selection = select_stays(self.all_stays, self.definitions, self.population,
                                      self.pilots, self.reference_date)

    # ------------------------------------------------------------------ starting

    @classmethod
    def start(cls, notebook: str, namespace: dict[str, Any] | None = None, *,
              show_banner: bool = True, **overrides: Any) -> Report:
        """Check the notebook's parameters (its declaration against ``namespace``, normally
        ``globals()``; converted values are written back), load and select the stays, set the
        house style and show the provenance banner."""
        path = notebook_path(notebook)
        declared = notebook_parameters(path)
        values = namespace_values(namespace or {}, declared)
        values.update(overrides)
        params = check_values(values, declared, origin=path.name)
        if namespace is not None:
            namespace.update({k: params[k] for k in declared})
        apply_theme()
        report = cls(path.stem, params)
        if show_banner:
            report.show_banner()
        return report

    def _mark_scratch(self) -> None:
        """An interactive run's scratch folder says whose data its outputs show."""
        scratch = (reports_dir() / SCRATCH).resolve()
        if self.folder.is_relative_to(scratch):
            from lvv_eval.outputs import mark_shared_output_folder

            mark_shared_output_folder(scratch, "report", self.provenance)

    def _scheme_classes(self) -> tuple[str, ...]:
        scheme = self.definitions.outcome_schemes.get(self.scheme)
        if scheme is None:
            raise ParameterError(f"scheme={self.scheme!r}: not in {self.definitions.path}; choose one of "
                                 f"{', '.join(self.definitions.outcome_schemes)}")
        return tuple(scheme["classes"])

    def _resolve_reference(self, name: str) -> pd.Timestamp:
        if name in self.definitions.reference_dates:
            return pd.Timestamp(self.definitions.reference_dates[name]["date"])
        try:
            return pd.Timestamp(name)
        except ValueError as exc:
            raise ParameterError(f"reference_date={name!r}: not a name in the definitions file "
                                 f"({', '.join(self.definitions.reference_dates)}) nor a date") from exc

    def _with_chain(self, stays: pd.DataFrame) -> pd.DataFrame:
        if not self.definitions.chain_verification.needs_chain:
            return stays
        from lvv_eval.linkage.outcomes import stays_for_definitions

        return stays_for_definitions(stays, self.definitions, self.stays_path.parent)

    # ------------------------------------------------------------------ data

    @property
    def stays(self) -> pd.DataFrame:
        """The selected stays: population, pilots, admitted by the reference date, exits after
        it censored."""
        return self.selection.stays

    @property
    def n(self) -> int:
        """The number of selected stays."""
        return len(self.selection.stays)

    @property
    def excluded(self) -> dict[str, int]:
        """Stays left out of the selection, by reason (population, pilots, reference_date)."""
        return dict(self.selection.excluded)

    def time_to_event(self, scheme: str | None = None) -> pd.DataFrame:
        """:func:`lvv_eval.analysis.time_to_event` of the selected stays under ``scheme``
        (default the notebook's), with the definitions file's scheme."""
        from lvv_eval.analysis.prepare import outcome_scheme, time_to_event

        return time_to_event(self.stays, outcome_scheme(scheme or self.scheme, self.definitions))

    # ------------------------------------------------------------------ words

    def words(self) -> dict[str, Any]:
        """The note's words in the report language."""
        return report_labels()["note"][self.lang]

    def column_label(self, column: str) -> str:
        """The heading of a column in the report language (the code name when none is declared)."""
        spec = report_labels()["columns"].get(str(column))
        return str(spec[self.lang]) if spec else str(column)

    def value_label(self, column: str, value: Any) -> Any:
        """A cell's words: outcome classes and groups labelled, other values as they are."""
        from lvv_eval.analysis.plots import labels as figure_labels

        text = str(value)
        if column in ("cause", "outcome_class"):
            classes = figure_labels(self.lang).get("classes", {})
            if text in classes:
                return classes[text]
            entry = (self.definitions.outcome_schemes.get(self.scheme) or {}).get("classes", {})
            return entry.get(text, {}).get(f"label_{self.lang}", value)
        groups = figure_labels(self.lang).get("groups", {}).get(column, {})
        values = report_labels().get("values", {}).get(column, {}).get(self.lang, {})
        return groups.get(text, values.get(text, value))

    def population_label(self) -> str:
        """The population in words (from the definitions file)."""
        entry = self.definitions.populations.get(self.population, {})
        return str(entry.get(f"label_{self.lang}", self.population))

    def scheme_label(self) -> str:
        """The outcome scheme in words (from the definitions file)."""
        entry = self.definitions.outcome_schemes.get(self.scheme, {})
        return str(entry.get(f"label_{self.lang}", self.scheme))

    def note(self, n: int | None = None, excluded: Mapping[str, int] | None = None,
             extra: str = "", unit: str | None = None, selection: bool = True) -> str:
        """The note under a table or figure (HTML): source, reference date, population, pilots,
        scheme, N and excluded N (the selection's, plus ``excluded``), SYNTHETIC when it is.
        ``unit`` names what N counts (default: stays); ``selection=False`` for a table about
        every delivered row (the audit trail): no population, scheme or selection exclusions."""
        w = self.words()
        out = dict(self.excluded) if selection else {}
        for key, value in (excluded or {}).items():
            out[key] = out.get(key, 0) + int(value)
        reasons = w["reasons"]
        parts_excluded = ", ".join(f"{reasons.get(k, k)} {_integer(v, self.lang)}"
                                   for k, v in out.items() if v)
        n_value = self.n if n is None else n
        total = sum(out.values())
        pilots = ", ".join(self.pilots) if self.pilots else w["all_pilots"]
        source = f"{self._source_name()} (sha256 {self.stays_sha256[:12]})"
        reference = self.reference_date.date().isoformat()
        if self.reference_name != reference:
            reference += f" ({self.reference_name})"
        counted = f"{w['n']} = {_integer(n_value, self.lang)} {unit or w['stays']}"
        if selection or total:
            counted += f"; {w['excluded']} {_integer(total, self.lang)}" + (
                f" ({parts_excluded})" if parts_excluded else "")
        pieces = [f"{w['source']}: {source}", f"{w['reference_date']} {reference}"]
        if selection:
            pieces.append(f"{w['population']}: {self.population_label()}")
        pieces.append(f"{w['pilots']}: {pilots}")
        if selection:
            pieces.append(f"{w['scheme']}: {self.scheme_label()}")
        pieces.append(self.gate.text(counted))  # the counts pass the gate: a small one is not shown
        text = html.escape(". ".join(pieces) + ".")
        if extra:
            text += " " + html.escape(self.gate.text(extra))
        if self.provenance in ("synthetic", "unknown"):
            text += f" <strong class='lvv-synthetic'>{html.escape(w[self.provenance])}</strong>"
        return f"<p class='lvv-note'>{text}</p>"

    def _source_name(self) -> str:
        try:
            return str(self.stays_path.relative_to(Path.cwd()))
        except ValueError:
            parent = self.stays_path.parent.name
            return f"{parent}/{self.stays_path.name}" if parent else self.stays_path.name

    # ------------------------------------------------------------------ showing

    def show_banner(self) -> None:
        """The provenance banner and what the disclosure marker means."""
        from IPython.display import Markdown, display

        text = banner(self.provenance, self.lang)
        display(Markdown("\n\n".join(t for t in (text, self.gate.marker_text(self.lang)) if t)))

    def show_table(self, table: pd.DataFrame | CheckedTable | CheckedCurves, name: str, *,
                   title: str = "", view: pd.DataFrame | None = None,
                   columns: Sequence[str] | None = None, percent: Sequence[str] = (),
                   n: int | None = None, excluded: Mapping[str, int] | None = None,
                   note: str = "", unit: str | None = None, selection: bool = True,
                   **roles: Any) -> Shown:
        """Gate ``table`` (a plain DataFrame is checked with ``roles``: ``counts=``, ``dims=``,
        ...), write ``tables/<name>.csv``, show it (or ``view``, e.g. ``curves.at([365])``)
        with labelled headings and its note, and list it for the workbook. Returns the checked
        table wrapped so that it does not show itself again as a cell's last value (draw figures
        from its ``.data``, pass it as a figure's source)."""
        from IPython.display import HTML, display

        checked = table.checked if isinstance(table, Shown) else table
        if not isinstance(checked, CheckedTable | CheckedCurves):
            checked = self.gate.table(table, name, **roles)
        extra = {"data": "SYNTHETIC"} if self.synthetic else None
        path = self.gate.write_table(checked, self.folder / "tables" / f"{name}.csv", extra=extra,
                                     record_root=self.folder)
        self.gate.save_record(self.folder)
        shown = view if view is not None else _shown(checked)
        body = self.format_table(shown, columns=columns, percent=percent)
        note_html = self.note(n, excluded, note, unit=unit, selection=selection)
        title_html = f"<h4 class='lvv-title'>{html.escape(title)}</h4>" if title else ""
        display(HTML(f"{_CSS}<div class='lvv-output lvv-table-output'>{title_html}{body}"
                     f"{note_html}</div>"))
        self._record_table(name, title, path, note_html, n)
        return Shown(checked, path)

    def format_table(self, table: pd.DataFrame, columns: Sequence[str] | None = None,
                     percent: Sequence[str] = ()) -> str:
        """A table as readable HTML: declared columns only (``columns``, else every column not
        hidden by ``labels.yaml``), headings in the report language, formatted values, no index."""
        specs = report_labels()["columns"]
        if columns is None:
            columns = [c for c in table.columns if not specs.get(str(c), {}).get("hide")
                       and not _empty(table[c])]
        formats = column_formats(list(columns), specs, percent)
        head = "".join(f"<th>{html.escape(self.column_label(c))}</th>" for c in columns)
        rows = []
        for _, row in table[list(columns)].iterrows():
            cells = []
            for col in columns:
                text, numeric = format_value(row[col], formats[col], self.lang)
                if formats[col] == "text":
                    text = str(self.value_label(col, row[col])) if text else text
                klass = " class='num'" if numeric else ""
                cells.append(f"<td{klass}>{html.escape(text)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return (f"<table class='lvv-table'><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    def show_figure(self, fig: Any, name: str, *,
                    sources: Sequence[CheckedTable | CheckedCurves] = (), title: str = "",
                    axis: str = "y", n: int | None = None,
                    excluded: Mapping[str, int] | None = None, note: str = "") -> None:
        """Write ``fig`` through the gate to ``figures/<name>.png`` (only values its gated
        ``sources`` show may be drawn) and show it embedded with its note; when the gate withholds
        it, the note says so. The PNG's path (or None) is in ``self.figures[name]``."""
        import matplotlib.pyplot as plt
        from IPython.display import HTML, Image, display

        sources = [s.checked if isinstance(s, Shown) else s for s in sources]
        path = self.gate.write_figure(fig, self.folder / "figures" / f"{name}.png", sources,
                                      axis=axis, record_root=self.folder, dpi=FIGURE_DPI)
        self.gate.save_record(self.folder)
        plt.close(fig)
        self.figures[name] = path
        title_html = f"<h4 class='lvv-title'>{html.escape(title)}</h4>" if title else ""
        if path is None:
            display(HTML(f"{_CSS}<div class='lvv-output'>{title_html}<p>"
                         f"{html.escape(self.words()['withheld'])}</p>{self.note(n, excluded, note)}"
                         f"</div>"))
            return
        if title_html:
            display(HTML(f"{_CSS}{title_html}"))
        display(Image(data=path.read_bytes(), format="png"))
        display(HTML(f"{_CSS}<div class='lvv-output lvv-figure-note'>{self.note(n, excluded, note)}"
                     f"</div>"))

    def show_text(self, text: str) -> None:
        """Free text through the gate (small numbers masked) as a paragraph."""
        from IPython.display import Markdown, display

        display(Markdown(self.gate.text(text)))

    def show_caveats(self, caught: Sequence[Any]) -> None:
        """The analysis layer's statistical caveats caught while fitting (``warnings`` records),
        once each, in the report's language and through the gate; the few-clusters caveat is left
        to the inference note."""
        from lvv_eval.analysis.caveats import AnalysisWarning, FewClustersWarning

        texts = dict.fromkeys(
            localise_caveat(str(w.message), self.lang) for w in caught
            if issubclass(w.category, AnalysisWarning) and not issubclass(w.category, FewClustersWarning))
        for text in texts:
            self.show_text(text)

    @contextmanager
    def estimable(self) -> Iterator[None]:
        """Run a section of the notebook; when the data cannot support it (the analysis layer's
        :class:`~lvv_eval.analysis.NotEstimable`: a variable not delivered, no variation, no
        events), show why in place of the section instead of failing the report."""
        from lvv_eval.analysis.caveats import NotEstimable

        try:
            yield
        except NotEstimable as exc:
            self.show_text(NOT_ESTIMABLE[self.lang].format(reason=exc))

    # ------------------------------------------------------------------ recording

    def _record_table(self, name: str, title: str, path: Path, note_html: str, n: int | None) -> None:
        index = self.folder / TABLES_INDEX
        try:
            listed = json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            listed = {}
        listed[name] = {
            "name": name, "notebook": self.notebook, "title": title,
            "csv": str(path.relative_to(self.folder)),
            "note": html.unescape(_strip_tags(note_html)),
            "n": self.n if n is None else int(n),
            "headings": {c: self.column_label(c) for c in pd.read_csv(path, nrows=0).columns},
            "lang": self.lang,
        }
        index.write_text(json.dumps(listed, indent=2, ensure_ascii=False), encoding="utf-8")
        self.tables[name] = listed[name]
        self.gate.record.add(Entry(
            output=TABLES_INDEX, kind="index", status="unchecked" if self.gate.unchecked else "pass",
            rules=["UNCHECKED"] if self.gate.unchecked else [], path=TABLES_INDEX,
            synthetic=self.synthetic,
            details=["the tables shown with their titles and notes; the counts in a note pass the "
                     "gate's text check"]))
        self.gate.save_record(self.folder)


class Shown:
    """A table :meth:`Report.show_table` showed: the checked table (``.checked``; its
    attributes, e.g. ``.data``, ``.result``, ``.at()``, are reachable here) and its CSV
    (``.path``). It does not display itself again as a cell's last value."""

    def __init__(self, checked: CheckedTable | CheckedCurves, path: Path) -> None:
        self.checked = checked
        self.path = path

    def __getattr__(self, name: str) -> Any:
        if name in ("checked", "path") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.checked, name)

    def _ipython_display_(self) -> None:
        """Shown once already, with its note."""

    def __repr__(self) -> str:
        return f"Shown({self.checked.entry.output!r}, {self.path})"


def _shown(checked: CheckedTable | CheckedCurves) -> pd.DataFrame:
    table = checked.table if isinstance(checked, CheckedCurves) else checked
    return table.shown()


def _empty(column: pd.Series) -> bool:
    return bool(column.isna().all() or column.astype(str).str.strip().eq("").all())


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)


def column_formats(columns: Sequence[str], specs: Mapping[str, Any],
                   percent: Sequence[str] = ()) -> dict[str, str]:
    """Each column's format; an ``interval`` limit takes the format of the estimate before it."""
    out: dict[str, str] = {}
    last = "decimal2"
    for col in columns:
        fmt = "percent" if col in percent else specs.get(str(col), {}).get("format", "auto")
        if fmt == "interval":
            fmt = last
        elif fmt != "text":
            last = fmt
        out[col] = fmt
    return out


_DECIMALS = {"decimal1": 1, "decimal2": 2, "decimal3": 3, "ratio": 2, "percent": 1}


def format_value(value: Any, fmt: str, lang: str) -> tuple[str, bool]:
    """A cell as text and whether it is a number (right-aligned). Text (the disclosure marker)
    stays as it is; a missing value is empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "", False
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        return str(value), False
    number = float(value)
    if fmt == "text":
        return str(value), False
    if not np.isfinite(number):
        return ("∞" if number > 0 else "-∞"), True
    if fmt == "integer":
        return _integer(number, lang), True
    if fmt == "pvalue":
        return ("<0,001" if lang == "nl" else "<0.001") if number < 0.001 else _decimal(number, 3, lang), True
    if fmt == "percent":
        return _decimal(100 * number, 1, lang), True
    if fmt in _DECIMALS:
        return _decimal(number, _DECIMALS[fmt], lang), True
    # auto: whole numbers as integers, others with up to three significant decimals
    if number == int(number):
        return _integer(number, lang), True
    return _decimal(number, 2 if abs(number) >= 1 else 3, lang), True


def _decimal(number: float, decimals: int, lang: str) -> str:
    text = f"{number:,.{decimals}f}"
    return _localise(text, lang)


def _integer(number: float, lang: str) -> str:
    return _localise(f"{round(number):,d}", lang)


def _localise(text: str, lang: str) -> str:
    if lang != "nl":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


# --------------------------------------------------------------------- module-level shortcuts


def current() -> Report:
    """The report started last in this kernel."""
    if Report.current is None:
        raise RuntimeError("call Report.start(...) first")
    return Report.current


def show_table(table: Any, name: str, **kwargs: Any) -> Any:
    """:meth:`Report.show_table` of the current report."""
    return current().show_table(table, name, **kwargs)


def show_figure(fig: Any, name: str, **kwargs: Any) -> None:
    """:meth:`Report.show_figure` of the current report."""
    current().show_figure(fig, name, **kwargs)
