"""Uploaded files: bounded size, type decided by content (magic bytes), never by the client.

The declared Content-Type and filename extension of an upload are ignored
for the decision; the first bytes must match one of the allowed formats.
Stored files get a random name under the data directory, so a filename can
never escape it or collide.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from connect.errors import ConnectError

SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
)
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
ATTACHMENT_TYPES = IMAGE_TYPES | {"application/pdf", "text/plain"}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/plain": "txt",
}


def sniff(data: bytes) -> str | None:
    for magic, offset, kind in SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (
            kind != "image/webp" or data[:4] == b"RIFF"
        ):
            return kind
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain" if b"\x00" not in data[:4096] else None


def check_upload(data: bytes, allowed: frozenset[str], max_bytes: int) -> str:
    """Return the content type of ``data`` or refuse it."""
    if not data:
        raise ConnectError("invalid_upload", "the file is empty")
    if len(data) > max_bytes:
        raise ConnectError(
            "upload_too_large", f"files are limited to {max_bytes} bytes", status=413
        )
    kind = sniff(data)
    if kind is None or kind not in allowed:
        raise ConnectError(
            "unsupported_type", "allowed types: " + ", ".join(sorted(allowed)), status=415
        )
    return kind


def store(directory: Path, data: bytes, kind: str) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[kind]}"
    (directory / name).write_bytes(data)
    return name
