"""The SQL engine and sessions (SQLite by default, PostgreSQL in a cluster)."""

from __future__ import annotations

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

# How long opening one PostgreSQL connection may take. asyncpg's default is 60 s: with
# the server hung (stopped, or a black-holed address) every request and every gateway
# hello would wait that long before it could answer 503.
PG_CONNECT_TIMEOUT_S = 5.0
# How long one statement may take (asyncpg has no default): with the server hung mid-way
# (SIGSTOP, a network partition) a request must end in a 503, not wait for TCP to give up.
# Far above any statement the service runs (milliseconds), so only a hang reaches it.
PG_COMMAND_TIMEOUT_S = 10.0


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_pre_ping=not sqlite,
            connect_args={}
            if sqlite
            else {"timeout": PG_CONNECT_TIMEOUT_S, "command_timeout": PG_COMMAND_TIMEOUT_S},
        )
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def revision(self) -> str | None:
        """The Alembic revision the schema is at; None when it was never migrated."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(_revision)

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """WAL lets readers work while one writer commits; foreign keys are off by default in SQLite."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None
