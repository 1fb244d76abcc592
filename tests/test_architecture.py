"""The package's rooms keep their boundaries: the library never imports the command line, and
only the command line (with its `run` orchestration) may import the synthetic generator."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lvv_eval

PACKAGE = Path(lvv_eval.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every lvv_eval module that ``path`` imports, at any depth of the file (lazy imports too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "lvv_eval" or name.startswith("lvv_eval.")}


def library_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def room(path: Path) -> str:
    """The first package level below lvv_eval (the module name for core modules)."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_scan_sees_lazy_and_relative_imports(tmp_path):
    probe = PACKAGE / "measures" / "reproduce.py"
    assert "lvv_eval.measures.definitions" in imported_modules(probe)
    run = PACKAGE / "cli" / "run.py"
    assert any(_in(name, "lvv_eval.synth") for name in imported_modules(run))  # a lazy import


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_command_line_imports_the_command_line(path):
    if room(path) == "cli":
        return
    bad = sorted(n for n in imported_modules(path) if _in(n, "lvv_eval.cli"))
    assert not bad, f"{path.relative_to(PACKAGE)} imports the command line: {bad}"


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_command_line_and_the_generator_import_the_generator(path):
    if room(path) in ("cli", "synth"):
        return
    bad = sorted(n for n in imported_modules(path) if _in(n, "lvv_eval.synth"))
    assert not bad, f"{path.relative_to(PACKAGE)} imports the synthetic generator: {bad}"


def test_the_core_imports_no_stage():
    core = [p for p in PACKAGE.glob("*.py")]
    assert {p.stem for p in core} >= {"config", "schema", "files", "pseudonym", "errors"}
    for path in core:
        stages = sorted(n for n in imported_modules(path)
                        if n.count(".") >= 1 and (PACKAGE / n.split(".")[1]).is_dir())
        assert not stages, f"core module {path.name} imports a stage package: {stages}"


def test_the_json_schemas_for_editors_match_the_spec_models():
    """lvv_eval/specs/schemas/*.schema.json are written from the pydantic models; a model change
    without `python scripts/export_json_schemas.py` leaves them stale."""
    import importlib.util

    path = PACKAGE.parent / "scripts" / "export_json_schemas.py"
    spec = importlib.util.spec_from_file_location("export_json_schemas", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--check"]) == 0
    assert len(list(script.SCHEMAS_DIR.glob("*.schema.json"))) == len(script.MODELS)
