"""What a staff member types into a ban, resolved to what enforcement compares.

Enforcement compares device bans with device ids, account bans with account
ids and address bans with salted hashes (of one address, or of a range's
network plus its prefix length), so a typed address, range or email must be
normalised before it is saved or it would never match anyone.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from connect.errors import bad_request
from connect.identity.schemas import DEVICE_ID_PATTERN
from connect.identity.service import IpHasher, split_subject
from connect.identity.store import AccountStore

Scope = Literal["device", "ip", "account"]

IP_HASH = re.compile(r"[0-9a-f]{32}")
RANGE_HASH = re.compile(r"[0-9a-f]{32}/\d{1,3}")
DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
# Narrower than this, a range ban would shut out a large share of a country.
MIN_PREFIX = {4: 8, 6: 24}


@dataclass(frozen=True, slots=True)
class BanTarget:
    """What a staff member's typed value resolves to, before anything is saved."""

    scope: Scope
    value: str
    description: str


async def resolve_target(
    scope: Scope, value: str, ip_hasher: IpHasher | None, accounts: AccountStore | None
) -> BanTarget:
    """Turn a typed value into what enforcement compares, or refuse it (400).

    Enforcement compares device bans with device ids, account bans with
    account ids, and address bans with salted hashes, so a typed address,
    range or email must be normalised here or it would never match anyone.
    """
    value = value.strip()
    if scope == "ip":
        return _ip_target(value, ip_hasher)
    if scope == "device":
        typed = split_subject(value)
        if typed is not None:
            if typed[0] != "guest":
                raise bad_request("that is an account; choose the account scope")
            value = typed[1]
        if not DEVICE_ID.fullmatch(value):
            raise bad_request(
                "a device id is 8 to 64 letters, digits, '-' or '_' (as shown in sessions)"
            )
        return BanTarget("device", value, f"the browser install with device id {value}")
    typed = split_subject(value)
    if typed is not None:
        if typed[0] != "access":
            raise bad_request("that is a guest device; choose the device scope")
        value = typed[1]
    account = None
    if accounts is not None:
        if "@" in value:
            account = await accounts.by_email(value.lower())
        else:
            account = await accounts.by_id(value)
    if account is None:
        raise bad_request("no account has this id or email")
    return BanTarget("account", account.id, f"the account {account.display_name} <{account.email}>")


def _ip_target(value: str, ip_hasher: IpHasher | None) -> BanTarget:
    if IP_HASH.fullmatch(value) or RANGE_HASH.fullmatch(value):
        return BanTarget("ip", value, "the address or range behind this hash")
    if ip_hasher is None:
        raise bad_request("address bans need the server's IP hasher")
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise bad_request(
            "an IP ban needs an address (203.0.113.7, 2001:db8::1), a range in CIDR form "
            "(203.0.113.0/24) or an address hash as shown in sessions and reports"
        ) from exc
    single = network.max_prefixlen if network.version == 4 else 64
    if network.prefixlen >= single:
        address = str(network.network_address)
        what = "the address" if network.version == 4 else "the /64 network of"
        return BanTarget("ip", ip_hasher.hash(address), f"{what} {address}")
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise bad_request(
            f"a range wider than /{MIN_PREFIX[network.version]} is refused: "
            "it would shut out too many people"
        )
    hashed = ip_hasher.hash_network(str(network.network_address), network.prefixlen)
    assert hashed is not None
    return BanTarget(
        "ip", hashed, f"every address in {network} ({network.num_addresses:,} addresses)"
    )
