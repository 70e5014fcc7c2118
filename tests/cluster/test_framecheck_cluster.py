"""Frame check across nodes: the frame is POSTed to one node, the visitors' sockets live
on the two others; video-hidden and video-flagged reach them through the cluster's
delivery, and the automatic report is filed once (three real nodes, Redis, PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.integration.test_framecheck import SETTINGS, auto_report, send_frame
from tests.support import frames
from tests.support.client import CONTRACT_VIOLATIONS, Peer, guest_token
from tests.support.cluster import Cluster, start_cluster
from tests.support.faults import until
from tests.support.http import loopback_client
from tests.support.staff import new_admin

MARKER_S = 20.0

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with ExitStack() as stack:
        yield start_cluster(
            Path(tmp_path_factory.mktemp("framecheck-cluster")), stack, nodes=3, settings=SETTINGS
        )


@pytest.fixture(autouse=True)
def contract() -> Iterator[None]:
    CONTRACT_VIOLATIONS.clear()
    yield
    assert CONTRACT_VIOLATIONS == []


async def test_a_frame_on_a_third_node_hides_the_video_on_the_others(cluster: Cluster) -> None:
    n0, n1, n2 = cluster.nodes
    a = await Peer.connect(n0.ws, await guest_token(n0.http))
    b = await Peer.connect(n1.ws, await guest_token(n1.http))
    try:
        tag = [secrets.token_hex(6)]
        assert (await a.request("join-queue", {"mode": "video", "interests": tag}))["ok"]
        assert (await b.request("join-queue", {"mode": "video", "interests": tag}))["ok"]
        ma = await a.event("matched", MARKER_S)
        await b.event("matched", MARKER_S)
        sid = ma["sessionId"]
        assert "frameCheck" in ma
        r = await send_frame(n2, a.token, sid, frames.RED)
        assert r.status_code == 202, r.text
        assert await b.event("video-hidden", MARKER_S) == {"sessionId": sid, "reason": "nudity"}
        assert await a.event("video-flagged", MARKER_S) == {"sessionId": sid, "reason": "nudity"}
        # A stranger's frame for that session is refused on any node.
        outsider = await guest_token(n0.http)
        assert (await send_frame(n1, outsider, sid, frames.RED)).status_code == 403
        admin, _, _ = await new_admin(n0)

        async def filed() -> bool:
            return await auto_report(admin, sid) is not None

        await until(filed, 15, "the automatic report is in the shared queue")
        report = await auto_report(admin, sid)
        assert report is not None
        # Evidence lives in the filing node's data directory (n2 here), like visitors'
        # report evidence: served by that node.
        async with loopback_client(base_url=n2.http) as http:
            there = await http.get(
                f"/api/admin/reports/{report['id']}/evidence", headers=admin.headers
            )
        assert there.status_code == 200
        assert there.content == frames.RED
    finally:
        await a.close()
        await b.close()
