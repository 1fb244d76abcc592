"""Options and input loaders shared by several verbs (reproduce, monitor, report)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from lvv_eval import config
from lvv_eval.capacity import find_capacity
from lvv_eval.errors import UserError
from lvv_eval.measures.definitions import Definitions, DefinitionsError, load_definitions
from lvv_eval.outputs import mark_shared_output_folder
from lvv_eval.provenance import stays_provenance
from lvv_eval.schema import coerce_stays

if TYPE_CHECKING:
    from lvv_eval.disclosure import DisclosureGate


def path_argument(text: str) -> Path:
    """An argparse type for paths: an empty path is an error, not the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; name a file or folder")
    return Path(text)


def add_specs_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--specs-dir``: the folder of source specs (the real deliveries' specs beside the data)."""
    parser.add_argument("--specs-dir", "--sources-dir", dest="specs_dir", type=path_argument, default=None,
                        metavar="DIR",
                        help="folder of source specs (*.yaml, with vocab/ and an optional repairs.yaml; "
                             "default: $LVV_DATA_ROOT/specs/ when it holds specs and the deliveries are "
                             "not SYNTHETIC, else the package's own specs of the SYNTHETIC default)")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Options naming the stays table and the definitions file."""
    parser.add_argument("--stays", type=path_argument, default=None,
                        help="stays table in the stays contract (default: data_clean/stays.parquet; "
                             "the generator's truth is data_raw/synthetic/_answer_key/truth_stays.parquet)")
    parser.add_argument("--definitions", type=path_argument, default=None,
                        help="definitions YAML (default: the package's specs/definitions.yaml)")
    parser.add_argument("--capacity", type=path_argument, default=None,
                        help="agreed places per pilot, YAML like the package's specs/capacity.yaml "
                             "or CSV with its columns (default: capacity.csv beside the stays file, "
                             "else specs/capacity.yaml)")


def add_disclosure_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the disclosure gate every written table and figure passes."""
    parser.add_argument("--disclosure-policy", type=Path, default=None, metavar="YAML",
                        help="disclosure policy (default: the package's specs/disclosure_policy.yaml)")
    parser.add_argument("--exceptions", type=Path, default=None, metavar="YAML",
                        help="exception requests with their reasons: recorded for the output "
                             "checker, never applied")
    parser.add_argument("--unchecked-synthetic", action="store_true",
                        help="write outputs without the disclosure check; refused unless the data "
                             "are marked SYNTHETIC, and every output is marked UNCHECKED")


def gate_from_args(args: argparse.Namespace, synthetic: bool) -> DisclosureGate:
    """The disclosure gate the options describe (errors for the user)."""
    from lvv_eval.disclosure import DisclosureGate

    return DisclosureGate.from_policy(args.disclosure_policy, synthetic=synthetic,
                                      unchecked=args.unchecked_synthetic,
                                      exceptions=args.exceptions)


def default_stays_path() -> Path:
    """``data_clean/stays.parquet`` under the data root."""
    return config.clean_dir() / "stays.parquet"


def read_stays(path: Path) -> pd.DataFrame:
    """A stays table from parquet, in the contract's dtypes."""
    if not path.exists():
        raise UserError(f"{path} does not exist: run `lvv-eval ingest` first, or name a stays "
                        f"file with --stays")
    failure = failed_ingest(path)
    if failure:
        raise UserError(f"{path} comes from an ingest that failed ({failure}); fix the deliveries and run "
                        f"`lvv-eval ingest` again (its quarantine.parquet says which rows)")
    try:
        return coerce_stays(pd.read_parquet(path))
    except KeyError as exc:
        raise UserError(f"{path}: {exc.args[0]}") from exc
    except (ValueError, TypeError, OSError) as exc:
        raise UserError(f"{path}: not a stays table in the contract's types ({exc})") from exc


def failed_ingest(stays_path: Path) -> str | None:
    """The problems of the ingest that wrote ``stays_path`` when its manifest says it failed."""
    try:
        manifest = json.loads(stays_path.with_name("manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and manifest.get("status") == "failed":
        return "; ".join(manifest.get("problems") or ["status failed"])[:300]
    return None


def mark_reports_subfolder(folder: Path, verb: str, stays_path: Path) -> None:
    """Record, in a folder under ``reports/`` that a verb writes into, the provenance of the data
    behind its outputs (so that a data root with real outputs is never taken for a demo root)."""
    folder = Path(folder).resolve()
    if folder.is_relative_to(config.reports_dir().resolve()):
        mark_shared_output_folder(folder, verb, stays_provenance(stays_path))


def synthetic_stays(path: Path) -> bool:
    """Whether the stays file is marked SYNTHETIC (by its ingest manifest or the generator's marker)."""
    return stays_provenance(path) == "synthetic"


def describe_source(path: Path) -> str:
    """The stays file's path, marked SYNTHETIC, or flagged when its provenance is unknown."""
    provenance = stays_provenance(path)
    if provenance == "synthetic":
        return f"SYNTHETIC {path}"
    if provenance == "unknown":
        return f"{path} (provenance unknown: no ingest manifest beside it)"
    return str(path)


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
    return stays, path, describe_source(path)


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
    capacity = find_capacity(path, args.capacity)
    return defs, stays, path, source, capacity
