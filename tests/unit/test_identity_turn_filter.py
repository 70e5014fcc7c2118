"""Token expiry, TURN REST credentials, IP hashing, the text filter and the frame budget."""

from __future__ import annotations

import base64
import hashlib
import hmac

import jwt
import pytest

from connect.clock import FakeClock
from connect.errors import ConnectError
from connect.identity.service import IpHasher, TokenService, client_ip
from connect.ratelimit import TokenBucket
from connect.signaling.textfilter import TextFilter
from connect.turn.service import TurnService, turn_credential

SECRET = "s" * 40


def test_guest_token_expires_after_its_ttl() -> None:
    clock = FakeClock()
    tokens = TokenService(SECRET, clock, guest_ttl_s=300)
    token = tokens.issue_guest("device123", "iphash")
    p = tokens.verify(token)
    assert (p.subject, p.kind, p.ip_hash) == ("device123", "guest", "iphash")
    assert p.expires_at == clock.now() + 300
    clock.advance(299)
    tokens.verify(token)
    clock.advance(1)
    with pytest.raises(ConnectError) as exc:
        tokens.verify(token)
    assert exc.value.code == "token_expired"


@pytest.mark.parametrize(
    "forge",
    [
        lambda: jwt.encode(
            {"sub": "x", "typ": "guest", "iat": 0, "exp": 2**40}, "wrong-secret" * 4, "HS256"
        ),
        lambda: jwt.encode({"sub": "x", "typ": "admin", "iat": 0, "exp": 2**40}, SECRET, "HS256"),
        lambda: jwt.encode({"sub": "x", "typ": "guest", "iat": 0, "exp": 2**40}, None, "none"),
        lambda: jwt.encode({"typ": "guest", "iat": 0, "exp": 2**40}, SECRET, "HS256"),
        lambda: "not.a.jwt",
    ],
)
def test_forged_or_malformed_tokens_are_refused(forge: object) -> None:
    tokens = TokenService(SECRET, FakeClock(), guest_ttl_s=300)
    with pytest.raises(ConnectError) as exc:
        tokens.verify(forge())  # type: ignore[operator]
    assert exc.value.status == 401


def test_hs256_still_refuses_asymmetric_keys_after_a_good_key_was_prepared() -> None:
    """The key check PyJWT runs is kept per key (connect.identity.service), not skipped."""
    tokens = TokenService(SECRET, FakeClock(), guest_ttl_s=300)
    tokens.verify(tokens.issue_guest("device123", "iphash"))  # SECRET is now prepared
    pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
    for _ in range(2):  # a refused key is never kept as prepared
        with pytest.raises(jwt.InvalidKeyError):
            jwt.encode({"sub": "x"}, pem, "HS256")
    other = TokenService("t" * 40, FakeClock(), guest_ttl_s=300)
    with pytest.raises(ConnectError):
        other.verify(tokens.issue_guest("device123", "iphash"))


def test_turn_credentials_follow_the_turn_rest_api_scheme() -> None:
    clock = FakeClock(start=1_000_000)
    turn = TurnService(
        "turnsecret", ["turn:127.0.0.1:3478?transport=udp"], ["stun:127.0.0.1:3478"], 3600, clock
    )
    cfg = turn.ice_config("device123").wire()
    assert cfg["ttl"] == 3600
    stun, relay = cfg["iceServers"]
    assert stun == {"urls": ["stun:127.0.0.1:3478"]}
    assert relay["username"] == "1003600:device123"
    expected = base64.b64encode(
        hmac.new(b"turnsecret", b"1003600:device123", hashlib.sha1).digest()
    ).decode()
    assert relay["credential"] == expected == turn_credential("turnsecret", "1003600:device123")


def test_no_turn_urls_means_no_credentials_minted() -> None:
    cfg = TurnService("x", [], [], 3600, FakeClock()).ice_config("d").wire()
    assert cfg["iceServers"] == []


def test_ip_hash_is_keyed_and_groups_ipv6_by_64() -> None:
    h1, h2 = IpHasher("salt-one"), IpHasher("salt-two")
    assert h1.hash("203.0.113.7") != h2.hash("203.0.113.7")
    assert "203.0.113.7" not in h1.hash("203.0.113.7")
    assert h1.hash("2001:db8:1:2::1") == h1.hash("2001:db8:1:2:ffff::9")
    assert h1.hash("2001:db8:1:2::1") != h1.hash("2001:db8:1:3::1")
    assert h1.hash("::ffff:203.0.113.7") == h1.hash("203.0.113.7")


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    assert client_ip("198.51.100.1", "1.2.3.4", []) == "198.51.100.1"
    assert client_ip("10.0.0.5", "1.2.3.4, 10.0.0.9", ["10.0.0.0/8"]) == "1.2.3.4"
    assert client_ip("10.0.0.5", "6.6.6.6, 1.2.3.4", ["10.0.0.0/8"]) == "1.2.3.4"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("hello there", "hello there"),
        ("you SHIT head", "you **** head"),
        ("f.u.c.k off", "******* off"),
        ("fuuuuck", "*******"),
        ("cocktail and shitake", "cocktail and shitake"),
        ("what a bitch!", "what a *****!"),
    ],
)
def test_text_filter_masks_words_not_substrings(text: str, masked: str) -> None:
    f = TextFilter.from_settings(None, [])
    assert f.mask(text) == masked


def test_text_filter_uses_the_configured_list(tmp_path: object) -> None:
    f = TextFilter(["banana"])
    assert f.mask("a Banana split") == "a ****** split"
    assert TextFilter([]).mask("anything shit") == "anything shit"


def test_token_bucket_allows_burst_then_refills_with_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0, 0, 0]
    wait = bucket.take()
    assert wait == pytest.approx(0.1)
    clock.advance(0.1)
    assert bucket.take() == 0
    clock.advance(10)
    assert [bucket.take() for _ in range(4)][:3] == [0, 0, 0]


def test_local_limit_applies_every_window_of_the_rule() -> None:
    from connect.ratelimit import LocalLimit, Rule

    clock = FakeClock()
    limit = LocalLimit(Rule.parse("chat", "5/second;12/minute"), clock)
    for _ in range(5):
        limit.hit()
    with pytest.raises(ConnectError) as exc:
        limit.hit()
    assert exc.value.code == "rate_limited"
    assert 0 < (exc.value.retry_after_ms or 0) <= 200
    clock.advance(1)
    for _ in range(5):
        limit.hit()
    clock.advance(1)
    for _ in range(2):
        limit.hit()
    with pytest.raises(ConnectError):  # the minute window is spent, the second window is not
        limit.hit()
