"""GeoIP: the three sources in order, loopback without a country, bad input, the cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from connect.geo.countries import COUNTRY_CODES, normalise
from connect.geo.reader import EmbeddedCountryReader, MmdbCountryReader
from connect.geo.service import GeoService, proxy_country, scope_country_hint
from connect.matching.schemas import MAX_COUNTRIES, JoinQueue
from connect.settings import Settings
from tests.support.geoip import write_country_mmdb


@pytest.fixture
def mmdb(tmp_path: Path) -> Path:
    return write_country_mmdb(
        tmp_path / "test.mmdb",
        {"127.0.0.2/32": "DE", "127.0.0.3/32": "FR", "203.0.113.0/24": "AT", "2001:db8::/32": "CH"},
    )


def test_operator_database_is_read_with_maxminddb(mmdb: Path) -> None:
    reader = MmdbCountryReader(mmdb)
    assert reader.country("127.0.0.2") == "DE"
    assert reader.country("203.0.113.77") == "AT"
    assert reader.country("2001:db8::5") == "CH"
    assert reader.country("127.0.0.9") is None
    assert reader.country("not an address") is None
    assert reader.country("") is None
    reader.close()


def test_a_missing_operator_database_fails_start_up(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        MmdbCountryReader(tmp_path / "absent.mmdb")


def test_embedded_default_works_with_no_set_up() -> None:
    reader = EmbeddedCountryReader()
    # Blocks whose registration is stable for decades: Google's 8.8.8.0/24 (ARIN, US)
    # and APNIC's 1.0.16.0/20 (JP).
    assert reader.country("8.8.8.8") == "US"
    assert reader.country("1.0.16.1") == "JP"
    assert reader.country("garbage") is None


def test_loopback_and_private_addresses_have_no_country_by_default() -> None:
    geo = GeoService(operator=None, embedded=EmbeddedCountryReader())
    for ip in ("127.0.0.1", "10.1.2.3", "192.168.0.5", "172.16.0.1", "::1", "fe80::1", ""):
        assert geo.country(ip) is None, ip
    assert geo.country("8.8.8.8") == "US"


def test_sources_in_order_header_then_operator_then_embedded(mmdb: Path) -> None:
    geo = GeoService(operator=MmdbCountryReader(mmdb), embedded=EmbeddedCountryReader())
    assert geo.country("127.0.0.2") == "DE", "the operator's file maps private addresses too"
    assert geo.country("127.0.0.2", "it") == "IT", "a trusted proxy's header wins"
    assert geo.country("127.0.0.2", "XX") == "DE", "an unknown header value is ignored"
    assert geo.country("8.8.8.8") == "US", "not in the operator's file: the embedded data"
    no_default = GeoService(operator=MmdbCountryReader(mmdb), embedded=None)
    assert no_default.country("8.8.8.8") is None


def test_lookups_are_cached_and_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Counting:
        def country(self, ip: str) -> str | None:
            calls.append(ip)
            return "DE"

    monkeypatch.setattr("connect.geo.service.CACHE_SIZE", 3)
    geo = GeoService(operator=Counting(), embedded=None)
    for _ in range(5):
        assert geo.country("127.0.0.2") == "DE"
    assert calls == ["127.0.0.2"]
    for i in range(10):
        geo.country(f"127.0.1.{i}")
    assert len(geo._cache) == 3


def test_the_country_header_is_believed_only_from_a_trusted_proxy() -> None:
    trusted = ["10.0.0.0/8"]
    assert proxy_country("10.1.1.1", "DE", trusted) == "DE"
    assert proxy_country("198.51.100.7", "DE", trusted) is None
    assert proxy_country("10.1.1.1", "DE", []) is None
    assert proxy_country(None, "DE", trusted) is None
    assert proxy_country("not-an-ip", "DE", trusted) is None
    assert proxy_country("10.1.1.1", "x" * 5000, trusted) == "x" * 8, "bounded before lookup"
    scope = {"client": ("10.0.0.5", 1234), "headers": [(b"cf-ipcountry", b"at")]}
    assert scope_country_hint(scope, "CF-IPCountry", trusted) == "at"
    assert scope_country_hint(scope, None, trusted) is None
    assert (
        scope_country_hint({**scope, "client": ("203.0.113.1", 1)}, "CF-IPCountry", trusted) is None
    )


def test_settings_build_the_service(mmdb: Path, tmp_path: Path) -> None:
    s = Settings(_env_file=None, data_dir=tmp_path, geoip_database=mmdb)
    assert GeoService.from_settings(s).country("127.0.0.3") == "FR"
    with pytest.raises(ValidationError):
        Settings(_env_file=None, data_dir=tmp_path, geoip_header="Bad Header: x")


def test_country_codes_are_iso_alpha2() -> None:
    assert len(COUNTRY_CODES) == 250  # 249 assigned + XK
    assert normalise(" de ") == "DE"
    for bad in ("EU", "ZZ", "", "DEU", None, 7):
        assert normalise(bad) is None


def test_join_queue_refuses_unknown_or_too_many_countries() -> None:
    ok = JoinQueue.model_validate({"mode": "video", "countries": ["de", "AT", "DE"]})
    assert ok.countries == ["DE", "AT"]
    for bad in (["QQ"], ["D"], ["DEU"], ["1A"], [""], [None], "DE"):
        with pytest.raises(ValidationError):
            JoinQueue.model_validate({"mode": "video", "countries": bad})
    many = sorted(COUNTRY_CODES)[: MAX_COUNTRIES + 1]
    with pytest.raises(ValidationError):
        JoinQueue.model_validate({"mode": "video", "countries": many})
    with pytest.raises(ValidationError):
        JoinQueue.model_validate({"mode": "video", "country": "DE"})
    with pytest.raises(ValidationError):
        JoinQueue.model_validate({"mode": "video", "hideCountry": "yes please"})
