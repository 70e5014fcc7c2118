"""The ``ROUTE`` script, and a relay waiting in the outbox for it.

``ROUTE`` is one script for both kinds of call the outbox makes, so one pipeline holds
both in their order and one ``NOSCRIPT`` reload covers both (two scripts could be
found half-loaded after a Redis restart, and a retry would then skip the unloaded one's
calls as already run, by their source sequence).
"""

from __future__ import annotations

import asyncio
from typing import Any

from connect.delivery import NOT_IN_SESSION, WRONG_MODE
from connect.errors import ConnectError, unavailable

ROUTE = """
local seq = tonumber(ARGV[5])
if seq <= tonumber(redis.call("GET", KEYS[1]) or "-1") then return 3 end
redis.call("SET", KEYS[1], ARGV[5], "EX", 3600)
local target, frame, message, mode = ARGV[2], ARGV[4], ARGV[6], false
if ARGV[9] then
  local sid = redis.call("GET", ARGV[1] .. "cs:" .. ARGV[2])
  if not sid then return {-9} end
  local sk = ARGV[1] .. "s:" .. sid
  local got = redis.call("HMGET", sk, "ended_at", "mode", "peer:" .. ARGV[2], "to:" .. ARGV[2])
  if got[1] then return {-9} end
  local peer
  mode, peer, target = got[2], got[3], got[4]
  if not mode then
    local raw = redis.call("HGET", sk, "data")
    if not raw then return {-9} end
    local data = cjson.decode(raw)
    mode = data.mode
    for _, m in ipairs(data.members) do
      if m.client_id == ARGV[2] then peer = m.peer_id else target = m.client_id end
    end
  end
  if not peer or not target then return {-9} end
  if ARGV[9] == "m" and mode == "text" then return {-8} end
  local body = '{"from":' .. cjson.encode(peer) .. ARGV[10]
  if ARGV[9] == "l" then
    local tx = sk .. ":tx"
    redis.call("HINCRBY", sk, "messages", 1)
    redis.call("RPUSH", tx, body)
    redis.call("LTRIM", tx, -tonumber(ARGV[11]), -1)
    redis.call("EXPIRE", tx, ARGV[12])
  end
  frame = '{"event":' .. cjson.encode(ARGV[4]) .. ',"data":' .. body .. '}'
  message = '{"t":"f","c":' .. cjson.encode(target) .. ',"x":' .. cjson.encode(frame) .. '}'
end
local out = 2
local node = redis.call("HGET", ARGV[1] .. "conn:" .. target, "node")
if node == ARGV[3] then
  out = 0
elseif node and node ~= "" and redis.call("PUBLISH", ARGV[1] .. "node:" .. node, message) > 0 then
  out = 1
else
  local gk = ARGV[1] .. "gap:" .. target
  redis.call("RPUSH", gk, frame)
  redis.call("LTRIM", gk, -tonumber(ARGV[8]), -1)
  redis.call("EXPIRE", gk, ARGV[7])
  if not node then out = -1 end
end
if mode then return {out, mode, target, frame} end
return out
"""
"""Route one frame to its client's holder (``ARGV[9]`` absent), or relay from a client to
its partner (``ARGV[9]``: ``l`` a chat line, also appended to the transcript; ``r`` a
relay; ``m`` a media relay, refused in a text session).

A relay finds the sender's live session (``cs:<client>``, then ``s:<id>``: the layout of
:class:`~connect.sessions.store.RedisSessionStore`), builds the frame with the sender's
``peerId`` (``ARGV[4]`` the event, ``ARGV[10]`` the data after ``from``), and routes it
to the other member, all in this one call: the partner is whoever is the sender's
partner in Redis at the moment of routing, so a line can never reach an ex-partner, and
the transcript holds a line exactly when it was routed. Answers ``{-9}`` outside a live
session, ``{-8}`` for media in a text session, else ``{outcome, mode, partner, frame}``."""

# How long a relay's sender waits for its frame to be routed before it is told
# ``unavailable`` (Redis away or stalled); a relay not yet sent by then is never sent.
RELAY_WAIT_S = 5.0


class Relay:
    """A relay waiting in the outbox: what ``ROUTE`` needs to build its frame, and the
    sender's handler waiting for the outcome (the session's mode)."""

    __slots__ = ("event", "kind", "tail", "waiter")

    def __init__(self, event: str, kind: str, tail: str, waiter: asyncio.Future[str]) -> None:
        self.event = event
        self.kind = kind
        self.tail = tail
        self.waiter = waiter

    @property
    def abandoned(self) -> bool:
        """The sender no longer waits (answered, or refused as ``unavailable``)."""
        return self.waiter.done()

    def answer(self, outcome: Any) -> tuple[str, str] | None:
        """Answer the sender from its ``ROUTE`` outcome; return ``(partner, frame)`` when
        the partner is on this node (the caller pushes it).

        A bare ``3`` is a retry of a call Redis had already run, whose answer was lost:
        delivered or refused, which this node cannot tell, so the sender is told
        ``unavailable`` (never acknowledged without knowing)."""
        here = None
        error: ConnectError | None = None
        if not isinstance(outcome, list):
            error = unavailable()
        elif outcome[0] == -9:
            error = ConnectError("not_in_session", NOT_IN_SESSION)
        elif outcome[0] == -8:
            error = ConnectError("wrong_mode", WRONG_MODE)
        elif outcome[0] == 0:
            here = (_text(outcome[2]), _text(outcome[3]))
        if not self.waiter.done():
            if error is None:
                self.waiter.set_result(_text(outcome[1]))
            else:
                self.waiter.set_exception(error)
        return here

    def fail(self) -> None:
        """The outbox could not route it (an unexpected error): never left waiting."""
        if not self.waiter.done():
            self.waiter.set_exception(unavailable())


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
