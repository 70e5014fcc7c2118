"""The sessions list's device label: a short "<browser> on <system>", never the User-Agent."""

from __future__ import annotations

import pytest

from connect.identity.devices import LABEL_MAX, browser_label

AGENTS = [
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36",
        "Chrome on Android",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
        "Edge on Windows",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Safari on iPhone",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        "Safari on macOS",
    ),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/126.0.0.0 Safari/537.36",
        "Chrome on Linux",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        "Samsung Internet on Android",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) Chrome/126.0.0.0 Safari/537.36",
        "Chrome on ChromeOS",
    ),
    ("curl/8.5.0", None),
    ("", None),
    (None, None),
    ("python-httpx/0.27 (Windows)", "Windows"),
]


@pytest.mark.parametrize(("agent", "label"), AGENTS)
def test_label(agent: str | None, label: str | None) -> None:
    assert browser_label(agent) == label


def test_a_huge_or_hostile_agent_gives_a_short_label_and_none_of_its_text() -> None:
    agent = "Firefox/1 " + "<script>" * 10_000 + " Windows"
    label = browser_label(agent)
    assert label is not None
    assert len(label) <= LABEL_MAX
    assert "<" not in label
