"""Compiled hot paths: the relay's modules as mypyc extensions, pure Python as the fallback.

``make install`` (and the Dockerfile) run ``python -m connect.build_compiled build``: mypyc
compiles :data:`MODULES` into C extensions that sit next to their ``.py`` files
(``connect/gateway/codec.cpython-311-x86_64-linux-gnu.so`` ...; the code of all of them
is in one shared library, ``src/connect_native__mypyc...so``), and writes a manifest
(``connect/_compiled.json``) with the SHA-256 of every source the build read: the
compiled modules and the ``connect`` modules they import.

Python's import system prefers an extension module to a ``.py`` of the same name, so a
developer who edits ``endpoint.py`` and forgets to rebuild would run the old code
without a sign of it. :func:`install` (called by ``connect/__init__.py``, before any
of these modules can be imported) therefore compares the manifest with the sources
on disk. When any of them differs, when ``CONNECT_PURE_PYTHON=1`` is set, or when the
build is for another interpreter, a meta-path finder serves **every** module of the
group from its ``.py``: all or none, because compiled modules call each other
directly and share classes (a compiled ``endpoint`` would keep calling the old
compiled ``codec`` and catch its own ``FrameError``, not the edited module's).
:func:`status` says which it is; the server logs it at start-up and exports it as
``connect_compiled_modules``.

Why these modules: they are what a relayed frame runs through in the read callback
(docs/benchmarks.md, "Compiled hot paths (mypyc)"). Modules of pydantic models are
left alone (their validation already runs in pydantic-core), and so is
``websocket.py``: its classes subclass picows' Cython types, which mypyc's native
classes cannot do (compiled, the server crashed at the first upgrade).
``gateway/endpoint.py`` was out of the group for a while: compiled, about a sixth of the
hellos refused during a PostgreSQL outage got ``internal_error`` (1011) instead of
``unavailable`` (1013) (tests/cluster/test_pg_faults.py), because the ban index's one
shared reload failure reached them with a traceback that no longer held the database
client's frames; that failure is now attributed where it happens
(:class:`connect.errors.DependencyDown`). The relay's session lookup and transcript
(``signaling.service``, ``sessions``) are not in the group yet.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

MODULES = (
    "connect.clock",
    "connect.ids",
    "connect.ratelimit",
    "connect.gateway.codec",
    "connect.gateway.connection",
    "connect.gateway.dispatch",
    "connect.gateway.endpoint",
    "connect.gateway.hub",
    "connect.gateway.link",
    "connect.signaling.textfilter",
)
GROUP = "connect_native"  # the shared library: connect_native__mypyc<EXT_SUFFIX>
ENV = "CONNECT_PURE_PYTHON"
PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST = PACKAGE_DIR / "_compiled.json"
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
FRESH = "built from these sources"


def source(module: str) -> Path:
    return PACKAGE_DIR.joinpath(*module.split(".")[1:]).with_suffix(".py")


def extension(module: str) -> Path:
    return source(module).with_suffix(SUFFIX)


def digests(paths: Sequence[Path]) -> dict[str, str]:
    return {
        p.relative_to(PACKAGE_DIR).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
    }


class _SourceFinder:
    """Imports modules from their ``.py`` files, ahead of the extensions beside them.

    ``pure``: the whole group. Always: a ``connect`` module outside :data:`MODULES` that
    has an extension anyway (one that left the group since that build: the manifest does
    not cover it, so it is never trusted).
    """

    def __init__(self, pure: bool) -> None:
        self.pure = pure

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("connect."):
            return None
        if fullname in MODULES:
            if not self.pure:
                return None
        elif not extension(fullname).is_file():
            return None
        return importlib.util.spec_from_file_location(fullname, source(fullname))


_state: dict[str, str] = {"state": "pure", "reason": "not installed"}


def _decide() -> tuple[str, str]:
    if os.environ.get(ENV, "") not in ("", "0"):
        return "pure", f"{ENV}={os.environ[ENV]}"
    return built()


def built() -> tuple[str, str]:
    """Whether the extensions on disk were built from the sources on disk, and if not why."""
    built = [m for m in MODULES if extension(m).is_file()]
    if not MANIFEST.is_file():
        return "pure", "no build manifest" if built else "not built"
    try:
        manifest: dict[str, Any] = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return "pure", "unreadable build manifest"
    if manifest.get("suffix") != SUFFIX or manifest.get("modules") != list(MODULES):
        return "pure", "built for another interpreter or module list"
    if len(built) != len(MODULES):
        return "pure", "extensions missing"
    recorded: dict[str, str] = manifest.get("sources", {})
    paths = [PACKAGE_DIR / rel for rel in recorded]
    if not all(p.is_file() for p in paths):
        return "pure", "a source of the build is gone"
    changed = [rel for rel, digest in digests(paths).items() if recorded[rel] != digest]
    if changed:
        return "pure", f"stale: {', '.join(changed[:3])} changed since the build"
    return "compiled", FRESH


def install() -> None:
    """Decide once per process, before the modules are imported; serve sources if not compiled."""
    if _state["reason"] != "not installed":
        return
    state, reason = _decide()
    _state.update(state=state, reason=reason)
    if not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder(pure=state == "pure"))


def loaded() -> list[str]:
    """The group's modules imported so far from a compiled extension."""
    found = []
    for name in MODULES:
        module = sys.modules.get(name)
        if module is not None and (getattr(module, "__file__", None) or "").endswith(SUFFIX):
            found.append(name)
    return found


def status() -> dict[str, Any]:
    """``state`` (compiled or pure), ``reason``, and the modules running compiled."""
    return {**_state, "modules": loaded()}
