"""Unit fixtures: the real service graph on a throw-away SQLite file and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connect.clock import FakeClock
from connect.services import Services, build_services
from connect.settings import Settings
from connect.storage.migrate import upgrade


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def svc(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        autosuspend_reporters=3,
        report_spam_per_hour=3,
        next_streak_count=5,
        next_streak_short_s=3,
        next_streak_window_s=60,
        token_churn_devices=4,
        captcha_max_number=2000,
    )
    import asyncio

    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    services = build_services(settings, clock)
    yield services
    await services.db.close()
