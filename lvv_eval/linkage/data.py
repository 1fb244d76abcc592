"""The chain tables as ``lvv-eval ingest`` wrote them, read back in their contract's types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lvv_eval.chain_schema import coerce_table, empty_table
from lvv_eval.errors import UserError


class ChainDataError(UserError):
    """The chain tables are missing or unreadable."""


@dataclass(frozen=True)
class ChainData:
    """IND procedures, DT&V cases and person links (pseudonymised), with what was delivered."""

    ind: pd.DataFrame
    dtv: pd.DataFrame
    links: pd.DataFrame
    registers: tuple[str, ...]  # the registers whose extract was ingested
    synthetic: bool = False

    @property
    def delivered(self) -> bool:
        """Whether any register extract was ingested."""
        return bool(self.registers)


def _read(path: Path, table: str) -> pd.DataFrame:
    try:
        return coerce_table(pd.read_parquet(path), table)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ChainDataError(f"{path}: not a {table} table in the contract's types ({exc})") from exc


def load_chain_data(clean_dir: Path) -> ChainData:
    """The chain tables in ``clean_dir`` (``data_clean/``); a clear error when ingest wrote none."""
    clean_dir = Path(clean_dir)
    links_path = clean_dir / "person_links.parquet"
    if not links_path.exists():
        raise ChainDataError(f"{links_path} does not exist: run `lvv-eval ingest` (with this version) first")
    manifest_path = clean_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    chain = manifest.get("chain", {})
    kinds = {i.get("kind") for i in chain.get("inputs", [])}
    registers = tuple(r for r, k in (("IND", "ind"), ("DTV", "dtv")) if k in kinds)
    ind_path, dtv_path = clean_dir / "chain_ind.parquet", clean_dir / "chain_dtv.parquet"
    return ChainData(
        ind=_read(ind_path, "chain_ind") if ind_path.exists() else empty_table("chain_ind"),
        dtv=_read(dtv_path, "chain_dtv") if dtv_path.exists() else empty_table("chain_dtv"),
        links=_read(links_path, "person_links"),
        registers=registers,
        synthetic=bool(manifest.get("synthetic", False)),
    )
