"""Writing ``data_clean/`` atomically, with the capacity table and the run manifest.

All files are written to a temporary folder beside the output folder, which then replaces the
output folder in one rename; a failed run leaves the previous output as it was.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval.config import SPECS_DIR
from lvv_eval.files import sha256_of
from lvv_eval.ingest.spec import read_spec_mapping

CAPACITY_FILE = SPECS_DIR / "capacity.yaml"
OUTPUT_FILES: tuple[str, ...] = ("stays.parquet", "capacity.csv", "quarantine.parquet",
                                  "changes.parquet", "validation.csv")


def capacity_table(path: Path = CAPACITY_FILE) -> pd.DataFrame:
    """Agreed places per pilot from the package's capacity file."""
    entries = read_spec_mapping(Path(path), "capacity file")["capacity"]
    return pd.DataFrame(entries, columns=["pilot", "places", "valid_from", "valid_to", "source"])


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape the output."""
    import numpy
    import pandera
    import pyarrow
    import python_calamine

    import lvv_eval

    return {
        "python": platform.python_version(), "pandas": pd.__version__, "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__, "pandera": pandera.__version__,
        "python_calamine": getattr(python_calamine, "__version__", "unknown"),
        "lvv_eval": getattr(lvv_eval, "__version__", "0.1.0"),
    }


def write_atomically(out_dir: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp_dir)`` and then put ``tmp_dir`` in the place of ``out_dir`` in one step."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old, out_dir)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


CHAIN_OUTPUT_FILES: tuple[str, ...] = ("chain_ind.parquet", "chain_dtv.parquet", "chain_quarantine.parquet",
                                        "chain_changes.parquet", "chain_validation.csv")
PERSON_LINKS_FILE = "person_links.parquet"


def chain_manifest(chain: Any, person_links: pd.DataFrame) -> dict:
    """The manifest's ``chain`` section: inputs, absent extracts, accounting and output rows."""
    return {
        "delivered": chain.delivered,
        "specs": [s.path.name for s in chain.specs],
        "absent": chain.absent,
        "inputs": chain.inputs,
        "row_accounting": [{("source" if k == "pilot" else k): v for k, v in row.items()}
                           for row in chain.accounting.per_file()],
        "row_accounting_closes": chain.accounting.closes(),
        "outputs": {**{name: len(t) for name, t in chain.tables.items() if name != "person_links"},
                    "person_links": len(person_links), "chain_quarantine": len(chain.quarantine),
                    "chain_changes": len(chain.changes)},
    }


def write_chain_outputs(folder: Path, chain: Any, person_links: pd.DataFrame, manifest: dict) -> None:
    """Write ``person_links.parquet`` and, when any chain extract was delivered, the chain tables
    and their audit trail; their hashes go into the manifest's ``chain`` section."""
    person_links.to_parquet(folder / PERSON_LINKS_FILE, index=False)
    names = [PERSON_LINKS_FILE]
    if chain.delivered:
        chain.tables["chain_ind"].to_parquet(folder / "chain_ind.parquet", index=False)
        chain.tables["chain_dtv"].to_parquet(folder / "chain_dtv.parquet", index=False)
        chain.quarantine.to_parquet(folder / "chain_quarantine.parquet", index=False)
        chain.changes.to_parquet(folder / "chain_changes.parquet", index=False)
        chain.validation.to_csv(folder / "chain_validation.csv", index=False)
        names += list(CHAIN_OUTPUT_FILES)
    manifest["chain"]["output_sha256"] = {name: sha256_of(folder / name) for name in names}


def write_outputs(
    folder: Path,
    *,
    stays: pd.DataFrame,
    quarantine: pd.DataFrame,
    changes: pd.DataFrame,
    validation: pd.DataFrame,
    manifest: dict,
) -> None:
    """Write the files of DATA_MODEL.md section 2 into ``folder``."""
    stays.to_parquet(folder / "stays.parquet", index=False)
    capacity_table().to_csv(folder / "capacity.csv", index=False)
    quarantine.to_parquet(folder / "quarantine.parquet", index=False)
    changes.to_parquet(folder / "changes.parquet", index=False)
    validation.to_csv(folder / "validation.csv", index=False)
    manifest = {**manifest, "output_sha256": {
        name: sha256_of(folder / name) for name in OUTPUT_FILES}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    if manifest.get("synthetic"):
        (folder / "SYNTHETIC.txt").write_text(
            "SYNTHETIC DATA: generated by `lvv-eval synth`; not real LVV records.\n", encoding="utf-8")
