"""A WebSocket client at the byte level, for what a well-behaved library never sends.

Invalid UTF-8 in a text frame, a peer that never answers pings, an upgrade
on a path the server does not serve: the ``websockets`` client refuses to
produce these, so the tests write the frames themselves (RFC 6455 framing,
client frames masked).
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct

WAIT_S = 5.0


class RawSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def upgrade(cls, host: str, port: int, path: str = "/ws") -> tuple[RawSocket, int]:
        """Send the upgrade request; return the socket and the HTTP status of the answer."""
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT_S)
        status = int(head.split(b" ", 2)[1])
        return cls(reader, writer), status

    def send_frame(self, opcode: int, payload: bytes, *, fin: bool = True) -> None:
        mask = os.urandom(4)
        first = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", first, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)

    async def read_frame(self, timeout: float = WAIT_S) -> tuple[int, bytes]:
        """The next frame from the server (opcode, payload); server frames are unmasked."""
        first, second = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        n = second & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(n)

    async def close_code(self, timeout: float = WAIT_S) -> int:
        """Read until the server's close frame; return its code."""
        while True:
            opcode, payload = await self.read_frame(timeout)
            if opcode == 0x8:
                return int(struct.unpack("!H", payload[:2])[0]) if payload else 1005

    async def until_eof(self, timeout: float) -> None:
        """Read (and drop) everything until the server closes the TCP connection."""
        async with asyncio.timeout(timeout):
            while await self.reader.read(65536):
                pass

    def close(self) -> None:
        self.writer.close()
