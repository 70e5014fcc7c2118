"""An outage met by work many callers share is still recognised as an outage by each.

The ban index is reloaded by one query however many requests find it stale; when the
database is down, every waiter re-raises that query's one exception. A bare
``ConnectionRefusedError`` is attributed to the database by the library frames of its
traceback, which the waiters' own frames extend (and, in a compiled module, cut): so it
is attributed once, where it happened, and each waiter sees a ``database`` outage (a
503 or a 1013 "try again") whatever its traceback says by then.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from connect.clock import SystemClock
from connect.errors import DependencyDown, dependency_cause
from connect.services import build_services
from connect.settings import Settings
from tests.support.server import free_port


async def test_every_waiter_of_a_failed_index_reload_sees_a_database_outage(
    tmp_path: Path,
) -> None:
    nobody = free_port()  # a real asyncpg connection, refused by a closed port
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        database_url=f"postgresql+asyncpg://connect@127.0.0.1:{nobody}/connect",
    )
    services = build_services(settings, SystemClock())
    try:
        failures = await asyncio.gather(
            *(services.bans.refuse_if_banned(device_id=f"d{i}") for i in range(5)),
            return_exceptions=True,
        )
    finally:
        await services.db.close()
    assert all(isinstance(f, BaseException) for f in failures), failures
    for failure in failures:
        assert isinstance(failure, BaseException)
        assert isinstance(failure, DependencyDown), repr(failure)
        # Whatever the frames it carries by now, it is the database that is down.
        assert dependency_cause(failure.with_traceback(None)) == "database"
