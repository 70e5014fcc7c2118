"""Security headers on every page and API answer, CORS closed or allow-listed, and the
operator endpoints gated by client address, over real HTTP on both backends."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, backend_settings
from tests.support.http import loopback_client, loopback_get
from tests.support.server import Server, free_port
from tests.support.services import missing
from tests.support.users import new_user

PARTNER = "https://partner.example"
OUTSIDE = "203.0.113.9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def directives(csp: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_secured(r: httpx.Response, *, page: bool, prod: bool = False) -> None:
    where = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
    for name in (
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "permissions-policy",
    ):
        assert len(r.headers.get_list(name)) == 1, f"{where}: {name} {r.headers.get_list(name)}"
    csp = directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"], where
    assert r.headers["x-frame-options"] == "DENY", where
    assert r.headers["x-content-type-options"] == "nosniff", where
    assert r.headers["referrer-policy"] == "no-referrer", where
    policy = r.headers["permissions-policy"]
    assert "camera=(self)" in policy, where
    assert "microphone=(self)" in policy, where
    flat = " ".join(" ".join(v) for v in csp.values())
    assert "'unsafe-inline'" not in flat, where
    assert "'unsafe-eval'" not in flat, where
    assert not re.search(r"https?:", flat), f"{where}: a third-party origin in {flat}"
    if page:
        assert csp["script-src"] == ["'self'"], where
        assert csp["default-src"] == ["'self'"], where
        assert csp["object-src"] == ["'none'"], where
    else:
        assert csp["default-src"] == ["'none'"], where
    if prod:
        assert r.headers["strict-transport-security"].startswith("max-age=31536000"), where
    else:
        assert "strict-transport-security" not in r.headers, where


async def test_pages_and_api_answers_carry_the_headers(server: Server) -> None:
    user = await new_user(server, "Ann")
    async with loopback_client(base_url=server.http) as http:
        for path in ("/", "/admin/", "/no-such-page", "/admin/no-such-page"):
            assert_secured(await http.get(path), page=True)
        index = await http.get("/")
        asset = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
        assert asset, index.text
        assert_secured(await http.get(asset.group(1)), page=True)
        answers = [
            await http.get("/health"),
            await http.get("/api/no-such-route"),
            await http.post("/api/auth/token", json={"deviceId": "!"}),
            await http.delete("/api/auth/token"),
            await http.post("/api/auth/token", content=b"x" * 200_000),
            await http.get("/api/channels"),
            await http.get("/api/channels", headers=user.headers),
        ]
        assert [r.status_code for r in answers] == [200, 404, 400, 405, 413, 401, 200]
        for r in answers:
            assert_secured(r, page=False)


async def test_built_pages_have_no_inline_script_or_style(server: Server) -> None:
    async with loopback_client(base_url=server.http) as http:
        for path in ("/", "/admin/"):
            html = (await http.get(path)).text
            scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
            assert scripts, html
            for attrs, body in scripts:
                assert "src=" in attrs, f"inline script on {path}"
                assert not body.strip(), f"inline script on {path}"
            assert "<style" not in html, path
            assert " style=" not in html, path
            assert not re.search(r"""(src|href)=["']https?:""", html), path


async def test_download_keeps_one_nosniff_and_the_api_policy(server: Server) -> None:
    a, b = await new_user(server, "Ann"), await new_user(server, "Bob")
    cid = (await a.call("POST", "/api/channels", json={"userId": b.id})).json()["id"]
    up = await a.call(
        "POST", "/api/attachments", data={"channelId": cid}, files={"file": ("p.png", PNG)}
    )
    assert up.status_code == 201, up.text
    got = await b.call("GET", up.json()["url"])
    assert got.status_code == 200
    assert_secured(got, page=False)
    assert "sandbox" in got.headers["content-security-policy"]


async def test_cors_is_closed_by_default(server: Server) -> None:
    async with loopback_client(base_url=server.http) as http:
        r = await http.get("/health", headers={"Origin": "https://evil.example"})
        assert r.status_code == 200
        assert "access-control-allow-origin" not in r.headers
        pre = await http.options(
            "/api/auth/token",
            headers={
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert pre.status_code == 403
        assert pre.json()["error"]["code"] == "cors_refused"
        assert "access-control-allow-origin" not in pre.headers
        assert_secured(pre, page=False)


async def test_dev_serves_docs_without_inline_script_to_operators(server: Server) -> None:
    async with loopback_client(base_url=server.http) as http:
        docs = await http.get("/api/docs")
        assert docs.status_code == 200
        csp = directives(docs.headers["content-security-policy"])
        assert "'unsafe-inline'" not in " ".join(csp.get("script-src", []))
        assert csp["frame-ancestors"] == ["'none'"]
        for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", docs.text, re.S):
            assert "src=" in attrs
            assert not body.strip()
        init = await http.get("/api/docs/init.js")
        assert init.status_code == 200
        assert "SwaggerUIBundle" in init.text
        assert (await http.get("/api/openapi.json")).status_code == 200


# --- prod: HSTS, no Swagger UI, operator endpoints by address, an allow-listed origin ------


@pytest.fixture(scope="module", params=BACKENDS)
def prod_server(
    request: pytest.FixtureRequest, make_server: Callable[[Mapping[str, str]], Server]
) -> Server:
    overrides = {
        "CONNECT_ENV": "prod",
        "CONNECT_JWT_SECRET": secrets.token_hex(32),
        "CONNECT_TURN_SECRET": secrets.token_hex(32),
        "CONNECT_IP_HASH_SALT": secrets.token_hex(32),
        "CONNECT_CAPTCHA_SECRET": secrets.token_hex(32),
        # The test client plays the proxy: its X-Forwarded-For names the visitor.
        "CONNECT_TRUSTED_PROXIES": "127.0.0.1/32",
        "CONNECT_CORS_ORIGINS": PARTNER,
    }
    if request.param != "memory-sqlite":
        overrides |= backend_settings(request.param, request.getfixturevalue("backing_services"))
    return make_server(overrides)


OPERATOR_PATHS = ["/metrics", "/health/detailed", "/api/openapi.json"]


@pytest.mark.parametrize("path", OPERATOR_PATHS)
async def test_operator_endpoints_answer_allowed_addresses_only(
    prod_server: Server, path: str
) -> None:
    async with loopback_client(base_url=prod_server.http) as http:
        for forwarded in (None, "10.20.30.40", "192.168.1.7", "172.20.0.3"):
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            r = await http.get(path, headers=headers)
            assert r.status_code == 200, (forwarded, r.text)
            assert_secured(r, page=False, prod=True)
        for forwarded in (OUTSIDE, f"10.0.0.1, {OUTSIDE}", "2001:db8::5", "not-an-ip"):
            for method in ("GET", "HEAD", "POST"):
                r = await http.request(method, path, headers={"X-Forwarded-For": forwarded})
                assert r.status_code == 404, (forwarded, method, r.status_code)
                assert_secured(r, page=False, prod=True)
            assert r.request.method == "POST"
        r = await http.get(path + "/", headers={"X-Forwarded-For": OUTSIDE})
        assert r.status_code == 404
        # Public health stays public.
        r = await http.get("/health", headers={"X-Forwarded-For": OUTSIDE})
        assert r.status_code == 200


async def test_prod_has_hsts_and_no_swagger_ui(prod_server: Server) -> None:
    async with loopback_client(base_url=prod_server.http) as http:
        for path in ("/", "/admin/"):
            assert_secured(await http.get(path), page=True, prod=True)
        for path in ("/api/docs", "/api/docs/init.js"):
            r = await http.get(path)
            assert r.status_code == 404, path
            assert_secured(r, page=False, prod=True)
        r = await http.get("/api/nope", headers={"X-Forwarded-For": OUTSIDE})
        assert_secured(r, page=False, prod=True)


async def test_an_allow_listed_origin_may_call_the_api(prod_server: Server) -> None:
    async with loopback_client(base_url=prod_server.http) as http:
        pre = await http.options(
            "/api/auth/token",
            headers={
                "Origin": PARTNER,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, authorization",
            },
        )
        assert pre.status_code == 204, pre.text
        assert pre.headers["access-control-allow-origin"] == PARTNER
        assert "POST" in pre.headers["access-control-allow-methods"]
        allowed = pre.headers["access-control-allow-headers"]
        assert "authorization" in allowed
        assert "content-type" in allowed
        assert "access-control-allow-credentials" not in pre.headers
        r = await http.post(
            "/api/auth/token", json={"deviceId": secrets.token_hex(8)}, headers={"Origin": PARTNER}
        )
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == PARTNER
        assert "Origin" in r.headers["vary"]
        assert "x-request-id" in r.headers["access-control-expose-headers"]
        other = await http.post(
            "/api/auth/token",
            json={"deviceId": secrets.token_hex(8)},
            headers={"Origin": "https://partner.example.evil.test"},
        )
        assert "access-control-allow-origin" not in other.headers
        pre = await http.options(
            "/api/auth/token",
            headers={"Origin": "http://partner.example", "Access-Control-Request-Method": "POST"},
        )
        assert pre.status_code == 403


async def test_operator_endpoints_refuse_requests_forwarded_by_an_untrusted_proxy(
    server: Server,
) -> None:
    """No CONNECT_TRUSTED_PROXIES here: a loopback peer that forwards a request is a proxy
    nobody declared, and its own (allowed) address must not stand in for its clients."""
    async with loopback_client(base_url=server.http) as http:
        for path in OPERATOR_PATHS:
            assert (await http.get(path)).status_code == 200, path
            for header in ("X-Forwarded-For", "X-Real-IP"):
                r = await http.get(path, headers={header: "10.0.0.7"})
                assert r.status_code == 404, (path, header)
            r = await http.get(path, headers={"Forwarded": "for=10.0.0.7"})
            assert r.status_code == 404, path
        # Everything else still answers a forwarded request.
        assert (await http.get("/health", headers={"X-Forwarded-For": OUTSIDE})).status_code == 200


# --- the shipped HAProxy config in front of a real node --------------------------------------

HAPROXY_CFG = Path(__file__).parents[2] / "deploy" / "haproxy" / "haproxy.cfg"


def local_haproxy_config(listen: int, stats: int, app: int) -> str:
    """The shipped config with loopback ports instead of compose's names and DNS."""
    text = HAPROXY_CFG.read_text()
    text = re.sub(r"\nresolvers docker\n(?:    .*\n)+", "\n", text)
    text = text.replace(" resolvers docker init-addr last,libc,none", "")
    text = text.replace("    maxconn 100000\n", "    maxconn 1000\n")  # the test's FD limit
    text = text.replace("bind :80", f"bind 127.0.0.1:{listen}")
    text = text.replace("bind :8404", f"bind 127.0.0.1:{stats}")
    text = re.sub(r"    server app1 app1:8000\n    server app2 app2:8000\n", "", text)
    assert "server app" not in text, "the shipped backend changed: update this test"
    return re.sub(
        r"^backend connect\n",
        f"backend connect\n    server app1 127.0.0.1:{app}\n",
        text,
        count=1,
        flags=re.M,
    )


@pytest.fixture(scope="module")
def proxied_node(make_server: Callable[[Mapping[str, str]], Server]) -> Server:
    """A prod node that sends no HSTS itself: what the test sees came from HAProxy."""
    return make_server(
        {
            "CONNECT_ENV": "prod",
            "CONNECT_JWT_SECRET": secrets.token_hex(32),
            "CONNECT_TURN_SECRET": secrets.token_hex(32),
            "CONNECT_IP_HASH_SALT": secrets.token_hex(32),
            "CONNECT_CAPTCHA_SECRET": secrets.token_hex(32),
            "CONNECT_TRUSTED_PROXIES": "127.0.0.1/32",
            "CONNECT_HSTS_MAX_AGE_S": "0",
        }
    )


@pytest.fixture
def haproxy(proxied_node: Server, tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        missing("haproxy is not installed (apt-get install -y haproxy)")
    listen, stats = free_port(), free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(local_haproxy_config(listen, stats, proxied_node.port))
    proc = subprocess.Popen(
        [binary, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if (
                    loopback_get(f"http://127.0.0.1:{listen}/health", timeout=0.5).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "haproxy exited"
            assert time.monotonic() < deadline, "haproxy did not come up"
            time.sleep(0.05)  # polling the proxy, bounded by the deadline
        yield f"http://127.0.0.1:{listen}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_the_shipped_haproxy_config_sends_hsts_and_hides_operator_endpoints(
    haproxy: str, proxied_node: Server
) -> None:
    async with loopback_client(base_url=proxied_node.http) as http:
        assert "strict-transport-security" not in (await http.get("/")).headers
        assert (await http.get("/metrics")).status_code == 200
    async with loopback_client(base_url=haproxy) as http:
        for path in ("/", "/api/no-such-route", "/health"):
            r = await http.get(path)
            assert r.headers.get_list("strict-transport-security") == ["max-age=31536000"], path
            assert_secured(r, page=path == "/", prod=True)
        for path in ("/metrics", "/health/detailed", "/api/openapi.json", "/api/docs"):
            r = await http.get(path)
            assert r.status_code == 404, path
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["x-content-type-options"] == "nosniff"
