"""Applying the Alembic migrations shipped inside the package, and knowing their head.

The Alembic configuration is built in code so the migrations travel with the
installed package and need no alembic.ini next to the working directory.

A serving node asks only which revisions exist (start-up and ``/health/ready``
compare the database's revision with the head). That is read from the revision
files' ``revision``/``down_revision`` lines without Alembic: importing Alembic
(and Mako) kept about 10 MB resident in every node for a question answered once.
Alembic is imported only to migrate (``connect migrate``, ``serve --migrate``).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSIONS = MIGRATIONS / "versions"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def _parents(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"down_revision is not a literal revision: {value!r}")


def revision_graph() -> dict[str, tuple[str, ...]]:
    """Each revision in ``versions/`` with the revisions it follows (its
    ``down_revision``), read as literals from the files, the way Alembic finds them."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted(VERSIONS.glob("*.py")):
        found: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
            pair: tuple[ast.expr, ast.expr] | None = None
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                pair = (node.target, node.value)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                pair = (node.targets[0], node.value)
            name = pair[0].id if pair is not None and isinstance(pair[0], ast.Name) else ""
            if pair is not None and name in ("revision", "down_revision"):
                found[name] = ast.literal_eval(pair[1])
        revision = found.get("revision")
        if not isinstance(revision, str):
            continue  # not a revision file (Alembic skips it too)
        graph[revision] = _parents(found.get("down_revision"))
    return graph


@functools.cache
def current_head() -> str | None:
    graph = revision_graph()
    followed = {parent for parents in graph.values() for parent in parents}
    heads = sorted(set(graph) - followed)
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {', '.join(heads)}")
    return heads[0] if heads else None


@functools.cache
def known_revisions() -> frozenset[str]:
    return frozenset(revision_graph())


def schema_problem(revision: str | None) -> str | None:
    """Why a database at ``revision`` cannot serve this version, or None when it can.

    A revision this version does not know was written by a newer release: our
    migrations only add (docs/operations.md), so during a rolling upgrade the
    nodes still on the old release keep serving on the migrated schema.
    """
    head = current_head()
    if revision == head:
        return None
    if revision is None:
        return "the database is not migrated"
    if revision not in known_revisions():
        return None
    return f"the database schema is at {revision}, this version needs {head}"
