"""The package's copy of the published figures is the shared reference, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from lvv_eval.config import PROJECT_ROOT, PUBLISHED_FIGURES_CSV

SHARED = PROJECT_ROOT.parent / "shared" / "reference" / "published_figures.csv"


@pytest.mark.skipif(not SHARED.exists(), reason="no ../shared beside this checkout")
def test_vendored_published_figures_equal_the_shared_reference() -> None:
    assert Path(PUBLISHED_FIGURES_CSV).read_bytes() == SHARED.read_bytes()
