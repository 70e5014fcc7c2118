"""The test harness itself: a server start survives a port taken under its feet."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import tests.support.server as server_module
from tests.support.http import loopback_get


def test_a_port_taken_before_the_server_binds_it_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """free_port names a port that was free a moment ago; another worker may bind it first."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        offered = iter([taken])
        real = server_module.free_port
        monkeypatch.setattr(server_module, "free_port", lambda: next(offered, None) or real())
        srv = server_module.start_server(tmp_path)
        try:
            assert srv.port != taken
            assert loopback_get(f"{srv.http}/health").status_code == 200
        finally:
            srv.stop()
