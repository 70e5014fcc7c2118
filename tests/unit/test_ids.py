"""connect.ids: identifiers from a buffer of kernel randomness."""

from __future__ import annotations

import os
import re
import uuid

from connect import ids
from connect.ids import RandomPool


def test_bytes_are_never_handed_out_twice_across_refills() -> None:
    pool = RandomPool(chunk=64)
    taken = [pool.take(9) for _ in range(200)]  # 1,800 bytes: many refills of 64
    assert all(len(t) == 9 for t in taken)
    assert len(set(taken)) == len(taken)


def test_a_request_larger_than_the_chunk_is_served_whole() -> None:
    pool = RandomPool(chunk=16)
    assert len(pool.take(40)) == 40
    assert len(pool.take(5)) == 5


def test_formats_match_the_standard_library() -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", ids.token_urlsafe(9))
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", ids.token_urlsafe(24))
    assert re.fullmatch(r"[0-9a-f]{16}", ids.token_hex(8))
    made = uuid.UUID(hex=ids.uuid4_hex())
    assert made.version == 4
    assert made.variant == uuid.RFC_4122


def test_a_forked_child_does_not_repeat_its_parents_bytes() -> None:
    ids.token_hex(1)  # the buffer now holds unread bytes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the next id it would hand out
        os.close(read)
        os.write(write, ids.token_hex(16).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child != ids.token_hex(16)
