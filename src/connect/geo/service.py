"""A visitor's country, for the country preference of the matcher.

Three sources, first match wins:

1. a trusted proxy's header (``CONNECT_GEOIP_HEADER``, e.g. Cloudflare's
   ``CF-IPCountry``), believed only when the socket's direct peer is one of
   ``CONNECT_TRUSTED_PROXIES`` (anyone else could write it); the transport
   reads it at the handshake and hands it over already filtered
   (:func:`proxy_country`);
2. the operator's ``.mmdb`` file (``CONNECT_GEOIP_DATABASE``), asked about
   every address, private ones included (an intranet may map its own
   ranges; the tests map loopback addresses this way);
3. the embedded database, asked about public addresses only: loopback,
   private, link-local and other non-global addresses have no country.

Lookups are cached (bounded LRU keyed by address and header value), so a
visitor who joins the queue a hundred times costs one lookup. The address is
never logged or stored here; only the country code leaves this module.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from connect.geo.countries import normalise
from connect.geo.reader import CountryReader, EmbeddedCountryReader, MmdbCountryReader
from connect.settings import Settings

CACHE_SIZE = 8192


class GeoService:
    def __init__(self, *, operator: CountryReader | None, embedded: CountryReader | None) -> None:
        self._operator = operator
        self._embedded = embedded
        self._cache: OrderedDict[tuple[str, str | None], str | None] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> GeoService:
        operator = (
            MmdbCountryReader(settings.geoip_database)
            if settings.geoip_database is not None
            else None
        )
        embedded = EmbeddedCountryReader() if settings.geoip_embedded else None
        return cls(operator=operator, embedded=embedded)

    def country(self, ip: str, proxy_value: str | None = None) -> str | None:
        """The country of a visitor at ``ip`` (``proxy_value``: the trusted header, if any)."""
        key = (ip, proxy_value)
        cache = self._cache
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        found = self._lookup(ip, proxy_value)
        cache[key] = found
        if len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
        return found

    def _lookup(self, ip: str, proxy_value: str | None) -> str | None:
        from_proxy = normalise(proxy_value)
        if from_proxy is not None:
            return from_proxy
        if not ip:
            return None
        if self._operator is not None:
            found = self._operator.country(ip)
            if found is not None:
                return found
        if self._embedded is None or not _is_global(ip):
            return None
        return self._embedded.country(ip)


def _is_global(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def proxy_country(
    peer: str | None, value: str | None, trusted_proxies: Sequence[str]
) -> str | None:
    """The country header's value when the direct peer is a trusted proxy, else None.

    Only the raw value is passed on (normalised later); a value from anyone
    else is dropped here, before it can reach the matcher.
    """
    if not value or not peer or not trusted_proxies:
        return None
    try:
        addr = ipaddress.ip_address(peer)
        trusted = any(addr in ipaddress.ip_network(net, strict=False) for net in trusted_proxies)
    except ValueError:
        return None
    return value[:8] if trusted else None


def scope_country_hint(
    scope: Mapping[str, Any], header: str | None, trusted_proxies: Sequence[str]
) -> str | None:
    """:func:`proxy_country` of an ASGI connection scope (``header``: the setting)."""
    if not header:
        return None
    wanted = header.lower().encode("latin-1")
    value = None
    for name, raw in scope.get("headers", ()):
        if name.lower() == wanted:
            value = raw.decode("latin-1")
            break
    peer = scope.get("client")
    return proxy_country(peer[0] if peer else None, value, trusted_proxies)
