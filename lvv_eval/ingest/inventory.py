"""Every file under the raw folder, accounted for: read (as a delivery or a code book), or ignored
with the reason. Two files matching one source spec's pattern are an error unless the spec allows
several (``several: true`` on the file entry): a copy beside the original ("Kopie van ….xlsx")
would otherwise be read as a second delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lvv_eval.ingest.errors import IngestError
from lvv_eval.ingest.spec import SourceSpec
from lvv_eval.provenance import MARKER_FILE

ANSWER_KEY_DIR = "_answer_key"


def _ignored_reason(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    if rel.split("/", 1)[0] == ANSWER_KEY_DIR:
        return "the synthetic generator's answer key (never read by ingest)"
    if name == MARKER_FILE:
        return "the SYNTHETIC marker written by `lvv-eval synth`"
    if name.lower().startswith("readme"):
        return "a README (notes for people)"
    if name.startswith("~$") or name.startswith(".~lock"):
        return "an office lock file (the workbook was open when copied)"
    if any(part.startswith(".") for part in rel.split("/")):
        return "a hidden file"
    return "matches no source spec's file pattern"


def _pattern_matches(raw_dir: Path, pattern: str, several: bool, where: str) -> list[Path]:
    found = sorted(p for p in raw_dir.glob(pattern) if p.is_file())
    if len(found) > 1 and not several:
        names = ", ".join(f"'{p.relative_to(raw_dir).as_posix()}'" for p in found)
        raise IngestError(
            f"several files match '{pattern}' ({where}): {names}. One delivery is one file: remove the copy "
            f"or the older file, or set 'several: true' on that file entry if the layout really has several.")
    return found


def check_overlaps(raw_dir: Path, specs: list[SourceSpec]) -> None:
    """An :class:`IngestError` naming both specs when one file matches the patterns of two source
    specs (their deliveries overlap: every stay would be read twice)."""
    owner: dict[str, str] = {}
    for spec in specs:
        for i, fs in enumerate(spec.files):
            for p in sorted(q for q in raw_dir.glob(fs.pattern) if q.is_file()):
                rel = p.relative_to(raw_dir).as_posix()
                where = f"{spec.path.name} (files[{i}].pattern '{fs.pattern}')"
                if rel in owner and not owner[rel].startswith(f"{spec.path.name} "):
                    raise IngestError(
                        f"overlapping source specs: file {rel} matches {owner[rel]} and {where}; each delivery "
                        f"is read by one spec. Narrow one of the patterns, or remove the older spec.")
                owner.setdefault(rel, where)


def take_inventory(raw_dir: Path, specs: list[SourceSpec], chain_specs: Sequence[Any] = ()) -> list[dict]:
    """One entry per file under ``raw_dir``: ``file``, ``status`` (read | ignored), ``role`` or
    ``reason``; ``chain_specs`` are the specs of the IND and DT&V extracts and crosswalks."""
    read: dict[str, dict] = {}
    for chain_spec in chain_specs:
        for fs in chain_spec.files:
            for p in _pattern_matches(raw_dir, fs.pattern, getattr(fs, "several", False),
                                      f"chain spec {chain_spec.path.name}"):
                read[p.relative_to(raw_dir).as_posix()] = {"status": "read", "role": "chain extract",
                                                            "source_spec": chain_spec.path.name}
    for spec in specs:
        for fs in spec.files:
            for p in _pattern_matches(raw_dir, fs.pattern, fs.several, f"source spec {spec.path.name}"):
                read[p.relative_to(raw_dir).as_posix()] = {"status": "read", "role": "delivery",
                                                            "source_spec": spec.path.name}
        for cb in spec.codebooks:
            for p in _pattern_matches(raw_dir, cb.pattern, False, f"code book of {spec.path.name}"):
                read[p.relative_to(raw_dir).as_posix()] = {"status": "read", "role": "code book",
                                                            "source_spec": spec.path.name}
    entries = []
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(raw_dir).as_posix()
        entries.append({"file": rel, **read.get(rel, {"status": "ignored", "reason": _ignored_reason(rel)})})
    return entries


def unexpected_files(entries: list[dict]) -> list[str]:
    """Ignored files that look like data (not a README, marker, answer key, lock or hidden file)."""
    return [e["file"] for e in entries if e.get("reason") == "matches no source spec's file pattern"]
