"""The record for the output checker: every output with its status, the rules and the reason.

A :class:`Record` lives in an output folder as ``disclosure.json`` (the full record),
``disclosure.csv`` (one row per output) and ``disclosure.html`` (the summary page, in Dutch and
English). Saving merges with what is already there, so that several notebooks of one run (each
in its own kernel) and several runs of ``reproduce`` add to the same record; an output written
again replaces its old entry.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lvv_eval.disclosure.policy import DisclosurePolicy, ExceptionRequest

LABELS_YAML = Path(__file__).with_name("labels.yaml")
RECORD_JSON = "disclosure.json"
RECORD_CSV = "disclosure.csv"
RECORD_HTML = "disclosure.html"
STATUSES: tuple[str, ...] = ("pass", "suppressed", "rounded", "withheld", "needs review",
                             "unchecked")
LANGS: tuple[str, ...] = ("nl", "en")


@cache
def labels() -> dict[str, Any]:
    """The words of the record (statuses, rules, marker, page) in Dutch and English."""
    return yaml.safe_load(LABELS_YAML.read_text(encoding="utf-8"))


def policy_values(policy: DisclosurePolicy) -> dict[str, Any]:
    """Placeholders for the rule texts: every policy value by its last key."""
    values = {key.rsplit(".", 1)[-1]: value for key, value in policy.summary().items()}
    values["threshold"] = policy.threshold
    return values


def rule_text(rule: str, lang: str, policy: DisclosurePolicy) -> str:
    """One rule in words, with the policy's numbers."""
    return labels()["rules"][rule][lang].format(**policy_values(policy))


def marker_text(policy: DisclosurePolicy, lang: str) -> str:
    """What the marker in a table means."""
    return labels()["marker"][lang].format(marker=policy.markers.suppressed,
                                           threshold=policy.threshold)


@dataclass
class Entry:
    """One output: what it is, what the gate did to it and why."""

    output: str
    kind: str
    status: str
    rules: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    reason_en: str = ""
    reason_nl: str = ""
    path: str = ""
    cells: int = 0
    cells_not_shown: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    exception_request: str = ""
    synthetic: bool = False
    checked_utc: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        if not self.checked_utc:
            self.checked_utc = datetime.now(UTC).isoformat(timespec="seconds")
        self.checks = list(dict.fromkeys([*self.checks, *self.rules]))
        if self.status == "pass" and not self.reason_en:
            self.reason_en = labels()["pass_reason"]["en"]
            self.reason_nl = labels()["pass_reason"]["nl"]


def describe(rules: list[str], policy: DisclosurePolicy, lang: str) -> str:
    """The rules that acted on an output, in words."""
    return "; ".join(rule_text(r, lang, policy) for r in dict.fromkeys(rules))


@dataclass
class Record:
    """The entries of one output folder, with the policy they were checked against."""

    policy: DisclosurePolicy
    synthetic: bool = False
    unchecked: bool = False
    entries: dict[str, Entry] = field(default_factory=dict)
    exceptions: list[ExceptionRequest] = field(default_factory=list)

    def add(self, entry: Entry) -> Entry:
        """Add (or replace) an output's entry, attaching an exception request naming it."""
        for req in self.exceptions:
            if req.output == entry.output:
                entry.exception_request = req.reason + (f" ({req.requested_by})" if req.requested_by else "")
                if "EXCEPTION" not in entry.rules:
                    entry.rules.append("EXCEPTION")
                if entry.status == "pass":
                    entry.status = "needs review"
        self.entries[entry.output] = entry
        return entry

    def unmatched_exceptions(self) -> list[ExceptionRequest]:
        """Exception requests that name no output in the record."""
        return [r for r in self.exceptions if r.output not in self.entries]

    def frame(self) -> pd.DataFrame:
        """One row per output (lists joined with '; ')."""
        rows = []
        for e in self.entries.values():
            row = asdict(e)
            row["rules"] = "; ".join(e.rules)
            row["checks"] = "; ".join(e.checks)
            row["sources"] = "; ".join(e.sources)
            row["details"] = "; ".join(e.details)
            row["columns"] = "; ".join(f"{k}: {v}" for k, v in e.columns.items())
            rows.append(row)
        return pd.DataFrame(rows, columns=list(Entry.__dataclass_fields__))

    def save(self, folder: str | Path) -> Path:
        """Merge into ``folder``'s record and write its JSON, CSV and HTML; returns the JSON."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        merged = {**_read_entries(folder / RECORD_JSON), **self.entries}
        saved = Record(self.policy, self.synthetic, self.unchecked, merged, self.exceptions)
        payload = {
            "policy": self.policy.summary() | {"source": self.policy.source},
            "synthetic": self.synthetic,
            "unchecked": self.unchecked,
            "status_counts": dict(Counter(e.status for e in merged.values())),
            "exceptions_unmatched": [r.model_dump() for r in saved.unmatched_exceptions()],
            "outputs": [asdict(e) for e in merged.values()],
        }
        path = folder / RECORD_JSON
        path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
        saved.frame().to_csv(folder / RECORD_CSV, index=False)
        (folder / RECORD_HTML).write_text(render_html(saved, folder.name), encoding="utf-8")
        return path


def _read_entries(path: Path) -> dict[str, Entry]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {o["output"]: Entry(**o) for o in data.get("outputs", [])}


def read_record(folder: str | Path) -> dict[str, Any]:
    """The record JSON of ``folder`` as written by :meth:`Record.save`."""
    return json.loads((Path(folder) / RECORD_JSON).read_text(encoding="utf-8"))


_STATUS_COLOURS = {"pass": "#d8f0d8", "suppressed": "#fff3c4", "rounded": "#fff3c4",
                   "withheld": "#f8d0d0", "needs review": "#ffd9a8", "unchecked": "#f8d0d0"}


def _row_html(e: Entry, lang: str) -> str:
    words = labels()["statuses"]
    link = f'<a href="{html.escape(e.path)}">{html.escape(e.path)}</a>' if e.path else ""
    reason = e.reason_nl if lang == "nl" else e.reason_en
    cells = [html.escape(e.output), link, html.escape(e.kind),
             f'<span style="background:{_STATUS_COLOURS[e.status]};padding:0 4px">'
             f"{html.escape(words[e.status][lang])}</span>",
             html.escape(", ".join(e.rules)), html.escape(", ".join(e.checks)),
             html.escape(reason),
             html.escape("; ".join(e.details)), html.escape(", ".join(e.sources)),
             html.escape(e.exception_request)]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def render_html(record: Record, title: str) -> str:
    """The summary page of a record, Dutch first, then English."""
    page = labels()["page"]
    counts = Counter(e.status for e in record.entries.values())
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>{html.escape(page['title']['nl'])} - {html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;"
             "padding:3px 6px;vertical-align:top}table{border-collapse:collapse}</style>",
             "</head><body>"]
    for lang in LANGS:
        parts.append(f"<h1>{html.escape(page['title'][lang])}: {html.escape(title)}</h1>")
        if record.synthetic:
            parts.append(f"<p><strong>{html.escape(page['synthetic'][lang])}</strong></p>")
        if record.unchecked:
            parts.append(f"<p style='color:#b00'><strong>{html.escape(page['unchecked'][lang])}"
                         "</strong></p>")
        parts.append(f"<p>{html.escape(page['intro'][lang])}</p>")
        parts.append(f"<p><strong>{html.escape(marker_text(record.policy, lang))}</strong></p>")
        parts.append("<ul>" + "".join(
            f"<li>{html.escape(labels()['statuses'][s][lang])}: {counts[s]}</li>"
            for s in STATUSES if counts[s]) + "</ul>")
        parts.append(_policy_html(record.policy, lang))
        head = ["output", "file", "kind", "status", "rules that acted", "rules checked", "reason",
                "details", "sources",
                "exception request" if lang == "en" else "uitzonderingsverzoek"]
        parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>")
        parts.extend(_row_html(e, lang) for e in record.entries.values())
        parts.append("</table>")
        unmatched = record.unmatched_exceptions()
        if unmatched:
            parts.append("<p>" + html.escape(
                ("Uitzonderingsverzoeken zonder bijbehorende output: " if lang == "nl" else
                 "Exception requests naming no output: ")
                + ", ".join(r.output for r in unmatched)) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _policy_html(policy: DisclosurePolicy, lang: str) -> str:
    rules = ["FREQ_MIN", "FREQ_ZERO" if policy.zeros.sampling == "suppress" else None,
             "FREQ_ROUND" if policy.frequency.method == "round" else "FREQ_SECONDARY",
             "DERIVED", "STAT_BASIS", "SURV_GRID", "MODEL_DF", "MODEL_EPP", "MODEL_LEVEL",
             "PUBLISHED"]
    items = "".join(f"<li>{html.escape(rule_text(r, lang, policy))}</li>" for r in rules if r)
    head = "Beleid" if lang == "nl" else "Policy"
    source = html.escape(policy.source or "defaults")
    return f"<h2>{head}</h2><p><code>{source}</code></p><ul>{items}</ul>"
