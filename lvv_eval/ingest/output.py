"""Writing ``data_clean/`` safely, with the capacity table and the run manifest.

All files are written to a temporary folder beside the output folder, which then takes the
output folder's place (:func:`lvv_eval.outputs.replace_folder`); a failed or killed run leaves
the previous output in place or restorable. The ingest only replaces a folder it wrote itself
(its ``manifest.json``) or an empty one, and never one that holds real data with SYNTHETIC output.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval.capacity import CAPACITY_CSV
from lvv_eval.files import sha256_of
from lvv_eval.outputs import (
    OutputFolderError,
    check_output_folder,
    replace_folder,
    write_owner_marker,
)

OUTPUT_FILES: tuple[str, ...] = ("stays.parquet", "capacity.csv", "quarantine.parquet",
                                  "changes.parquet", "validation.csv")


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


def is_ingest_output(folder: Path) -> bool:
    """Whether ``folder`` holds an ingest output (its manifest, also of versions before the marker)."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"row_accounting", "outputs", "inputs"} <= set(manifest)


def holds_real_output(folder: Path) -> bool:
    """Whether ``folder`` holds an ingest output of data not marked SYNTHETIC."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("synthetic") is not True


def check_out_dir(out_dir: Path, inputs: Sequence[Path], synthetic: bool) -> Path:
    """The output folder, or a one-line error: not an input, not someone else's folder, and no
    SYNTHETIC output over cleaned real data."""
    out = check_output_folder(out_dir, "ingest", inputs=inputs, is_own=is_ingest_output)
    if synthetic and out.is_dir() and holds_real_output(out):
        raise OutputFolderError(f"output folder {out} holds cleaned REAL data; SYNTHETIC output is never "
                                f"written over it: choose another --out-dir")
    return out


def write_atomically(out_dir: Path, write: Callable[[Path], None]) -> list[str]:
    """Run ``write(tmp_dir)`` and then put ``tmp_dir`` in the place of ``out_dir`` (safe swap)."""
    return replace_folder(out_dir, write)


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
    capacity: pd.DataFrame,
    quarantine: pd.DataFrame,
    changes: pd.DataFrame,
    validation: pd.DataFrame,
    manifest: dict,
) -> None:
    """Write the files of DATA_MODEL.md section 2 into ``folder`` (``capacity``: the agreed
    places the data are checked against, from :func:`lvv_eval.capacity.load_capacity_file`)."""
    stays.to_parquet(folder / "stays.parquet", index=False)
    capacity.to_csv(folder / CAPACITY_CSV, index=False, date_format="%Y-%m-%d")
    quarantine.to_parquet(folder / "quarantine.parquet", index=False)
    changes.to_parquet(folder / "changes.parquet", index=False)
    validation.to_csv(folder / "validation.csv", index=False)
    manifest = {**manifest, "output_sha256": {
        name: sha256_of(folder / name) for name in OUTPUT_FILES}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    write_owner_marker(folder, "ingest", synthetic=bool(manifest.get("synthetic")))
    if manifest.get("synthetic"):
        (folder / "SYNTHETIC.txt").write_text(
            "SYNTHETIC DATA: generated by `lvv-eval synth`; not real LVV records.\n", encoding="utf-8")
