"""The gate every writer of a table, figure or model result under ``reports/`` goes through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval.disclosure.figures import check_figure
from lvv_eval.disclosure.layout import Cumulative, Layout, Relation
from lvv_eval.disclosure.models import ModelVerdict, check_model
from lvv_eval.disclosure.monitor import check_monitor
from lvv_eval.disclosure.policy import (
    DisclosurePolicy,
    DisclosurePolicyError,
    ExceptionRequest,
    load_exceptions,
    load_policy,
)
from lvv_eval.disclosure.published import check_published_comparison
from lvv_eval.disclosure.record import Entry, Record, describe, marker_text, read_record
from lvv_eval.disclosure.standard import StandardTables, estimate_columns
from lvv_eval.disclosure.survival import CheckedCurves, check_cumulative_incidence
from lvv_eval.disclosure.tables import Basis, CheckedTable, Roles, check_table, mask_small_counts
from lvv_eval.disclosure.waterfall import check_waterfall

UNCHECKED_LABEL = "UNCHECKED (SYNTHETIC)"
CHECK_COLUMN = "disclosure_check"


class DisclosureGate(StandardTables):
    """Checks outputs against a policy, writes them, and keeps the record for the checker."""

    def __init__(self, policy: DisclosurePolicy, synthetic: bool = False, unchecked: bool = False,
                 exceptions: Sequence[ExceptionRequest] = ()) -> None:
        if unchecked and not synthetic:
            raise DisclosurePolicyError(
                "unchecked output is allowed only on SYNTHETIC data (marked so by `lvv-eval "
                "synth`); these data are not marked synthetic, so every output is checked")
        self.policy = policy
        self.synthetic = synthetic
        self.unchecked = unchecked
        self.record = Record(policy, synthetic, unchecked, exceptions=list(exceptions))

    @classmethod
    def from_policy(cls, path: str | Path | None = None, synthetic: bool = False,
                    unchecked: bool = False, exceptions: str | Path | None = None) -> DisclosureGate:
        """A gate with the policy in ``path`` (default: the package's) and the exception
        requests in ``exceptions`` (a YAML file; recorded, never applied)."""
        return cls(load_policy(path), synthetic, unchecked, load_exceptions(exceptions))

    # ------------------------------------------------------------------ tables

    def table(
        self,
        df: pd.DataFrame,
        name: str,
        *,
        kind: str = "frequency",
        counts: Sequence[str] = (),
        dims: Sequence[str] = (),
        keys: Sequence[str] | None = None,
        totals: Mapping[str, Any] | None = None,
        relations: Sequence[Relation] = (),
        cumulative: Cumulative | None = None,
        derived: Mapping[str, Sequence[str]] | None = None,
        statistics: Mapping[str, Basis] | None = None,
        structural: Mapping[str, str] | None = None,
        text: Sequence[str] = (),
        public: Any = None,
        structural_zeros: Any = None,
    ) -> CheckedTable:
        """Check a tidy table (see :mod:`lvv_eval.disclosure` for the roles and the layout)."""
        roles = Roles(tuple(counts), dict(derived or {}), dict(statistics or {}),
                      dict(structural or {}), tuple(text))
        if self.unchecked:
            return self._unchecked(df, name, kind, roles)
        layout = Layout(tuple(keys) if keys is not None else tuple(dims), tuple(dims),
                        dict(totals or {}), tuple(relations), cumulative)
        checked = check_table(df, name, self.policy, roles, layout, kind=kind, public=public,
                              structural_zeros=structural_zeros, synthetic=self.synthetic)
        self.record.add(checked.entry)
        return checked

    def _unchecked(self, df: pd.DataFrame, name: str, kind: str, roles: Roles) -> CheckedTable:
        data = df.reset_index(drop=True).copy()
        rules = ["UNCHECKED"]
        entry = Entry(output=name, kind=kind, status="unchecked", rules=rules,
                      reason_en=describe(rules, self.policy, "en"),
                      reason_nl=describe(rules, self.policy, "nl"), cells=int(data.size),
                      columns=roles.names(), synthetic=True)
        self.record.add(entry)
        hidden = pd.DataFrame(False, index=data.index, columns=data.columns)
        return CheckedTable(name, data, hidden, entry, self.policy.markers.suppressed,
                            integer_columns=roles.counts)

    def published_comparison(self, table: pd.DataFrame, name: str, measures: Mapping[str, str],
                             bases: Mapping[str, tuple[float | None, float | None]]) -> CheckedTable:
        """The reproduce table: published figures as published, new cells checked."""
        if self.unchecked:
            return self._unchecked(table, name, "published", Roles())
        checked = check_published_comparison(table, self.policy, measures, bases, name,
                                             self.synthetic)
        self.record.add(checked.entry)
        return checked

    def monitor(self, table: pd.DataFrame, specs: Mapping[str, Mapping[str, Any]],
                all_pilots: str = "all", name: str = "monitor_snapshots") -> CheckedTable:
        """The monitor's snapshot table; ``specs`` are the monitor indicators' definitions."""
        if self.unchecked:
            return self._unchecked(table, name, "frequency", Roles())
        checked = check_monitor(table, specs, self.policy, all_pilots, name, self.synthetic)
        self.record.add(checked.entry)
        return checked

    def waterfall(self, table: pd.DataFrame, name: str) -> CheckedTable:
        """A reconciliation waterfall (raw rows to a published figure)."""
        if self.unchecked:
            return self._unchecked(table, name, "frequency", Roles())
        checked = check_waterfall(table, self.policy, name, self.synthetic)
        self.record.add(checked.entry)
        return checked

    def cumulative_incidence(self, result: Any, tte: pd.DataFrame, name: str) -> CheckedCurves:
        """Cumulative-incidence curves on the policy's grid; ``.result`` draws the figure."""
        checked = check_cumulative_incidence(result, tte, name, self.policy, self.synthetic)
        if self.unchecked:
            raw = self._unchecked(result.table, name, "survival", Roles())
            return CheckedCurves(raw, result)
        self.record.add(checked.entry)
        return checked

    # ------------------------------------------------------------------ models

    def model(self, result: Any, term: str | None = None) -> ModelVerdict:
        """Whether a fitted model (and its 0/1 ``term``) may be shown."""
        return check_model(result, self.policy, term)

    def model_table(self, table: pd.DataFrame, name: str, models: Sequence[Any],
                    estimates: Sequence[str] | None = None,
                    counts: Sequence[str] = ("n_obs", "n_events"),
                    structural: Mapping[str, str] | None = None,
                    term_column: str = "term") -> CheckedTable:
        """A table of model results, one row per ``models[i]``: a row whose model fails the
        rules has its ``estimates`` (default: every numeric column that is not a count or
        structural) withheld, with the rules it failed in a ``disclosure`` column."""
        if len(models) != len(table):
            raise ValueError(f"{name}: {len(models)} models for {len(table)} rows")
        if estimates is None:
            estimates = estimate_columns(table, counts, list(structural or {}))
        roles = Roles(counts=tuple(counts), structural=dict(structural or {}),
                      estimates=tuple(estimates))
        if self.unchecked:
            return self._unchecked(table, name, "model", roles)
        checked = check_table(table, name, self.policy, roles, Layout(), kind="model",
                              synthetic=self.synthetic)
        self.record.add(checked.entry)
        terms = table[term_column].tolist() if term_column in table.columns else [None] * len(table)
        verdicts = [self.model(m, t) for m, t in zip(models, terms, strict=True)]
        failed = [v.failed for v in verdicts]
        for i, rules in enumerate(failed):
            if rules:
                checked.hidden.loc[i, list(estimates)] = True
        checked.data = checked.data.mask(checked.hidden)
        checked.data["disclosure"] = [", ".join(r) for r in failed]
        checked.hidden["disclosure"] = False
        checked.entry.checks += ["MODEL_DF", "MODEL_EPP", "MODEL_LEVEL"]
        _add_model_rules(checked.entry, failed, self.policy)
        checked.entry.cells_not_shown = int(checked.hidden.to_numpy().sum())
        return checked

    def marker_text(self, lang: str = "nl") -> str:
        """What the marker in the tables means, in ``lang`` (nl or en)."""
        return marker_text(self.policy, lang)

    def text(self, text: str) -> str:
        """Free text (a warning, a log line) with every whole number below the threshold
        replaced by the marker (dates and decimals left alone)."""
        if self.unchecked:
            return text
        return mask_small_counts(text, self.policy.threshold, self.policy.markers.suppressed)

    # ------------------------------------------------------------------ figures

    def figure(self, fig: Any, name: str, sources: Sequence[CheckedTable | CheckedCurves],
               axis: str = "y") -> tuple[Entry, pd.DataFrame]:
        """Check that ``fig`` draws only values its gated ``sources`` show."""
        tables = [s.table if isinstance(s, CheckedCurves) else s for s in sources]
        drawn, stray = check_figure(fig, tables, axis)
        names = [t.name for t in tables]
        if self.unchecked:
            status, rules = "unchecked", ["UNCHECKED"]
        elif not tables or len(stray):
            status, rules = "withheld", ["FIGURE_SOURCE"]
        else:
            status, rules = "pass", ["FIGURE_SOURCE"]
        details = [f"{len(drawn)} drawn points checked on {axis}"]
        if not tables:
            details.append("no gated source table named")
        if len(stray):
            details.append(f"{len(stray)} drawn value(s) not shown in the sources")
        entry = Entry(output=name, kind="figure", status=status, rules=rules,
                      reason_en=describe(rules, self.policy, "en"),
                      reason_nl=describe(rules, self.policy, "nl"), sources=names, details=details,
                      synthetic=self.synthetic)
        self.record.add(entry)
        return entry, drawn

    # ------------------------------------------------------------------ writing

    def write_table(self, checked: CheckedTable | CheckedCurves, path: str | Path,
                    extra: Mapping[str, Any] | None = None, record_root: Path | None = None) -> Path:
        """Write a checked table as CSV (the marker where a cell is not shown)."""
        table = checked.table if isinstance(checked, CheckedCurves) else checked
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = table.shown()
        for col, value in (extra or {}).items():
            out[col] = value
        if self.unchecked:
            out[CHECK_COLUMN] = UNCHECKED_LABEL
        out.to_csv(path, index=False)
        table.entry.path = _relative(path, record_root)
        self.record.add(table.entry)
        return path

    def write_figure(self, fig: Any, path: str | Path,
                     sources: Sequence[CheckedTable | CheckedCurves], axis: str = "y",
                     record_root: Path | None = None, dpi: int = 120) -> Path | None:
        """Write ``fig`` as PNG with its drawn values beside it, if it passes; else nothing."""
        path = Path(path)
        entry, drawn = self.figure(fig, path.name, sources, axis)
        if entry.status == "withheld":
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.unchecked:
            fig.text(0.01, 0.01, UNCHECKED_LABEL, color="red", fontsize=9, fontweight="bold")
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        drawn.to_csv(path.with_suffix(".values.csv"), index=False)
        entry.path = _relative(path, record_root)
        self.record.add(entry)
        return path

    def audit_folder(self, folder: str | Path, narrative: Sequence[Path] = ()) -> list[Entry]:
        """Record every file in ``folder`` that no entry names: the notebooks' text and
        displays (``narrative``: the output checker reads them) and anything written without
        the gate (needs review)."""
        folder = Path(folder)
        recorded = {e["path"] for e in _recorded_outputs(folder)} | {
            e.path for e in self.record.entries.values()}
        narrative_names = {Path(p).resolve() for p in narrative}
        added = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = _relative(path, folder)
            if rel in recorded or _infrastructure(path, recorded, folder):
                continue
            is_text = path.resolve() in narrative_names
            rules = ["UNCHECKED"] if self.unchecked else ["NARRATIVE" if is_text else "NOT_GATED"]
            entry = Entry(output=rel, kind="notebook" if is_text else "file",
                          status="unchecked" if self.unchecked else "needs review", rules=rules,
                          reason_en=describe(rules, self.policy, "en"),
                          reason_nl=describe(rules, self.policy, "nl"), path=rel,
                          synthetic=self.synthetic)
            added.append(self.record.add(entry))
        return added

    def save_record(self, folder: str | Path) -> Path:
        """Write the record (JSON, CSV, HTML) into ``folder``, merging with what is there."""
        return self.record.save(folder)


INFRASTRUCTURE_NAMES = frozenset({"disclosure.json", "disclosure.csv", "disclosure.html",
                                  "disclosure_exceptions.yaml", "index.html"})


def _recorded_outputs(folder: Path) -> list[dict[str, Any]]:
    path = folder / "disclosure.json"
    return read_record(folder)["outputs"] if path.exists() else []


def _infrastructure(path: Path, recorded: set[str], folder: Path) -> bool:
    """The record itself, settings, manifests, the index, and the drawn values of a recorded
    figure."""
    if path.name in INFRASTRUCTURE_NAMES or path.name.endswith(".manifest.json"):
        return True
    if path.name.endswith(".json") and path.name.startswith("disclosure"):
        return True
    if path.name.endswith(".values.csv"):
        png = path.with_name(path.name.removesuffix(".values.csv") + ".png")
        return _relative(png, folder) in recorded
    return False


def _relative(path: Path, root: Path | None) -> str:
    if root is None:
        return path.name
    try:
        return str(path.resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def _add_model_rules(entry: Entry, failed: list[list[str]], policy: DisclosurePolicy) -> None:
    rules = [r for rs in failed for r in rs]
    if not rules:
        return
    entry.rules = list(dict.fromkeys([*entry.rules, *rules]))
    entry.status = "withheld" if entry.status in ("pass", "suppressed") else entry.status
    entry.reason_en = describe(entry.rules, policy, "en")
    entry.reason_nl = describe(entry.rules, policy, "nl")
    entry.details.append(f"{sum(bool(r) for r in failed)} of {len(failed)} model rows withheld")
    entry.columns["disclosure"] = "rules a withheld row failed"
