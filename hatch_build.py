"""Wheel build hook: ship the compiled hot paths when the source tree has them.

``python -m connect.build_compiled build`` puts each module's extension beside its
source (an artifact in pyproject.toml, as they are gitignored) and the code of all of
them in one shared library at the top of ``src/``, outside the package: mypyc's
extensions import it by that top-level name. This adds that library to the wheel and
tags the wheel for this interpreter and platform. An editable install gets nothing
from here: it imports straight from ``src/``, where the build writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompiledModules(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        libs = sorted((Path(self.root) / "src").glob("connect_native__mypyc.*"))
        for lib in libs:
            build_data["force_include"][str(lib)] = lib.name
        if libs:
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
