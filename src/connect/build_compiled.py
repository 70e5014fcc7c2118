"""Building the compiled hot paths: ``python -m connect.build_compiled`` (make install, Dockerfile).

mypyc compiles :data:`connect.compiled.MODULES` into one group of C extensions, placed
beside their sources in this source tree, then writes the manifest that
:mod:`connect.compiled` checks at every start. It rebuilds only when that check says
the build is not current, so ``make install`` costs nothing when nothing changed (a
full build is about a minute of CPU). It needs a C compiler, the Python headers and
mypy (the dev lock, or requirements.build.lock for a serving install); without them
the service runs the same code as pure Python, and ``--required`` (CI) makes that an
error.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from connect import compiled
from connect.compiled import (
    FRESH,
    GROUP,
    MANIFEST,
    MODULES,
    PACKAGE_DIR,
    SUFFIX,
    digests,
    source,
)


def inputs() -> list[Path]:
    """What a build reads: the compiled modules and every ``connect`` module they import.

    A compiled module is built against the types of what it imports (a constant can
    be folded in, a return type checked), so an edit there makes the build stale too.
    """
    found: set[Path] = set()
    for module in MODULES:
        path = source(module)
        found.add(path)
        for node in ast.walk(ast.parse(path.read_bytes())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.split(".")[0] == "connect":
                    found.update(_module_files(name))
    return sorted(found)


def _module_files(name: str) -> list[Path]:
    base = PACKAGE_DIR.joinpath(*name.split(".")[1:])
    if base.with_suffix(".py").is_file():
        return [base.with_suffix(".py")]
    if (base / "__init__.py").is_file():
        return [base / "__init__.py"]
    return []  # ``from connect.x import name`` where name is no module


def build(root: Path, *, required: bool) -> int:
    """Compile :data:`MODULES` in the source tree at ``root`` unless the build is current."""
    group = {compiled.extension(m) for m in MODULES}
    for stray in PACKAGE_DIR.rglob(f"*{SUFFIX}"):  # modules that left the group (never loaded)
        if stray not in group:
            stray.unlink()
    if compiled.built() == ("compiled", FRESH):
        print("compiled modules: up to date")
        return 0
    missing = _missing_toolchain()
    if missing:
        print(f"{'error' if required else 'note'}: cannot compile the hot paths: {missing};"
              " serving pure Python")  # fmt: skip
        return 1 if required else 0
    before = digests(inputs())
    from mypyc.build import mypycify  # the build tool: dev and build lock files pin mypy
    from setuptools import setup  # type: ignore[import-untyped]

    work = root / "build" / "mypyc"
    shutil.rmtree(work / "lib", ignore_errors=True)
    os.chdir(root)  # mypy reads its configuration (pyproject.toml) here
    extensions = mypycify(
        [str(source(m).relative_to(root)) for m in MODULES],
        opt_level="3",
        group_name=GROUP,
        target_dir=str(work / "c"),
    )
    setup(
        name="connect-compiled",
        ext_modules=extensions,
        script_args=["-q", "build_ext", "--build-lib", str(work / "lib"), "--build-temp",
                     str(work / "tmp"), "--parallel", "2"],
    )  # fmt: skip
    if digests(inputs()) != before:
        print("error: the sources changed during the build; run it again")
        return 1
    MANIFEST.unlink(missing_ok=True)  # pure Python until every extension is in place
    lib_root = work / "lib"
    for built in sorted(lib_root.rglob(f"*{SUFFIX}")):
        dest = PACKAGE_DIR.parent / built.relative_to(lib_root)
        staged = dest.with_name(dest.name + ".new")
        staged.write_bytes(built.read_bytes())
        os.replace(staged, dest)  # a process importing meanwhile sees the old file or the new
    manifest = {"suffix": SUFFIX, "modules": list(MODULES), "sources": before}
    staged = MANIFEST.with_name(MANIFEST.name + ".new")
    staged.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(staged, MANIFEST)
    print(f"compiled modules: {len(MODULES)} built")
    return 0


def clean() -> None:
    """Remove the extensions and the manifest: every process then serves pure Python."""
    MANIFEST.unlink(missing_ok=True)
    for module in MODULES:
        compiled.extension(module).unlink(missing_ok=True)
    for lib in PACKAGE_DIR.parent.glob(f"{GROUP}__mypyc*{SUFFIX}"):
        lib.unlink()


def _missing_toolchain() -> str:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return "no C compiler (gcc)"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        return "no Python headers (Python.h)"
    if importlib.util.find_spec("mypyc") is None:
        return "mypy/mypyc is not installed (requirements.build.lock)"
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connect.build_compiled", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="compile the hot paths if the build is not current")
    b.add_argument("--required", action="store_true", help="a missing toolchain is an error")
    sub.add_parser("clean", help="remove the compiled modules")
    st = sub.add_parser("status", help="import the modules, print how they run (JSON)")
    st.add_argument("--require-compiled", action="store_true", help="exit 1 unless compiled")
    args = parser.parse_args(argv)
    root = PACKAGE_DIR.parent.parent
    if args.command == "build":
        if not (root / "pyproject.toml").is_file():
            parser.error(f"{root} is not a source tree (no pyproject.toml)")
        return build(root, required=args.required)
    if args.command == "clean":
        clean()
        return 0
    for name in MODULES:
        __import__(name)
    status = compiled.status()
    print(json.dumps(status))
    return 1 if args.require_compiled and status["state"] != "compiled" else 0


if __name__ == "__main__":
    sys.exit(main())
