"""Where a country comes from: an operator's ``.mmdb`` file or the embedded data.

Both readers answer ``country(ip) -> code | None`` and never raise for a
bad or unknown address: a lookup that fails means "no country", which the
matching rules already handle (nobody is refused a queue because GeoIP
could not place them).

* :class:`MmdbCountryReader` reads a MaxMind DB file with ``maxminddb``
  (GeoLite2/GeoIP2 Country or City, DB-IP Lite, IPinfo, ip-location-db...):
  the ``country.iso_code`` of the record, else ``registered_country``, else a
  flat ``country_code`` (the layouts those databases use).
* :class:`EmbeddedCountryReader` is the default that works on a fresh
  machine with no set-up: the ``iptocc`` package embeds the five Regional
  Internet Registries' delegation data (refreshed nightly by its
  maintainers; the registries publish that data openly, the package is MIT OR
  Apache-2.0; the lock pins one build, ``uv lock --upgrade-package iptocc`` refreshes it)
  and answers in well under a microsecond. It gives the country a block is
  registered to, which agrees with commercial databases for ~95 % of IPv4
  addresses: good enough to pair visitors by country, and an operator who
  wants more sets ``CONNECT_GEOIP_DATABASE``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import maxminddb

from connect.geo.countries import normalise


class CountryReader(Protocol):
    def country(self, ip: str) -> str | None: ...


class MmdbCountryReader:
    """An operator's MaxMind DB file, memory-mapped (opened once, at start-up).

    A missing or unreadable file fails start-up: an operator who configured a
    database expects it to be used, not silently replaced by the default.
    """

    def __init__(self, path: Path) -> None:
        self._reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)

    def country(self, ip: str) -> str | None:
        try:
            record: Any = self._reader.get(ip)
        except ValueError:
            # Not an address, or an IPv6 address in an IPv4-only database.
            return None
        if not isinstance(record, dict):
            return None
        for key in ("country", "registered_country"):
            found = record.get(key)
            if isinstance(found, dict):
                code = normalise(found.get("iso_code"))
                if code is not None:
                    return code
        return normalise(record.get("country_code"))

    def close(self) -> None:
        self._reader.close()


class EmbeddedCountryReader:
    """The data shipped inside the ``iptocc`` wheel (no file, no download)."""

    def country(self, ip: str) -> str | None:
        from iptocc import country_code

        try:
            return normalise(country_code(ip))
        except (ValueError, TypeError):
            return None
