"""Live sessions and the short memory of ended ones.

Ended sessions stay readable for ``session_record_ttl_s`` so that a report
filed shortly after a call can be checked against who was in it; no session
data is written to durable storage unless someone reports it.

``close`` is the one contended operation (both members, possibly on two
nodes, may end a session at the same moment): it succeeds once, and only
the caller that closed the session tells the partner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Protocol, runtime_checkable

import orjson
import redis.asyncio as redis
from redis.typing import EncodableT, FieldT

from connect.sessions.models import TRANSCRIPT_LINES, Member, Session
from connect.storage.redis import PREFIX


class SessionStore(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def of_client(self, client_id: str) -> Session | None: ...

    async def close(
        self, session_id: str, *, ended_at: float, reason: str, ended_by: str, keep_until: float
    ) -> bool:
        """Mark the session ended and detach its members; False if it was already ended."""
        ...

    async def append_message(self, session_id: str, line: dict[str, Any]) -> None: ...

    async def transcript(self, session_id: str) -> list[dict[str, Any]]: ...

    async def live(self) -> list[Session]: ...

    async def counts(self) -> tuple[int, int]:
        """(live sessions, live direct calls), without reading the sessions."""
        ...

    async def prune(self, now: float) -> int: ...


@runtime_checkable
class ImmediateSessionStore(Protocol):
    """A store that answers without I/O: the relay's hot path calls it synchronously.

    The in-process memory store is one; a shared (Redis) store cannot be,
    since who is paired with whom may change on another node at any time.
    """

    def of_client_now(self, client_id: str) -> Session | None: ...

    def append_message_now(self, session_id: str, line: dict[str, Any]) -> None: ...


class MemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._by_client: dict[str, str] = {}
        self._expiry: dict[str, float] = {}
        # Lists, not deques: most sessions say a line or two, and an empty
        # deque alone is 600 bytes, kept for the whole record TTL.
        self._transcripts: dict[str, list[dict[str, Any]]] = {}

    async def add(self, session: Session) -> None:
        self._sessions[session.id] = session
        for m in session.members:
            self._by_client[m.client_id] = session.id

    async def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    async def of_client(self, client_id: str) -> Session | None:
        return self.of_client_now(client_id)

    def of_client_now(self, client_id: str) -> Session | None:
        sid = self._by_client.get(client_id)
        return self._sessions.get(sid) if sid is not None else None

    async def close(
        self, session_id: str, *, ended_at: float, reason: str, ended_by: str, keep_until: float
    ) -> bool:
        session = self._sessions.get(session_id)
        if session is None or session.ended_at is not None:
            return False
        session.ended_at = ended_at
        session.end_reason = reason
        session.ended_by = ended_by
        for m in session.members:
            if self._by_client.get(m.client_id) == session.id:
                del self._by_client[m.client_id]
        self._expiry[session.id] = keep_until
        return True

    async def append_message(self, session_id: str, line: dict[str, Any]) -> None:
        self.append_message_now(session_id, line)

    def append_message_now(self, session_id: str, line: dict[str, Any]) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            session.messages += 1
        lines = self._transcripts.get(session_id)
        if lines is None:
            lines = self._transcripts[session_id] = []
        lines.append(line)
        if len(lines) > TRANSCRIPT_LINES:
            del lines[0]

    async def transcript(self, session_id: str) -> list[dict[str, Any]]:
        return list(self._transcripts.get(session_id, ()))

    async def live(self) -> list[Session]:
        return [s for s in self._sessions.values() if s.ended_at is None]

    async def counts(self) -> tuple[int, int]:
        live = [s for s in self._sessions.values() if s.ended_at is None]
        return len(live), sum(1 for s in live if s.kind == "call")

    async def prune(self, now: float) -> int:
        expired = [sid for sid, until in self._expiry.items() if until <= now]
        for sid in expired:
            del self._expiry[sid]
            self._sessions.pop(sid, None)
            self._transcripts.pop(sid, None)
        return len(expired)


CLOSE = """
if redis.call("HEXISTS", KEYS[1], "ended_at") == 1 or redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
redis.call("HSET", KEYS[1], "ended_at", ARGV[1], "end_reason", ARGV[2], "ended_by", ARGV[3])
redis.call("SREM", KEYS[2], ARGV[5])
redis.call("SREM", ARGV[4] .. "sessions:calls", ARGV[5])
for i = 6, #ARGV do
  local ck = ARGV[4] .. "cs:" .. ARGV[i]
  if redis.call("GET", ck) == ARGV[5] then redis.call("DEL", ck) end
end
return 1
"""

OF_CLIENT = """
local sid = redis.call("GET", KEYS[1])
if not sid then return {} end
return redis.call("HGETALL", ARGV[1] .. "s:" .. sid)
"""
"""The client's live session in one round trip: its id (``cs:<client>``), then the session.

Every chat line, typing signal and WebRTC message asks this on the Redis
backend; as a GET followed by an HGETALL it cost the node two round trips
(each ~100 µs of redis-py's CPU on loopback, more in its wait)."""


class RedisSessionStore:
    """Sessions shared by every node: ``s:<id>`` (hash: ``data``, ``messages``, the
    :func:`relay_fields`, and once ended ``ended_at``, ``end_reason``, ``ended_by``),
    ``s:<id>:tx`` (transcript list), ``cs:<client>`` (the client's live session),
    ``sessions:live`` and ``sessions:calls`` (sets: the live sessions, and those of them
    that are direct calls). The cluster's ``ROUTE`` script reads and appends to these
    too (:mod:`connect.gateway.cluster.relay`)."""

    LIVE_TTL_S = 86_400

    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._close = client.register_script(CLOSE)
        self._of_client = client.register_script(OF_CLIENT)

    @staticmethod
    def _key(session_id: str) -> str:
        return f"{PREFIX}s:{session_id}"

    async def add(self, session: Session) -> None:
        static = {
            "id": session.id,
            "mode": session.mode,
            "members": [asdict(m) for m in session.members],
            "common_interests": session.common_interests,
            "started_at": session.started_at,
            "kind": session.kind,
            "call_id": session.call_id,
        }
        key = self._key(session.id)
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"data": orjson.dumps(static), "messages": 0})
            pipe.hset(key, mapping=relay_fields(session))
            pipe.expire(key, self.LIVE_TTL_S)
            pipe.sadd(f"{PREFIX}sessions:live", session.id)
            if session.kind == "call":
                pipe.sadd(f"{PREFIX}sessions:calls", session.id)
            for m in session.members:
                pipe.set(f"{PREFIX}cs:{m.client_id}", session.id, ex=self.LIVE_TTL_S)
            await pipe.execute()

    async def get(self, session_id: str) -> Session | None:
        raw = await self._r.hgetall(self._key(session_id))
        return _decode(raw) if raw else None

    async def of_client(self, client_id: str) -> Session | None:
        flat = await self._of_client(keys=[f"{PREFIX}cs:{client_id}"], args=[PREFIX])
        if not flat:
            return None
        return _decode(dict(zip(flat[::2], flat[1::2], strict=True)))

    async def close(
        self, session_id: str, *, ended_at: float, reason: str, ended_by: str, keep_until: float
    ) -> bool:
        session = await self.get(session_id)
        if session is None:
            return False
        closed = await self._close(
            keys=[self._key(session_id), f"{PREFIX}sessions:live"],
            args=[
                repr(ended_at),
                reason,
                ended_by,
                PREFIX,
                session_id,
                *(m.client_id for m in session.members),
            ],
        )
        if closed:
            ttl_ms = max(1000, int((keep_until - ended_at) * 1000))
            async with self._r.pipeline(transaction=False) as pipe:
                pipe.pexpire(self._key(session_id), ttl_ms)
                pipe.pexpire(f"{self._key(session_id)}:tx", ttl_ms)
                await pipe.execute()
        return bool(closed)

    async def append_message(self, session_id: str, line: dict[str, Any]) -> None:
        key = self._key(session_id)
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hincrby(key, "messages", 1)
            pipe.rpush(f"{key}:tx", orjson.dumps(line))
            pipe.ltrim(f"{key}:tx", -TRANSCRIPT_LINES, -1)
            pipe.expire(f"{key}:tx", self.LIVE_TTL_S)
            await pipe.execute()

    async def transcript(self, session_id: str) -> list[dict[str, Any]]:
        return [orjson.loads(x) for x in await self._r.lrange(f"{self._key(session_id)}:tx", 0, -1)]

    async def live(self) -> list[Session]:
        """Every live session: the set's members read in one pipelined round trip, not one
        each (the gauges ask every sweep, so this grew with the sessions on every node)."""
        ids = list(await self._r.smembers(f"{PREFIX}sessions:live"))
        if not ids:
            return []
        async with self._r.pipeline(transaction=False) as pipe:
            for sid in ids:
                pipe.hgetall(self._key(sid.decode() if isinstance(sid, bytes) else sid))
            found = await pipe.execute()
        out = []
        gone = []
        for sid, raw in zip(ids, found, strict=True):
            if not raw:
                gone.append(sid)
                continue
            session = _decode(raw)
            if session.ended_at is None:
                out.append(session)
        if gone:
            async with self._r.pipeline(transaction=False) as pipe:
                pipe.srem(f"{PREFIX}sessions:live", *gone)
                pipe.srem(f"{PREFIX}sessions:calls", *gone)
                await pipe.execute()
        return out

    async def counts(self) -> tuple[int, int]:
        """The two sets' sizes, one round trip: every node refreshes its gauges each
        sweep (0.5-1 s), and reading every session for that (:meth:`live`) cost each
        node O(live sessions) per sweep (at 200 sessions 2.5-5% of a node's py-spy
        samples under 2,000 chat lines/s; at 10,000 sessions, 10,000 HGETALLs a sweep).
        An entry whose session expired unclosed counts until :meth:`live` drops it."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.scard(f"{PREFIX}sessions:live")
            pipe.scard(f"{PREFIX}sessions:calls")
            live, calls = await pipe.execute()
        return int(live), int(calls)

    async def prune(self, now: float) -> int:
        return 0  # key TTLs expire ended sessions


def relay_fields(session: Session) -> dict[FieldT, EncodableT]:
    """What the cluster's ``ROUTE`` script reads to relay from a member to its partner,
    as plain hash fields: ``mode``, ``peer:<client>`` (the member's peerId) and
    ``to:<client>`` (its partner's client id). Reading them costs Redis ~2 µs; decoding
    ``data`` with ``cjson`` in the script cost ~55 µs a line (sessions written before
    these fields still relay that way)."""
    a, b = session.members
    return {
        "mode": session.mode,
        f"peer:{a.client_id}": a.peer_id,
        f"peer:{b.client_id}": b.peer_id,
        f"to:{a.client_id}": b.client_id,
        f"to:{b.client_id}": a.client_id,
    }


def _decode(raw: Mapping[Any, Any]) -> Session:
    d = {(k.decode() if isinstance(k, bytes) else k): v for k, v in raw.items()}
    static = orjson.loads(d["data"])
    ended = d.get("ended_at")
    return Session(
        id=static["id"],
        mode=static["mode"],
        members=tuple(Member(**m) for m in static["members"]),  # type: ignore[arg-type]
        common_interests=static["common_interests"],
        started_at=float(static["started_at"]),
        ended_at=float(ended) if ended is not None else None,
        end_reason=_text(d.get("end_reason")),
        ended_by=_text(d.get("ended_by")),
        messages=int(d.get("messages", b"0")),
        kind=static["kind"],
        call_id=static["call_id"],
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
