"""Refresh the official country names in ``lvv_eval/sources/vocab/countries.yaml``.

The country table is data, edited by hand: the spellings seen in deliveries (the usual one
first) stay as they are. This script only makes sure every ISO 3166-1 country is in it, with
its English name, its common English name, and their Dutch translations from the iso-codes
project as shipped by pycountry (a build-time tool, not a dependency of the toolkit):

    python -m venv /tmp/pyc && /tmp/pyc/bin/pip install pycountry pyyaml
    /tmp/pyc/bin/python scripts/build_country_table.py

Names a table already accepts (ignoring case) are not added twice; names that would be
ambiguous (``Congo``: the Republic or the Democratic Republic?) are never added. Run the test
suite afterwards: the table's own checks (no spelling for two codes) run on load.
"""

from __future__ import annotations

import gettext
import importlib.metadata
from pathlib import Path

import pycountry
import yaml

TABLE = Path(__file__).resolve().parent.parent / "lvv_eval" / "sources" / "vocab" / "countries.yaml"
AMBIGUOUS = {"congo"}
HEADER = """\
# Countries (ISO 3166-1 alpha-3) with their names in English and Dutch: the ONE country list of
# the toolkit. The ingest reads it for every source spec's country labels
# (`country_of_origin: {{include: vocab/countries.yaml, language: nl}}`), the SYNTHETIC generator
# for the names it writes (synth/layouts: `encode: country, language: nl`).
# Per code and language: `en`/`nl` the spellings as registration staff type them, the usual one
# first (the generator writes these, the first most often); `en_also`/`nl_also` further
# spellings the ingest accepts (official names, rarer variants). Matching ignores case and
# surrounding spaces; no spelling may belong to two codes. `unknown`: labels meaning unknown.
# XXX = stateless, XKX = Kosovo (user-assigned codes, as in travel documents and EU statistics).
# The order of the codes is the category order of stays.country_of_origin (lvv_eval.schema).
# Official names: ISO 3166-1 via pycountry {version} (English) and its Dutch translation
# (iso-codes); refreshed by scripts/build_country_table.py. Bare "Congo" is left out on purpose
# (Republic or Democratic Republic?): such a cell is quarantined as an unmapped label.
"""


def _names(country: object, dutch: gettext.NullTranslations) -> dict[str, list[str]]:
    """The usual English name first, then the official ones; the same in Dutch where iso-codes
    translates them."""
    usual = getattr(country, "common_name", None) or country.name
    official = [n for n in (country.name, getattr(country, "official_name", None)) if n and n != usual]
    dutch_official = [dutch.gettext(n) for n in official if dutch.gettext(n) != n]
    return {"en": [usual, *official], "nl": [dutch.gettext(usual), *dutch_official]}


def _add(entry: dict, language: str, names: list[str], taken: dict[str, str], code: str) -> None:
    for name in names:
        key = name.strip().casefold()
        if key in AMBIGUOUS or taken.get(key, code) != code:
            continue
        if key in {n.casefold() for n in entry.get(language, []) + entry.get(f"{language}_also", [])}:
            continue
        target = language if not entry.get(language) else f"{language}_also"
        entry.setdefault(target, []).append(name)
        taken[key] = code


def refresh(table: dict) -> dict:
    dutch = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["nl"])
    entries = table.setdefault("entries", {})
    for language in ("en", "nl"):
        taken = {n.strip().casefold(): code for code, e in entries.items()
                 for n in e.get(language, []) + e.get(f"{language}_also", [])}
        for country in pycountry.countries:
            entry = entries.setdefault(country.alpha_3, {})
            _add(entry, language, _names(country, dutch)[language], taken, country.alpha_3)
    # ISO codes in order, the user-assigned X codes (stateless, Kosovo) last
    table["entries"] = dict(sorted(entries.items(), key=lambda kv: (kv[0].startswith("X"), kv[0])))
    return table


def dump(table: dict) -> str:
    version = importlib.metadata.version("pycountry")
    lines = [HEADER.format(version=version),
             f"field: {table['field']}", "unknown:"]
    lines += [f"  {lang}: {_flow(names)}" for lang, names in table["unknown"].items()]
    lines.append("entries:")
    for code, entry in table["entries"].items():
        ordered = {k: entry[k] for k in ("en", "nl", "en_also", "nl_also") if entry.get(k)}
        lines.append(f"  {code}: {_flow(ordered)}")
    return "\n".join(lines) + "\n"


def _flow(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()


if __name__ == "__main__":
    current = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    TABLE.write_text(dump(refresh(current)), encoding="utf-8")
    print(f"wrote {TABLE} ({len(current['entries'])} codes)")
