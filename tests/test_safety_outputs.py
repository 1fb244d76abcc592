"""Issue 9, points 1, 3-7 and 10: output folders never lose, hide or mislabel data.

Every verb that writes a folder refuses one it did not write, the swap survives a kill at any
step, a real data root never receives synthetic data, OS errors are one line, and a weak
pseudonymisation key is refused.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from lvv_eval import config
from lvv_eval.cli import main as cli_main
from lvv_eval.dataroot import default_deliveries_dir, real_data_found
from lvv_eval.ingest.errors import IngestError
from lvv_eval.ingest.pipeline import run_ingest
from lvv_eval.outputs import OutputFolderError, leftovers, recover_folder, replace_folder
from tests.helpers.small_delivery import write_delivery
from tests.helpers.synthetic import mark_synthetic

STRONG_KEY = "k3Y-for-tests_0123456789-abcdefghijKLMN"


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- point 1: a verb only replaces a folder it wrote itself, or an empty one ----------------

@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_ingest_never_writes_into_or_over_its_raw_folder(tmp_path, capsys, where):
    raw, src = write_delivery(tmp_path)
    before = _snapshot(raw)
    out = {"same": raw, "inside": raw / "clean", "around": tmp_path}[where]
    code = cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--sources-dir", str(src)])
    line = _one_error_line(capsys)
    assert code == 2 and "input" in line and str(raw) in line
    assert _snapshot(raw) == before


def test_ingest_refuses_a_folder_with_files_it_did_not_write_and_a_file(tmp_path, capsys):
    raw, src = write_delivery(tmp_path)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.docx").write_bytes(b"my thesis")
    assert cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(other), "--sources-dir", str(src)]) == 2
    assert "did not write" in _one_error_line(capsys) and (other / "notes.docx").read_bytes() == b"my thesis"
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    assert cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(afile), "--sources-dir", str(src)]) == 2
    assert "is a file" in _one_error_line(capsys) and afile.read_text() == "keep me"


def test_ingest_replaces_its_own_output_and_an_empty_folder(tmp_path):
    raw, src = write_delivery(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    run_ingest(raw, out, sources_dir=src, progress=False)
    first = json.loads((out / "manifest.json").read_text())["created_utc"]
    run_ingest(raw, out, sources_dir=src, progress=False)  # its own folder: replaced
    assert json.loads((out / "manifest.json").read_text())["created_utc"] >= first
    assert json.loads((out / ".lvv-eval-output.json").read_text())["written_by"] == "lvv-eval ingest"


def test_ingest_never_writes_synthetic_output_over_cleaned_real_data(tmp_path, monkeypatch):
    real_raw, src = write_delivery(tmp_path / "real", synthetic=False)
    monkeypatch.setenv("LVV_PSEUDONYM_KEY", STRONG_KEY)
    out = tmp_path / "clean"
    run_ingest(real_raw, out, sources_dir=src, progress=False)
    before = _snapshot(out)
    syn_raw, _ = write_delivery(tmp_path / "syn")
    with pytest.raises(OutputFolderError, match="REAL"):
        run_ingest(syn_raw, out, sources_dir=src, progress=False)
    assert _snapshot(out) == before


def test_synth_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "deliveries.xlsx").write_bytes(b"real")
    assert cli_main(["synth", "--out", str(other), "--quiet"]) == 2
    assert "did not write" in _one_error_line(capsys) and (other / "deliveries.xlsx").read_bytes() == b"real"


def test_report_refuses_a_folder_it_did_not_write_and_its_input(tmp_path, capsys, truth_stays_file):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    assert cli_main(["report", "--stays", str(truth_stays_file), "--out", str(other)]) == 2
    assert "did not write" in _one_error_line(capsys) and (other / "keep.txt").read_text() == "x"
    assert cli_main(["report", "--stays", str(truth_stays_file), "--out", str(truth_stays_file.parent)]) == 2
    assert "input" in _one_error_line(capsys)


# ---- point 4: the swap survives a kill at every step ------------------------------------------

CHILD = textwrap.dedent("""
    import os, shutil, signal, sys
    from pathlib import Path
    from lvv_eval import outputs

    out, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    calls = [0]

    def killing(fn):
        def wrapped(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return wrapped

    os.replace = killing(os.replace)
    shutil.rmtree = killing(shutil.rmtree)

    def write(tmp):
        (tmp / "a.txt").write_text("new")
        if kill_at == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        (tmp / "b.txt").write_text("new")

    outputs.replace_folder(out, write)
    print("calls", calls[0])
""")


def _run_child(out: Path, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(out), str(kill_at)], capture_output=True, text=True,
                          cwd=Path(config.PROJECT_ROOT), timeout=120)


def test_a_run_killed_at_any_step_of_the_swap_leaves_the_previous_output_restorable(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("previous")
    done = _run_child(out, kill_at=-1)  # a full run, to count the file operations of a swap
    assert done.returncode == 0, done.stderr
    steps = int(done.stdout.split()[-1])
    assert steps >= 3  # rmtree(old, stale), replace(out -> old), replace(tmp -> out), rmtree(old)
    for kill_at in range(0, steps + 1):
        shutil.rmtree(out)
        out.mkdir()
        (out / "a.txt").write_text("previous")
        killed = _run_child(out, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        # right after the kill: the previous or the new output is in place, or the previous is beside it
        if out.exists():
            assert (out / "a.txt").read_text() in ("previous", "new"), kill_at
        else:
            olds = [p for p, kind, _ in leftovers(out) if kind == "old"]
            assert [p.joinpath("a.txt").read_text() for p in olds] == ["previous"], kill_at
        recover_folder(out)  # what the next run does first
        assert (out / "a.txt").read_text() in ("previous", "new") and leftovers(out) == [], kill_at
        replace_folder(out, lambda tmp: (tmp / "a.txt").write_text("next"))
        assert (out / "a.txt").read_text() == "next" and leftovers(out) == [], kill_at


def test_the_next_ingest_restores_or_cleans_up_after_a_killed_one(tmp_path):
    raw, src = write_delivery(tmp_path)
    out = tmp_path / "clean"
    run_ingest(raw, out, sources_dir=src, progress=False)
    previous = _snapshot(out)
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
    os.replace(out, tmp_path / f".clean.old-{dead_pid}")  # killed between the two renames
    (tmp_path / f".clean.tmp-{dead_pid}-x1").mkdir()  # and a half-written folder of that run
    assert recover_folder(out) and _snapshot(out) == previous
    (tmp_path / f".clean.tmp-{dead_pid}-x2").mkdir()
    run_ingest(raw, out, sources_dir=src, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".clean")) == []


# ---- points 3 and 6: a real data root never receives synthetic data --------------------------

def _real_root(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "secure"
    (root / "data_raw" / "amsterdam").mkdir(parents=True)
    (root / "data_raw" / "amsterdam" / "LVV Amsterdam.xlsx").write_bytes(b"not a workbook")
    (root / "data_clean").mkdir()
    (root / "data_clean" / "manifest.json").write_text(json.dumps(
        {"synthetic": False, "row_accounting": [], "outputs": {}, "inputs": []}))  # as ingest writes it
    (root / "data_clean" / "stays.parquet").write_bytes(b"real cleaned data")
    monkeypatch.setenv("LVV_DATA_ROOT", str(root))
    monkeypatch.setenv("LVV_PSEUDONYM_KEY", STRONG_KEY)
    return root


def test_run_on_a_real_data_root_never_synthesises_nor_replaces_real_data(tmp_path, monkeypatch, capsys):
    root = _real_root(tmp_path, monkeypatch)
    before = _snapshot(root)
    assert real_data_found(root)
    code = cli_main(["run"])
    assert code == 2  # the ingest of the (broken) real delivery fails: one line, nothing replaced
    assert not (root / "data_raw" / "synthetic").exists()
    assert _snapshot(root) == before
    out = capsys.readouterr()
    assert "REAL data root" in out.out and "missing file" in out.err


def test_run_refuses_a_real_root_without_deliveries_and_synth_refuses_it(tmp_path, monkeypatch, capsys):
    root = _real_root(tmp_path, monkeypatch)
    shutil.rmtree(root / "data_raw" / "amsterdam")
    before = _snapshot(root)
    assert cli_main(["run"]) == 2
    line = _one_error_line(capsys)
    assert "holds real data" in line and "data_clean" in line and "never writes SYNTHETIC" in line
    assert cli_main(["synth", "--quiet"]) == 2
    assert "never writes under a real data root" in _one_error_line(capsys)
    assert _snapshot(root) == before and not (root / "data_raw" / "synthetic").exists()


def test_an_unmarked_synthetic_folder_counts_as_real(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "data_raw" / "synthetic" / "amsterdam").mkdir(parents=True)
    (root / "data_raw" / "synthetic" / "README.md").write_text("SYNTHETIC LVV deliveries\n")
    (root / "data_raw" / "synthetic" / "amsterdam" / "a.xlsx").write_bytes(b"x")
    assert real_data_found(root) == [
        "data_raw/synthetic (no SYNTHETIC.json written by `lvv-eval synth` in "
        f"{root / 'data_raw' / 'synthetic'})"]
    mark_synthetic(root / "data_raw" / "synthetic")
    assert real_data_found(root) == []


def test_the_real_layout_reads_deliveries_straight_from_data_raw(tmp_path, monkeypatch, capsys):
    root = tmp_path / "secure"
    root.mkdir()
    monkeypatch.setenv("LVV_DATA_ROOT", str(root))
    assert default_deliveries_dir() == root / "data_raw"
    assert cli_main(["ingest"]) == 2
    line = _one_error_line(capsys)
    assert str(root / "data_raw") in line and "synthetic" not in line.split("does not exist")[0]
    assert cli_main(["run"]) == 2
    assert "no deliveries in" in _one_error_line(capsys)
    monkeypatch.delenv("LVV_DATA_ROOT")
    assert default_deliveries_dir() == config.PROJECT_ROOT / "data_raw" / "synthetic"


# ---- point 5: operating-system errors are one line naming the path and the cause ----------

def test_a_path_under_a_file_and_an_empty_path_are_one_line(tmp_path, capsys):
    raw, src = write_delivery(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(afile / "sub"), "--sources-dir", str(src)]) == 2
    line = _one_error_line(capsys)
    assert str(afile) in line and "is a file" in line
    assert cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", "", "--sources-dir", str(src)]) == 2
    assert "empty path" in _one_error_line(capsys)
    assert cli_main(["synth", "--out", str(afile / "sub"), "--quiet"]) == 2
    assert str(afile) in _one_error_line(capsys)


@pytest.mark.parametrize(("err", "words"), [(errno.ENOSPC, "No space left on device"),
                                             (errno.EACCES, "Permission denied"),
                                             (errno.EROFS, "Read-only file system")])
def test_a_full_disk_or_a_read_only_folder_is_one_line(tmp_path, capsys, monkeypatch, err, words):
    raw, src = write_delivery(tmp_path)

    def failing(*args, **kwargs):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    out = tmp_path / "out"
    assert cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--sources-dir", str(src),
                     "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert words in line and str(out) in line and "Traceback" not in line
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


# ---- point 7: no tracked file lives in a folder that is replaced whole ----------------------

def test_generated_folders_hold_no_tracked_files():
    root = Path(config.PROJECT_ROOT)
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    swapped = ["data_clean", "data_raw/synthetic"]
    tracked = subprocess.run(["git", "ls-files", "--", *swapped], cwd=root, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked == []


# ---- point 10: a weak pseudonymisation key is refused, saying why ---------------------------

@pytest.mark.parametrize(("key", "why"), [("x", "1 characters"), ("a" * 40, "different characters"),
                                          (config.DEMO_PSEUDONYM_KEY, "public demo key")])
def test_a_weak_key_is_refused_with_the_reason(tmp_path, monkeypatch, key, why):
    raw, src = write_delivery(tmp_path, synthetic=False)
    monkeypatch.setenv("LVV_PSEUDONYM_KEY", key)
    with pytest.raises(IngestError, match=why) as info:
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert "re-identify" in str(info.value) and not (tmp_path / "out").exists()
    monkeypatch.setenv("LVV_PSEUDONYM_KEY", STRONG_KEY)
    assert run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False).manifest["synthetic"] is False
