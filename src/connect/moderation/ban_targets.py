"""What a staff member types into a ban, resolved to what enforcement compares.

Enforcement compares device bans with device ids, account bans with account
ids and address bans with salted hashes (of one address, or of a range's
network plus its prefix length), so a typed address, range or email must be
normalised before it is saved or it would never match anyone.

What a value matches, and why one is refused, go out as stable codes with
parameters (``descriptionCode``/``descriptionParams``, ``error.reason``/
``error.params``) for the dashboard to say in the moderator's language; the
English sentences below are the fallback for older clients.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from connect.errors import refusal
from connect.identity.schemas import DEVICE_ID_PATTERN
from connect.identity.service import IpHasher, split_subject
from connect.identity.store import AccountStore
from connect.moderation.schemas import BanDescription

Scope = Literal["device", "ip", "account"]

IP_HASH = re.compile(r"[0-9a-f]{32}")
RANGE_HASH = re.compile(r"[0-9a-f]{32}/\d{1,3}")
DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
# Narrower than this, a range ban would shut out a large share of a country.
MIN_PREFIX = {4: 8, 6: 24}

DESCRIPTIONS: dict[BanDescription, str] = {
    "device": "the browser install with device id {value}",
    "account": "the account {name} <{email}>",
    "hash": "the address or range behind this hash",
    "address": "the address {address}",
    "ipv6_network": "the /64 network of {address}",
    "range": "every address in {range} ({count} addresses)",
}
REFUSALS = {
    "ban_account_as_device": "that is an account; choose the account scope",
    "ban_device_id_format": (
        "a device id is 8 to 64 letters, digits, '-' or '_' (as shown in sessions)"
    ),
    "ban_device_as_account": "that is a guest device; choose the device scope",
    "ban_unknown_account": "no account has this id or email",
    "ban_no_ip_hasher": "address bans need the server's IP hasher",
    "ban_ip_format": (
        "an IP ban needs an address (203.0.113.7, 2001:db8::1), a range in CIDR form "
        "(203.0.113.0/24) or an address hash as shown in sessions and reports"
    ),
    "ban_range_too_wide": (
        "a range wider than /{prefix} is refused: it would shut out too many people"
    ),
}
# Why resolving a report with a ban is refused (ReportService.resolve).
RESOLVE_REFUSALS = {
    "ban_needs_accept": "only an accepted report can ban",
    "ban_visitor_has_no_account": "the reported visitor has no account; ban the device or IP",
    "ban_visitor_had_account": "the reported visitor was logged in; ban the account or IP",
    "ban_conversation_has_no_ip": (
        "a report from a conversation knows no IP address; ban the account"
    ),
}


@dataclass(frozen=True, slots=True)
class BanTarget:
    """What a staff member's typed value resolves to, before anything is saved.

    ``code`` and ``params`` say what it matches (a key of :data:`DESCRIPTIONS`);
    ``description`` is the same in English. A range's ``count`` is a decimal
    string: an IPv6 range's count is past what a JSON number holds exactly.
    """

    scope: Scope
    value: str
    code: BanDescription
    params: dict[str, str | int] = field(default_factory=dict)

    @property
    def description(self) -> str:
        params = dict(self.params)
        if "count" in params:
            params["count"] = f"{int(params['count']):,}"
        return DESCRIPTIONS[self.code].format(**params)


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
                raise refusal(REFUSALS, "ban_account_as_device")
            value = typed[1]
        if not DEVICE_ID.fullmatch(value):
            raise refusal(REFUSALS, "ban_device_id_format")
        return BanTarget("device", value, "device", {"value": value})
    typed = split_subject(value)
    if typed is not None:
        if typed[0] != "access":
            raise refusal(REFUSALS, "ban_device_as_account")
        value = typed[1]
    account = None
    if accounts is not None:
        if "@" in value:
            account = await accounts.by_email(value.lower())
        else:
            account = await accounts.by_id(value)
    if account is None:
        raise refusal(REFUSALS, "ban_unknown_account")
    return BanTarget(
        "account", account.id, "account", {"name": account.display_name, "email": account.email}
    )


def _ip_target(value: str, ip_hasher: IpHasher | None) -> BanTarget:
    if IP_HASH.fullmatch(value) or RANGE_HASH.fullmatch(value):
        return BanTarget("ip", value, "hash")
    if ip_hasher is None:
        raise refusal(REFUSALS, "ban_no_ip_hasher")
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise refusal(REFUSALS, "ban_ip_format") from exc
    single = network.max_prefixlen if network.version == 4 else 64
    if network.prefixlen >= single:
        address = str(network.network_address)
        code: BanDescription = "address" if network.version == 4 else "ipv6_network"
        return BanTarget("ip", ip_hasher.hash(address), code, {"address": address})
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise refusal(REFUSALS, "ban_range_too_wide", prefix=MIN_PREFIX[network.version])
    hashed = ip_hasher.hash_network(str(network.network_address), network.prefixlen)
    assert hashed is not None
    return BanTarget(
        "ip", hashed, "range", {"range": str(network), "count": str(network.num_addresses)}
    )
