"""Who is talking: guest tokens for the strangers strand, and client IP hashing.

A guest token is a short-lived HS256 JWT whose subject is the visitor's
device id (chosen by the client, validated here). It carries the salted hash
of the IP it was issued to, never the IP itself, so moderation can act on
"same network" without the service ever storing an address.

Expiry is checked against the injected clock rather than PyJWT's own
``time.time()`` so the rule is testable without waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from jwt.algorithms import HMACAlgorithm

from connect.clock import Clock
from connect.errors import ConnectError, unauthorized

ALGORITHM = "HS256"
TokenKind = Literal["guest", "access"]


class _CheckedKeyHMAC(HMACAlgorithm):
    """PyJWT's HS256, with each key's check done once rather than on every token.

    Before it signs or verifies, PyJWT's HMAC makes sure the key is not an
    asymmetric key in disguise (PEM, SSH, DER, JWK JSON: a defence against
    algorithm confusion). That check parses the key several ways and raises
    and catches exceptions doing it, on every call: about 40% of encoding or
    verifying a guest token, which every visit does twice (py-spy, churn). The
    answer depends only on the key, and this service uses one secret, so the
    prepared form of the keys seen is kept (a few at most). Registered in
    place of PyJWT's own HS256 (:func:`jwt.register_algorithm`, its extension
    point) when this module is imported.
    """

    _KEEP = 8

    def __init__(self) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._prepared: dict[str | bytes, bytes] = {}

    def prepare_key(self, key: str | bytes) -> bytes:
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = super().prepare_key(key)  # raises for a key it refuses: not kept
            if len(self._prepared) >= self._KEEP:
                self._prepared.clear()
            self._prepared[key] = prepared
        return prepared


jwt.unregister_algorithm(ALGORITHM)
jwt.register_algorithm(ALGORITHM, _CheckedKeyHMAC())

GUEST_PREFIX = "guest:"
USER_PREFIX = "user:"


def guest_subject(device_id: str) -> str:
    """The typed subject of a visitor known only by a device id."""
    return GUEST_PREFIX + device_id


def user_subject(account_id: str) -> str:
    """The typed subject of a registered account (all of its devices)."""
    return USER_PREFIX + account_id


def kind_of(subject: str) -> TokenKind:
    """The token kind a typed subject belongs to."""
    return "access" if subject.startswith(USER_PREFIX) else "guest"


def split_subject(subject: str) -> tuple[TokenKind, str] | None:
    """``("guest", device)`` or ``("access", account)`` of a typed subject; None if untyped."""
    if subject.startswith(GUEST_PREFIX):
        return "guest", subject[len(GUEST_PREFIX) :]
    if subject.startswith(USER_PREFIX):
        return "access", subject[len(USER_PREFIX) :]
    return None


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified holder of a token.

    ``subject`` is the bare id the token names: a device id chosen by a guest
    client, or an account id. The two spaces overlap (an account id is a valid
    device id), so anything that groups, keys or compares holders across
    kinds must use ``key``, the typed subject (``guest:<device>`` or
    ``user:<account>``): the hub and the cluster registry group sockets by it,
    resume tokens are bound to it, and rate limits and abuse signals count by
    it. ``subject`` alone is only meaningful together with ``kind``.
    """

    subject: str
    kind: TokenKind
    ip_hash: str
    expires_at: float
    role: str | None = None
    # The login (refresh-token family) an access token was issued in, from its
    # ``fam`` claim: ``AccountService.authorize`` refuses the token once that
    # login has ended (logout, password change or reset, a disabled account).
    family: str | None = None
    key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        typed = user_subject(self.subject) if self.kind == "access" else guest_subject(self.subject)
        object.__setattr__(self, "key", typed)

    @property
    def account_id(self) -> str | None:
        return self.subject if self.kind == "access" else None

    @property
    def device_id(self) -> str | None:
        return self.subject if self.kind == "guest" else None


def parse_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``ip`` as an address (an IPv4-mapped IPv6 address as its IPv4), or None."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


class IpHasher:
    """Keyed hash of client addresses.

    HMAC-SHA256 with a server secret: without the salt a hash cannot be
    reversed by enumerating the IPv4 space, and two deployments with different
    salts cannot join their data. IPv6 addresses are reduced to their /64,
    the unit a single subscriber usually holds, so rotating the interface id
    does not dodge a ban.
    """

    def __init__(self, salt: str) -> None:
        self._key = salt.encode()

    def hash(self, ip: str) -> str:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            canonical = ip
        else:
            if isinstance(addr, ipaddress.IPv6Address):
                mapped = addr.ipv4_mapped
                canonical = (
                    str(mapped)
                    if mapped is not None
                    else str(ipaddress.IPv6Network(f"{addr}/64", strict=False).network_address)
                )
            else:
                canonical = str(addr)
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()[:32]

    def hash_network(self, ip: str, prefix: int) -> str | None:
        """Keyed hash of the ``prefix``-bit network that holds ``ip``, as ``<hash>/<prefix>``.

        A ban on a range is stored this way, never as the range itself; an
        address is checked against it by hashing its own network at each
        prefix length some active range ban uses (a handful at most). None
        when ``ip`` is not an address of a family that prefix fits.
        """
        addr = parse_address(ip)
        if addr is None or prefix > addr.max_prefixlen:
            return None
        network = ipaddress.ip_network(f"{addr}/{prefix}", strict=False)
        digest = hmac.new(self._key, f"net:{network}".encode(), hashlib.sha256).hexdigest()
        return f"{digest[:32]}/{prefix}"


def client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]) -> str:
    """The address a request came from, honouring X-Forwarded-For only from trusted proxies.

    Walks the forwarded chain from the right and stops at the first hop that is
    not a trusted proxy; anything further left was written by the client and
    cannot be believed.
    """
    if peer is None:
        return "unknown"
    if not forwarded_for or not _is_trusted(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def scope_client_ip(scope: Mapping[str, Any], trusted_proxies: Sequence[str]) -> str:
    """:func:`client_ip` of an ASGI connection scope (HTTP request or WebSocket)."""
    peer = scope.get("client")
    forwarded = None
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
            break
    return client_ip(peer[0] if peer else None, forwarded, trusted_proxies)


def _is_trusted(ip: str, trusted: Sequence[str]) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(net, strict=False) for net in trusted)


class TokenService:
    def __init__(
        self, secret: str, clock: Clock, guest_ttl_s: int, access_ttl_s: int = 900
    ) -> None:
        self._secret = secret
        self._clock = clock
        self.guest_ttl_s = guest_ttl_s
        self.access_ttl_s = access_ttl_s

    def issue_access(self, account_id: str, role: str, family: str | None = None) -> str:
        """A short-lived token for a registered account; the role is informative only.

        Endpoints that need a role read it from the account row, so a demotion
        or a disabled account takes effect before the token expires. ``fam``
        names the login (refresh-token family) the token belongs to: revoking
        the family (logout, password change) refuses the token at once.
        """
        now = int(self._clock.now())
        claims: dict[str, Any] = {
            "sub": account_id,
            "typ": "access",
            "rol": role,
            "iat": now,
            "exp": now + self.access_ttl_s,
        }
        if family is not None:
            claims["fam"] = family
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def issue_appeal(self, ban_id: str, expires_at: float) -> str:
        """Proof, handed to a banned visitor, that they may appeal ``ban_id``."""
        now = int(self._clock.now())
        claims = {"sub": ban_id, "typ": "appeal", "iat": now, "exp": int(expires_at)}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify_appeal(self, token: str) -> str:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "require": ["sub", "typ", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise unauthorized("invalid appeal token") from exc
        if claims.get("typ") != "appeal" or claims["exp"] <= self._clock.now():
            raise unauthorized("invalid or expired appeal token")
        return str(claims["sub"])

    def issue_guest(self, device_id: str, ip_hash: str) -> str:
        now = int(self._clock.now())
        claims = {
            "sub": device_id,
            "typ": "guest",
            "iph": ip_hash,
            "iat": now,
            "exp": now + self.guest_ttl_s,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """Decode and check a token; raise ``unauthorized`` on any defect."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "require": ["sub", "typ", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise unauthorized("invalid token") from exc
        kind = claims.get("typ")
        exp = claims.get("exp")
        sub = claims.get("sub")
        if kind not in ("guest", "access") or not isinstance(sub, str):
            raise unauthorized("invalid token")
        if not isinstance(exp, int | float) or exp <= self._clock.now():
            raise ConnectError("token_expired", "token expired", status=401)
        fam = claims.get("fam")
        return Principal(
            subject=sub,
            kind=kind,
            ip_hash=str(claims.get("iph", "")),
            expires_at=float(exp),
            role=claims.get("rol") if isinstance(claims.get("rol"), str) else None,
            family=fam if kind == "access" and isinstance(fam, str) else None,
        )
