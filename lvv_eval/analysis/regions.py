"""The region of origin of a country code, for the case-mix table and as a covariate.

A region unites UN M49 sub-regions (``origin_regions.yaml`` beside this module, written by
``scripts/build_origin_regions.py``), so that small sub-regions do not make cells of two people.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ORIGIN_REGIONS_YAML = Path(__file__).with_name("origin_regions.yaml")


@cache
def origin_regions() -> dict[str, Any]:
    """The region table: ``regions`` (key -> labels, M49 sub-regions) and ``countries`` (code ->
    region key)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 0.5 s -> 0.05 s
    return yaml.load(ORIGIN_REGIONS_YAML.read_text(encoding="utf-8"), Loader=loader)


def origin_region(country: pd.Series) -> pd.Series:
    """The region of origin of each ISO alpha-3 code (missing where the country is unknown), as
    a category in the table's region order."""
    table = origin_regions()
    mapped = country.astype("object").map(table["countries"])
    unknown = sorted(set(country.dropna().astype(str)) - set(table["countries"]))
    if unknown:
        raise KeyError(f"country codes without a region in {ORIGIN_REGIONS_YAML.name}: {unknown}")
    return mapped.astype(pd.CategoricalDtype(list(table["regions"])))


def region_label(region: str, lang: str = "nl") -> str:
    """The label of a region key in ``lang`` (nl or en); the key itself when it is not a region."""
    entry = origin_regions()["regions"].get(str(region))
    return str(entry[f"label_{lang}"]) if entry else str(region)
