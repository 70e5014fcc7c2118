from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.client import CONTRACT_VIOLATIONS


@pytest.fixture(autouse=True)
def server_frames_follow_the_contract() -> Iterator[None]:
    CONTRACT_VIOLATIONS.clear()
    yield
    assert CONTRACT_VIOLATIONS == []
