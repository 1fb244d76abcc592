"""Output folders that never lose data: which folder a verb may write, and a swap that survives a kill.

Every verb that writes a whole folder (``ingest --out-dir``, ``synth --out``, ``report --out``)
goes through this module:

- :func:`check_output_folder` refuses a path that is a file, that is, holds or lies inside one of
  the verb's inputs, or a folder that holds files the verb did not write (it recognises its own
  folders by a marker it writes: :func:`write_owner_marker`). An empty or new folder is fine.
- :func:`replace_folder` writes into a temporary sibling and swaps it in with two renames.
  Between the renames the previous output lives on as a sibling ``.<name>.old-<pid>``; should the
  process die there, :func:`recover_folder` (run by the next writer, and by readers that want the
  output) puts it back. Leftover temporary folders of dead processes are removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from lvv_eval.errors import UserError

OWNER_FILE = ".lvv-eval-output.json"
_SIBLING = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)(?:-[A-Za-z0-9_]+)?$")


class OutputFolderError(UserError):
    """An output folder that may not be written (it would lose or hide data)."""


def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(str(path))))


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def write_owner_marker(folder: Path, verb: str, **facts: object) -> None:
    """Mark ``folder`` as written by ``lvv-eval <verb>`` (so that a later run may replace it)."""
    record = {"written_by": f"lvv-eval {verb}", "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
              **facts}
    (Path(folder) / OWNER_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")


def folder_provenance(folder: Path) -> str | None:
    """The provenance of the data behind a folder's outputs according to its owner marker
    (``"synthetic"``, ``"real"`` or ``"unknown"``; ``None`` without a marker that says)."""
    try:
        record = json.loads((Path(folder) / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = record.get("provenance") if isinstance(record, dict) else None
    return value if value in ("synthetic", "real", "unknown") else None


def mark_shared_output_folder(folder: Path, verb: str, provenance: str) -> None:
    """Mark a folder that collects the outputs of several runs (``reports/reproduce/``): once an
    output of real or unknown data was written there, the folder stays marked so."""
    before = folder_provenance(folder)
    if before is not None and before != "synthetic":
        provenance = before
    write_owner_marker(folder, verb, provenance=provenance)


def folder_owner(folder: Path) -> str | None:
    """The verb that wrote ``folder`` according to its marker (``None`` when there is no valid one)."""
    marker = Path(folder) / OWNER_FILE
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    written_by = record.get("written_by") if isinstance(record, dict) else None
    if not isinstance(written_by, str) or not written_by.startswith("lvv-eval "):
        return None
    return written_by.removeprefix("lvv-eval ")


def check_output_folder(
    out_dir: Path,
    verb: str,
    *,
    inputs: Sequence[Path] = (),
    is_own: Callable[[Path], bool] | None = None,
) -> Path:
    """The absolute output folder, or an :class:`OutputFolderError` saying in one line why not.

    ``out_dir`` may be new, empty, or a folder ``lvv-eval <verb>`` wrote before (its marker, or
    ``is_own`` for folders of older versions). It may not be a file, nor be, hold or lie inside
    any of ``inputs``.
    """
    if str(out_dir).strip() == "":
        raise OutputFolderError(f"the output folder of `lvv-eval {verb}` is an empty path; name a folder")
    out = _resolved(out_dir)
    for given in inputs:
        inp = _resolved(given)
        if _is_within(out, inp) or _is_within(inp, out):
            relation = "is" if out == inp else ("lies inside" if _is_within(out, inp) else "holds")
            raise OutputFolderError(
                f"output folder {out} {relation} the input {inp}; `lvv-eval {verb}` never writes into or "
                f"over its input: choose an output folder outside it")
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"output folder {out} is a file; `lvv-eval {verb}` would hide it: choose a folder")
    blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputFolderError(f"cannot create output folder {out}: {blocker} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        own = folder_owner(out) == verb or (is_own is not None and is_own(out))
        if not own:
            shown = ", ".join(sorted(p.name for p in out.iterdir())[:5])
            raise OutputFolderError(
                f"output folder {out} holds files that `lvv-eval {verb}` did not write ({shown}); it only "
                f"replaces a folder it wrote itself or an empty one: choose a new or empty folder")
    return out


def _sibling(out_dir: Path, kind: str) -> Path:
    return out_dir.parent / f".{out_dir.name}.{kind}-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(out_dir: Path) -> list[tuple[Path, str, int]]:
    """Temporary (``tmp``) and previous (``old``) siblings of ``out_dir``: (path, kind, pid)."""
    out_dir = _resolved(out_dir)
    if not out_dir.parent.is_dir():
        return []
    found = []
    for path in out_dir.parent.iterdir():
        m = _SIBLING.match(path.name)
        if m and m["name"] == out_dir.name:
            found.append((path, m["kind"], int(m["pid"])))
    return sorted(found, key=lambda f: f[0].stat().st_mtime if f[0].exists() else 0)


def recover_folder(out_dir: Path) -> list[str]:
    """Finish what a killed writer left: restore a previous output that was moved aside while the
    folder itself is missing, and remove temporary folders of processes that are gone.

    Returns what was done, one line each (empty when there was nothing to do).
    """
    out_dir = _resolved(out_dir)
    done = []
    for path, kind, pid in leftovers(out_dir):
        if _pid_alive(pid) and pid != os.getpid():
            continue  # another run is writing right now
        if kind == "old" and not out_dir.exists():
            os.replace(path, out_dir)
            done.append(f"restored the previous output {out_dir} from {path.name} (a run was stopped mid-swap)")
        else:
            shutil.rmtree(path, ignore_errors=True)
            done.append(f"removed {path.name} left by a stopped run")
    return done


def replace_folder(out_dir: Path, write: Callable[[Path], None]) -> list[str]:
    """Run ``write(tmp)`` into a fresh temporary sibling, then put it in the place of ``out_dir``.

    At every moment the previous output is either at ``out_dir`` or at ``.<name>.old-<pid>``
    beside it (restored by :func:`recover_folder`); a failed ``write`` leaves ``out_dir`` as it was.
    Returns the recovery lines of :func:`recover_folder` run first.
    """
    out_dir = _resolved(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    notes = recover_folder(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-", dir=out_dir.parent))
    try:
        write(tmp)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.filename:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(out_dir)) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = _sibling(out_dir, "old") if out_dir.exists() else None
    if old is not None:
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
    return notes
