"""The compiled hot paths' guard (connect.compiled): compiled only when built from these sources.

The unit suite itself runs the pure-Python modules (``CONNECT_PURE_PYTHON=1`` in
``make test-unit``) and the other suites run them compiled, so both forms are tested.
These tests check the switch between them in fresh interpreters: an extension
module is preferred by Python's import system, so a build older than its sources
must be bypassed, all of it, and the variable must win over a current build.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from connect import build_compiled, compiled

PROBE = (
    "import importlib, json, connect.compiled as c\n"
    "files = {m: importlib.import_module(m).__file__ for m in c.MODULES}\n"
    "print(json.dumps({**c.status(), 'files': files}))\n"
)


def _probe(pythonpath: Path | None = None, **env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if k != compiled.ENV}
    if pythonpath is not None:
        clean["PYTHONPATH"] = str(pythonpath)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=pythonpath or Path.cwd(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, object] = json.loads(proc.stdout.splitlines()[-1])
    return result


def _tree_with_unloadable_build(tmp_path: Path) -> Path:
    """A copy of the package whose manifest matches its sources and whose "extensions" are junk.

    Importing one of them fails ("invalid ELF header"), so a test sees at once which
    file each module was loaded from, without a C compiler.
    """
    root = tmp_path / "tree"
    shutil.copytree(
        compiled.PACKAGE_DIR,
        root / "connect",
        ignore=shutil.ignore_patterns("static", "__pycache__", "*.so", "_compiled.json"),
    )
    for module in compiled.MODULES:
        rel = compiled.extension(module).relative_to(compiled.PACKAGE_DIR)
        (root / "connect" / rel).write_bytes(b"not an ELF file")
    manifest = {
        "suffix": compiled.SUFFIX,
        "modules": list(compiled.MODULES),
        "sources": compiled.digests(build_compiled.inputs()),
    }
    (root / "connect" / "_compiled.json").write_text(json.dumps(manifest))
    return root


def _import_in(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter on the tree ``root``, without the pure-Python switch."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env={k: v for k, v in os.environ.items() if k != compiled.ENV} | {"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=root,
    )


def test_the_variable_serves_every_module_from_its_source() -> None:
    result = _probe(**{compiled.ENV: "1"})
    assert result["state"] == "pure"
    assert result["modules"] == []
    files = result["files"]
    assert isinstance(files, dict)
    assert all(str(f).endswith(".py") for f in files.values()), files


def test_a_current_build_is_loaded_and_trusted(tmp_path: Path) -> None:
    root = _tree_with_unloadable_build(tmp_path)
    proc = _import_in(root, "import connect.gateway.codec")
    # The junk extension was preferred to codec.py: what the guard must prevent when stale.
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr, proc.stderr[-2000:]


def test_an_extension_outside_the_group_is_never_loaded(tmp_path: Path) -> None:
    """A module that left the group keeps no say: its old extension is not in the manifest."""
    root = _tree_with_unloadable_build(tmp_path)
    (root / "connect" / "gateway" / f"close_codes{compiled.SUFFIX}").write_bytes(b"junk")
    proc = _import_in(root, "import connect.gateway.close_codes as c; print(c.__file__)")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("close_codes.py"), proc.stdout


@pytest.mark.parametrize("edited", ["gateway/hub.py", "errors.py"])
def test_an_edit_since_the_build_serves_every_module_from_source(
    tmp_path: Path, edited: str
) -> None:
    """A compiled module edited, or a module it imports: the whole group runs from source."""
    root = _tree_with_unloadable_build(tmp_path)
    with (root / "connect" / edited).open("a") as f:
        f.write("\n# edited after the build\n")
    result = _probe(root)
    assert result["state"] == "pure"
    assert edited in str(result["reason"]), result["reason"]
    files = result["files"]
    assert isinstance(files, dict)
    assert all(str(f).endswith(".py") for f in files.values()), files


def test_the_build_on_disk_runs_compiled_unless_told_otherwise() -> None:
    """After `make install` (CI): every module compiled; without a build, a named skip."""
    state, reason = compiled.built()
    if state != "compiled":
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: the compiled modules are not built ({reason}); run make install")
        pytest.skip(f"compiled modules not built here ({reason})")
    result = _probe()
    assert result["state"] == "compiled", result
    assert result["modules"] == list(compiled.MODULES)
    assert _probe(**{compiled.ENV: "1"})["modules"] == []


def test_no_function_binds_one_name_to_two_exception_types() -> None:
    """mypyc types ``except A as exc`` by the first clause: ``except B as exc`` then raised TypeError.

    Found by the integration suite (an invalid payload closed the socket instead of
    answering ``invalid_payload``); this keeps the pattern out of the compiled modules.
    """
    found = []
    for module in compiled.MODULES:
        tree = ast.parse(compiled.source(module).read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            types: dict[str, set[str]] = {}
            for node in ast.walk(fn):
                if isinstance(node, ast.ExceptHandler) and node.name and node.type:
                    types.setdefault(node.name, set()).add(ast.unparse(node.type))
            found += [f"{module}.{fn.name}: {n} {t}" for n, t in types.items() if len(t) > 1]
    assert not found, found
