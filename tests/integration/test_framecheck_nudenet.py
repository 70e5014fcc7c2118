"""The real default classifier: NudeNet's detector (connect[moderation-ai]) in the server's pool.

Only known-safe frames are shown to it, drawn here (a grey frame, a gradient,
shapes): they must pass below the review threshold, end to end — classified
in a worker process, no report filed, nobody's video hidden. That the pipeline
acts on a flagging classifier is shown with the test classifier in
test_framecheck.py. Skips only when the extra is not installed; under CI=true
it must be (make test installs requirements.lock, which carries it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping

import pytest

from connect.framecheck.classifier import NUDENET_FLAGGED, installed
from tests.integration.test_framecheck import pair, send_frame
from tests.support import frames
from tests.support.faults import until
from tests.support.http import loopback_client
from tests.support.server import Server
from tests.support.staff import new_admin

if not installed("nudenet"):
    if os.environ.get("CI") == "true":
        raise RuntimeError("nudenet is not installed: pip install 'connect[moderation-ai]'")
    pytest.skip(
        "nudenet is not installed (pip install 'connect[moderation-ai]')", allow_module_level=True
    )

SAFE = {"grey": frames.GREY, "gradient": frames.gradient(), "shapes": frames.shapes()}
REVIEW = 0.5


def test_nudenet_scores_safe_frames_below_the_review_threshold() -> None:
    from connect.framecheck.classifier import NudeNetClassifier

    model = NudeNetClassifier()
    for name, jpeg in SAFE.items():
        scores = model.classify(jpeg)
        worst = max((s for label, s in scores.items() if label in NUDENET_FLAGGED), default=0.0)
        assert worst < REVIEW, (name, scores)


async def test_safe_frames_pass_the_real_model_end_to_end(
    make_server: Callable[[Mapping[str, str]], Server],
) -> None:
    srv = make_server(
        {
            "CONNECT_FRAMECHECK_ENABLED": "true",
            "CONNECT_FRAMECHECK_CLASSIFIER": "nudenet",
            "CONNECT_FRAMECHECK_REVIEW_THRESHOLD": str(REVIEW),
            "CONNECT_FRAMECHECK_TIMEOUT_S": "60",  # the first frame waits for the model to load
        }
    )
    admin, _, _ = await new_admin(srv)
    a, b, ma, _ = await pair(srv)
    assert ma["frameCheck"]["maxWidth"] == 320
    for jpeg in SAFE.values():
        r = await send_frame(srv, a.token, ma["sessionId"], jpeg)
        assert r.json() == {"queued": True}

    async def classified() -> bool:
        async with loopback_client(base_url=srv.http) as http:
            text = (await http.get("/metrics")).text
        found = re.search(r'connect_framecheck_frames_total\{outcome="classified"\} (\S+)', text)
        failed = re.search(
            r'connect_framecheck_frames_total\{outcome="(failed|timeout)"\} (\S+)', text
        )
        assert failed is None or float(failed.group(2)) == 0, text
        return found is not None and float(found.group(1)) >= len(SAFE)

    await until(classified, 90, "the real model classified every frame")
    r = await admin.call("GET", "/api/admin/reports", params={"status": "pending", "limit": 200})
    assert [x for x in r.json()["reports"] if x["sessionId"] == ma["sessionId"]] == []
    await b.barrier()
    assert b.events("video-hidden") == []
    await a.close()
    await b.close()
