"""One country list: sources/vocab/countries.yaml (ISO 3166-1 alpha-3 with Dutch and English
names), read by the ingest's source specs, the SYNTHETIC generator and the stays contract."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import lvv_eval
from lvv_eval.ingest.mapping import map_labels
from lvv_eval.ingest.spec import load_specs
from lvv_eval.schema import COUNTRIES, STAYS_DTYPES
from lvv_eval.synth.render.layout import country_spellings, load_layouts
from lvv_eval.vocabulary import (
    COUNTRIES_YAML,
    VocabularyError,
    load_vocabulary_table,
)

PACKAGE = Path(lvv_eval.__file__).resolve().parent


def test_the_package_holds_one_country_list():
    """No other YAML of the package maps country names or codes (the old inverse copies in
    sources/vocab and synth/layouts are gone)."""
    others = []
    for path in PACKAGE.rglob("*.yaml"):
        if path == COUNTRIES_YAML:
            continue
        text = path.read_text(encoding="utf-8")
        if any(name in text for name in ("Afganistan", "Ivoorkust", "Staatloos", "Ivory Coast")):
            others.append(path.relative_to(PACKAGE))
    assert others == []


def test_ingest_specs_and_generator_layouts_name_the_same_table():
    for spec in load_specs():
        raw = yaml.safe_load(spec.path.read_text(encoding="utf-8"))
        assert raw["labels"]["country_of_origin"]["include"] == "vocab/countries.yaml", spec.path
    languages = set()
    for layout in load_layouts().values():
        for col in layout.all_columns():
            if col.encode == "country":
                assert "vocabulary" not in col.options  # no layout-own list
                languages.add(col.options["language"])
    assert languages == {"nl", "en"}
    assert tuple(STAYS_DTYPES["country_of_origin"].categories) == COUNTRIES
    assert tuple(load_vocabulary_table().entries) == COUNTRIES


@pytest.mark.parametrize("spec", load_specs(), ids=lambda s: s.name)
def test_every_name_the_generator_writes_maps_back_to_its_code_through_the_ingest(spec):
    """Every spelling the generator may write in the spec's language, put through the ingest's
    own label mapping of that spec, gives back the ISO code it was written for."""
    raw = yaml.safe_load(spec.path.read_text(encoding="utf-8"))
    language = raw["labels"]["country_of_origin"]["language"]
    written = [(code, name) for code, names in country_spellings(language).items()
               for name in names]
    assert len(written) > 250
    mapped, unmapped = map_labels(pd.Series([n for _, n in written], dtype="str"),
                                  spec.labels["country_of_origin"])
    assert not unmapped.any()
    assert mapped.tolist() == [code for code, _ in written]


def test_every_iso_country_is_known_in_dutch_and_english():
    table = load_vocabulary_table()
    assert len([c for c in table.entries if not c.startswith("X")]) == 249  # ISO 3166-1 today
    nl, en = table.label_map("nl"), table.label_map("en")
    for label, code in [("Angola", "AGO"), ("Japan", "JPN"), ("Brazilië", "BRA"),
                        ("Verenigde Staten", "USA"), ("Zuid-Korea", "KOR"), ("Wit-Rusland", "BLR"),
                        ("Ivoorkust", "CIV"), ("Staatloos", "XXX"), ("Kosovo", "XKX")]:
        assert nl[label] == code, label
    for label, code in [("Angola", "AGO"), ("Japan", "JPN"), ("Brazil", "BRA"),
                        ("South Korea", "KOR"), ("Korea, Republic of", "KOR"),
                        ("Côte d'Ivoire", "CIV"), ("Stateless", "XXX")]:
        assert en[label] == code, label
    assert nl["Onbekend"] is None and en["Unknown"] is None
    assert "Congo" not in nl and "Congo" not in en  # ambiguous: quarantined, never guessed


def test_a_spelling_for_two_codes_is_refused(tmp_path):
    raw = yaml.safe_load(COUNTRIES_YAML.read_text(encoding="utf-8"))
    raw["entries"]["NER"]["nl_also"] = ["nigeria"]
    path = tmp_path / "countries.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"countries.yaml: entries.NGA.nl: 'Nigeria' also "
                                              r"belongs to NER|countries.yaml: entries.NER.nl"):
        load_vocabulary_table(path)


def test_a_spec_including_the_table_must_name_its_language(tmp_path):
    from lvv_eval.ingest.errors import SpecError
    from lvv_eval.ingest.spec import validate_source_spec

    spec = yaml.safe_load((PACKAGE / "sources" / "rotterdam.yaml").read_text(encoding="utf-8"))
    spec["labels"]["country_of_origin"] = {"include": "vocab/countries.yaml"}
    with pytest.raises(SpecError, match=r"x.yaml: labels.country_of_origin: countries.yaml is a "
                                         r"table in several languages: add 'language: nl'"):
        validate_source_spec(spec, tmp_path / "x.yaml")
    spec["labels"]["country_of_origin"] = {"include": "vocab/countries.yaml", "language": "fr"}
    with pytest.raises(SpecError, match=r"unknown language 'fr'"):
        validate_source_spec(spec, tmp_path / "x.yaml")


def test_a_plain_vocabulary_file_is_merged_and_the_specs_own_entries_win(tmp_path):
    from lvv_eval.ingest.spec import validate_source_spec

    (tmp_path / "my_sexes.yaml").write_text("Man: male\nVrouw: female\nM: female\n")
    spec = yaml.safe_load((PACKAGE / "sources" / "rotterdam.yaml").read_text(encoding="utf-8"))
    spec["labels"]["sex"] = {"include": "my_sexes.yaml", "M": "male"}
    labels = validate_source_spec(spec, tmp_path / "x.yaml").labels["sex"]
    assert labels == {"Man": "male", "Vrouw": "female", "M": "male"}
