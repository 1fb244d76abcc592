"""Whether data are SYNTHETIC: only an explicit marker that ``lvv-eval synth`` writes says so.

``synth`` writes ``SYNTHETIC.json`` into the deliveries folder it creates: the generator version,
its fingerprint, the seed, a plain statement, and the SHA-256 of every file it wrote. A folder
counts as synthetic only while that marker is present, parses, was written by synth, and every
file in the folder is one that synth wrote, unchanged. Anything else (no marker, a README saying
"SYNTHETIC", a changed or added file) is real data: it needs the secret pseudonymisation key and
is never labelled synthetic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lvv_eval.files import sha256_of

MARKER_FILE = "SYNTHETIC.json"
WRITER = "lvv-eval synth"
STATEMENT = ("SYNTHETIC DATA written by `lvv-eval synth`: no record in this folder describes a real "
             "person.")
REQUIRED_KEYS = ("synthetic", "written_by", "statement", "generator_version", "generator_fingerprint",
                 "seed", "files")


@dataclass(frozen=True)
class MarkerCheck:
    """The outcome of checking a folder's SYNTHETIC marker: valid or not, and why."""

    valid: bool
    reason: str
    marker: dict | None = None


def _data_files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` except the marker, by path relative to the folder."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MARKER_FILE}


def write_marker(folder: Path, *, generator_version: str, generator_fingerprint: str, seed: int,
                 calibrated: bool) -> dict:
    """Write ``SYNTHETIC.json`` over every file now in ``folder`` (call it last); returns the marker."""
    folder = Path(folder)
    marker = {
        "synthetic": True,
        "written_by": WRITER,
        "statement": STATEMENT,
        "generator_version": generator_version,
        "generator_fingerprint": generator_fingerprint,
        "seed": int(seed),
        "calibrated": bool(calibrated),
        "files": {rel: sha256_of(path) for rel, path in _data_files(folder).items()},
    }
    (folder / MARKER_FILE).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return marker


def check_marker(folder: Path) -> MarkerCheck:
    """Whether ``folder`` carries a valid SYNTHETIC marker (see the module docstring)."""
    folder = Path(folder)
    path = folder / MARKER_FILE
    if not path.is_file():
        return MarkerCheck(False, f"no {MARKER_FILE} written by `lvv-eval synth` in {folder}")
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return MarkerCheck(False, f"{path} cannot be read ({exc})")
    if not isinstance(marker, dict) or any(k not in marker for k in REQUIRED_KEYS):
        return MarkerCheck(False, f"{path} lacks the keys {list(REQUIRED_KEYS)}")
    if marker["synthetic"] is not True or marker["written_by"] != WRITER or not isinstance(marker["files"], dict):
        return MarkerCheck(False, f"{path} was not written by `lvv-eval synth`")
    present = _data_files(folder)
    added = sorted(set(present) - set(marker["files"]))
    if added:
        return MarkerCheck(False, f"{folder} holds files that `lvv-eval synth` did not write: {added[:3]}")
    missing = sorted(set(marker["files"]) - set(present))
    if missing:
        return MarkerCheck(False, f"files listed in {path} are gone: {missing[:3]}")
    changed = sorted(rel for rel, p in present.items() if sha256_of(p) != marker["files"][rel])
    if changed:
        return MarkerCheck(False, f"files changed since `lvv-eval synth` wrote them: {changed[:3]}")
    return MarkerCheck(True, f"{MARKER_FILE} (generator {marker['generator_version']}, seed {marker['seed']})",
                       marker)


LEGACY_MANIFEST = "_answer_key/delivery_manifest.json"
LEGACY_EXTRA = (LEGACY_MANIFEST, "_answer_key/generator_fingerprint.txt")


def written_by_synth(folder: Path) -> bool:
    """Whether every file in ``folder`` is one ``lvv-eval synth`` wrote: a valid marker, or (a folder
    of a version before the marker) exactly the files its delivery manifest lists.

    Such a folder may be replaced by ``synth``; only a valid marker makes data count as synthetic.
    """
    folder = Path(folder)
    if check_marker(folder).valid:
        return True
    if (folder / MARKER_FILE).exists():
        return False
    try:
        listed = json.loads((folder / LEGACY_MANIFEST).read_text(encoding="utf-8"))["files"]
        names = {str(f["path"]) for f in listed} | set(LEGACY_EXTRA)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return set(_data_files(folder)) <= names


def is_marked_synthetic(folder: Path) -> bool:
    """True only when ``folder`` carries a valid SYNTHETIC marker."""
    return check_marker(folder).valid


def stays_provenance(stays_path: Path) -> str:
    """Where a stays file comes from: ``"synthetic"``, ``"real"`` or ``"unknown"``.

    The ingest manifest beside the file decides (its ``synthetic`` flag); a file inside a folder
    with a valid SYNTHETIC marker (the generator's answer key) is synthetic; anything else is of
    unknown provenance: never shown as synthetic, since it may describe real people.
    """
    path = Path(stays_path).resolve()
    manifest = path.with_name("manifest.json")
    if manifest.is_file():
        try:
            flag = json.loads(manifest.read_text(encoding="utf-8")).get("synthetic")
        except (OSError, ValueError, AttributeError):
            flag = None
        return "synthetic" if flag is True else "real"
    for folder in path.parents:
        if (folder / MARKER_FILE).is_file():
            return "synthetic" if check_marker(folder).valid else "unknown"
    return "unknown"
