"""Options and input loaders shared by several verbs (reproduce, monitor, report)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from lvv_eval import config
from lvv_eval.errors import UserError
from lvv_eval.measures.definitions import Definitions, DefinitionsError, load_definitions
from lvv_eval.measures.indicators import load_capacity
from lvv_eval.schema import coerce_stays


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Options naming the stays table and the definitions file."""
    parser.add_argument("--stays", type=Path, default=None,
                        help="stays table in the stays contract (default: data_clean/stays.parquet; "
                             "the generator's truth is data_raw/synthetic/_answer_key/truth_stays.parquet)")
    parser.add_argument("--definitions", type=Path, default=None,
                        help="definitions YAML (default: the package's specs/definitions.yaml)")


def default_stays_path() -> Path:
    """``data_clean/stays.parquet`` under the data root."""
    return config.clean_dir() / "stays.parquet"


def read_stays(path: Path) -> pd.DataFrame:
    """A stays table from parquet, in the contract's dtypes."""
    if not path.exists():
        raise UserError(f"{path} does not exist: run `lvv-eval ingest` first, or name a stays "
                        f"file with --stays")
    try:
        return coerce_stays(pd.read_parquet(path))
    except KeyError as exc:
        raise UserError(f"{path}: {exc.args[0]}") from exc
    except (ValueError, TypeError, OSError) as exc:
        raise UserError(f"{path}: not a stays table in the contract's types ({exc})") from exc


def manifest_says_synthetic(folder: Path) -> bool:
    """Whether ingest's manifest in ``folder`` marks the data as SYNTHETIC."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return False
    return bool(json.loads(manifest.read_text(encoding="utf-8")).get("synthetic", False))


def definitions_from_args(path: Path | None) -> Definitions:
    """The definitions file named on the command line (or the package's); errors for the user."""
    try:
        return load_definitions(path)
    except DefinitionsError as exc:
        raise UserError(str(exc)) from exc


def stays_from_args(args: argparse.Namespace) -> tuple[pd.DataFrame, Path, str]:
    """The stays named by ``--stays`` (default data_clean/), their path and a description."""
    path = args.stays or default_stays_path()
    stays = read_stays(path)
    return stays, path, ("SYNTHETIC " if manifest_says_synthetic(path.parent) else "") + str(path)


def inputs_from_args(
    args: argparse.Namespace,
) -> tuple[Definitions, pd.DataFrame, Path, str, pd.DataFrame]:
    """Definitions, stays (with their path and a description) and capacity named by the options."""
    defs = definitions_from_args(args.definitions)
    stays, path, source = stays_from_args(args)
    if defs.chain_verification.needs_chain:  # outcomes or prior procedures from the chain registers
        from lvv_eval.linkage.outcomes import stays_for_definitions

        stays = stays_for_definitions(stays, defs, path.parent)
        source += f" ({defs.chain_verification.describe()})"
    try:
        capacity = load_capacity(defs)
    except DefinitionsError as exc:
        raise UserError(str(exc)) from exc
    return defs, stays, path, source, capacity
