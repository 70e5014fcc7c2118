"""A tiny real MaxMind DB file for tests: the operator override of GeoIP.

Written with ``mmdb-writer`` and read back by the server with ``maxminddb``
exactly as an operator's GeoLite2/DB-IP file would be. Loopback addresses
can be mapped (the operator's file is asked about every address), so two
test clients bound to 127.0.0.2 and 127.0.0.3 get two countries.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet  # type: ignore[import-untyped]


def write_country_mmdb(path: Path, networks: Mapping[str, str]) -> Path:
    """Write ``{"127.0.0.2/32": "DE", ...}`` as a country database at ``path``."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="Connect-Test-Country")
    for network, code in networks.items():
        writer.insert_network(IPSet([network]), {"country": {"iso_code": code}})
    writer.to_db_file(str(path))
    return path
