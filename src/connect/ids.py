"""Random identifiers for the busy paths, drawn from a buffer of kernel randomness.

``secrets.token_urlsafe`` and ``uuid.uuid4`` each make one ``getrandom``
system call. A stranger's visit makes about eight on the way to its first
chat: the request id of its token request, its client id and resume token,
two peer ids and the session id, and the ids of the session's
started and ended events. In the burst benchmark, generating ids was 5% of
the server's samples (py-spy), nearly all of it the system calls.

Here the bytes come from the same source (``os.urandom``), 4 KiB at a time,
and are handed out in order, each byte once. Holding unread random bytes in
the process's memory gives away nothing that memory does not already hold
(the signing secret is there too). A forked child must not hand out its
parent's bytes again, so the buffer is emptied in the child
(``os.register_at_fork``).
"""

from __future__ import annotations

import base64
import os
import threading

_CHUNK = 4096


class RandomPool:
    """Kernel random bytes, read a chunk at a time and never handed out twice."""

    def __init__(self, chunk: int = _CHUNK) -> None:
        self._chunk = chunk
        self._buffer = b""
        self._at = 0
        self._lock = threading.Lock()  # ids may also be made off the event loop's thread

    def take(self, n: int) -> bytes:
        with self._lock:
            end = self._at + n
            if end > len(self._buffer):
                self._buffer = os.urandom(max(self._chunk, n))
                self._at, end = 0, n
            out = self._buffer[self._at : end]
            self._at = end
            return out

    def forget(self) -> None:
        with self._lock:
            self._buffer, self._at = b"", 0


_pool = RandomPool()
os.register_at_fork(after_in_child=_pool.forget)


def token_urlsafe(nbytes: int) -> str:
    """As :func:`secrets.token_urlsafe`: ``nbytes`` random bytes, URL-safe base64, no padding."""
    return base64.urlsafe_b64encode(_pool.take(nbytes)).rstrip(b"=").decode("ascii")


def token_hex(nbytes: int) -> str:
    """As :func:`secrets.token_hex`."""
    return _pool.take(nbytes).hex()


def uuid4_hex() -> str:
    """As ``uuid.uuid4().hex``: 122 random bits with the version and variant bits set."""
    raw = bytearray(_pool.take(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()
