"""Applying the Alembic migrations shipped inside the package.

The Alembic configuration is built in code so the migrations travel with the
installed package and need no alembic.ini next to the working directory.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@functools.cache
def current_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@functools.cache
def known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(rev.revision for rev in script.walk_revisions())


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
