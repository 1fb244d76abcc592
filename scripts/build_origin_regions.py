"""Write ``lvv_eval/analysis/origin_regions.yaml``: the region of origin of every country code.

Each ISO 3166-1 alpha-3 code of the country table gets the UN M49 sub-region that the
``country_converter`` package lists for it, merged into the few regions the case-mix table
shows (``REGIONS`` below; a region of the report is a union of M49 sub-regions, so that small
sub-regions do not make cells of two people). A build-time tool, not a dependency of the toolkit:

    python -m venv /tmp/coco && /tmp/coco/bin/pip install country_converter pyyaml
    /tmp/coco/bin/python scripts/build_origin_regions.py

Codes the converter does not know (XXX, stateless) are listed under ``unlisted`` by hand.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.resources
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "lvv_eval" / "analysis" / "origin_regions.yaml"
COUNTRIES = ROOT / "lvv_eval" / "sources" / "vocab" / "countries.yaml"
REGIONS = {  # report region: (label_en, label_nl, M49 sub-regions)
    "north_africa": ("North Africa", "Noord-Afrika", ["Northern Africa"]),
    "west_africa": ("West Africa", "West-Afrika", ["Western Africa"]),
    "east_central_southern_africa": ("East, Central and Southern Africa",
                                     "Oost-, Centraal- en Zuidelijk Afrika",
                                     ["Eastern Africa", "Middle Africa", "Southern Africa"]),
    "west_asia": ("West Asia and the Caucasus", "West-Azië en de Kaukasus", ["Western Asia"]),
    "south_central_asia": ("South and Central Asia", "Zuid- en Centraal-Azië",
                           ["Southern Asia", "Central Asia"]),
    "east_asia": ("East and South-East Asia", "Oost- en Zuidoost-Azië",
                  ["Eastern Asia", "South-eastern Asia"]),
    "europe": ("Europe", "Europa", ["Eastern Europe", "Southern Europe", "Northern Europe",
                                    "Western Europe"]),
    "other": ("Americas, Oceania, stateless", "Amerika, Oceanië, staatloos",
              ["Caribbean", "Central America", "South America", "Northern America",
               "Australia and New Zealand", "Melanesia", "Micronesia", "Polynesia", "Antarctica"]),
}
UNLISTED = {"XXX": "other"}
HEADER = """\
# Region of origin per country code (ISO 3166-1 alpha-3), for the case-mix table of the analysis
# layer (lvv_eval.analysis.casemix). A region is a union of UN M49 sub-regions (listed under
# regions); the sub-region of each code is the one of country_converter {version}.
# Written by scripts/build_origin_regions.py; XXX (stateless) is set by hand there.
"""


def main() -> None:
    data = importlib.resources.files("country_converter") / "country_data.tsv"
    with data.open(encoding="utf-8") as fh:
        sub_region = {row["ISO3"]: row["UNregion"] for row in csv.DictReader(fh, delimiter="\t")}
    region_of = {sub: key for key, (_, _, subs) in REGIONS.items() for sub in subs}
    codes = list(yaml.safe_load(COUNTRIES.read_text(encoding="utf-8"))["entries"])
    countries = {}
    for code in codes:
        if code in UNLISTED:
            countries[code] = UNLISTED[code]
        elif sub_region.get(code) in region_of:
            countries[code] = region_of[sub_region[code]]
        else:
            raise SystemExit(f"{code}: no M49 sub-region known ({sub_region.get(code)!r}); add it to UNLISTED")
    out = {
        "regions": {k: {"label_en": en, "label_nl": nl, "m49_sub_regions": subs}
                    for k, (en, nl, subs) in REGIONS.items()},
        "countries": countries,
    }
    text = HEADER.format(version=importlib.metadata.version("country_converter"))
    text += yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=100)
    TABLE.write_text(text, encoding="utf-8")
    print(f"wrote {TABLE} ({len(countries)} codes)")


if __name__ == "__main__":
    main()
