"""Vocabulary tables: one list of codes with their labels in Dutch and English, read by both the
ingest (label -> code) and the synthetic generator (code -> the spellings it writes).

The country table (``sources/vocab/countries.yaml``, ISO 3166-1 alpha-3) is one. Per code and
language it lists the spellings registration staff type, the usual one first (the SYNTHETIC
generator writes these, the first most often), and ``<language>_also``: further spellings the
ingest accepts (official long names, rarer variants) but the generator does not write. Labels
that mean "unknown" map to missing. Matching ignores case and surrounding spaces, so within a
language no spelling may belong to two codes (checked on load).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field, model_validator

from lvv_eval.config import SOURCES_DIR
from lvv_eval.specfiles import (
    NonEmptyStr,
    Problems,
    SpecFileError,
    SpecModel,
    read_mapping,
    validate_spec,
)

COUNTRIES_YAML = SOURCES_DIR / "vocab" / "countries.yaml"
LANGUAGES: tuple[str, ...] = ("en", "nl")


class VocabularyError(SpecFileError):
    """A vocabulary table is malformed or ambiguous."""


class Spellings(SpecModel):
    """The labels of one code: as typed (usual first) and also accepted, per language."""

    en: tuple[NonEmptyStr, ...] = Field(min_length=1)
    nl: tuple[NonEmptyStr, ...] = Field(min_length=1)
    en_also: tuple[NonEmptyStr, ...] = ()
    nl_also: tuple[NonEmptyStr, ...] = ()

    def accepted(self, language: str) -> tuple[str, ...]:
        """Every spelling the ingest reads as this code."""
        return (*getattr(self, language), *getattr(self, f"{language}_also"))


class VocabularyTable(SpecModel):
    """Codes with their labels per language, and the labels that mean unknown."""

    field: NonEmptyStr = Field(description="the stays field the codes are values of")
    unknown: dict[str, tuple[NonEmptyStr, ...]] = Field(default_factory=dict)
    entries: dict[str, Spellings] = Field(min_length=1)

    @model_validator(mode="after")
    def _unambiguous(self) -> VocabularyTable:
        problems = Problems()
        for language in LANGUAGES:
            owner: dict[str, str] = {
                label.strip().casefold(): "unknown" for label in self.unknown.get(language, ())}
            for code, spellings in self.entries.items():
                for label in spellings.accepted(language):
                    key = label.strip().casefold()
                    if owner.setdefault(key, code) != code:
                        problems.add(("entries", code, language),
                                     f"{label!r} also belongs to {owner[key]} (matching ignores case)")
        problems.raise_if_any("vocabulary")
        return self

    def label_map(self, language: str) -> dict[str, str | None]:
        """Label -> code for the ingest (every accepted spelling; unknown labels -> None)."""
        out: dict[str, str | None] = {label: None for label in self.unknown.get(language, ())}
        for code, spellings in self.entries.items():
            out.update({label: code for label in spellings.accepted(language)})
        return out

    def spellings(self, language: str) -> dict[str, list[str]]:
        """Code -> the spellings the generator writes (usual first)."""
        return {code: list(getattr(s, language)) for code, s in self.entries.items()}


def check_language(language: str) -> str:
    """``language`` if the tables have it, else a ValueError naming the choices."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (choose one of {', '.join(LANGUAGES)})")
    return language


@cache
def load_vocabulary_table(path: Path = COUNTRIES_YAML) -> VocabularyTable:
    """A vocabulary table from YAML (the country table by default), validated."""
    raw = read_mapping(Path(path), "vocabulary table", VocabularyError)
    return validate_spec(VocabularyTable, raw, path, VocabularyError)


def is_vocabulary_table(raw: object) -> bool:
    """Whether a parsed vocabulary file is a table (rather than a plain label: value map)."""
    return isinstance(raw, dict) and "entries" in raw and "field" in raw
