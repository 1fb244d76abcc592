"""The generator's fingerprint: which version of the generator wrote a synthetic folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

FINGERPRINT_FILE = "_answer_key/generator_fingerprint.txt"


def generator_fingerprint() -> str:
    """sha256 over the generator's code and YAML (its DGP, calibration plan and layouts)."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted(p for p in here.rglob("*") if p.suffix in (".py", ".yaml")):
        h.update(path.relative_to(here).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()
