"""Mark a hand-made test delivery as synthetic the way `lvv-eval synth` does (its SYNTHETIC.json)."""

from __future__ import annotations

from pathlib import Path

from lvv_eval.provenance import write_marker


def mark_synthetic(folder: Path) -> Path:
    """Write a valid SYNTHETIC marker over the files now in ``folder`` (call after the last change)."""
    write_marker(folder, generator_version="test", generator_fingerprint="test", seed=0, calibrated=False)
    return folder
