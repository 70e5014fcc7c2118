"""Evidence images of reports: checked on the way in, kept as files, removed by name.

A visitor's snapshot arrives as base64 (or a data URL) and must be a JPEG within
the size limit; the frame check's flagged frames arrive already checked. Files
are named after their report and live in one directory, so the report row keeps
only the name and retention can delete by it.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from connect.errors import ConnectError, bad_request

JPEG_START = b"\xff\xd8\xff"
JPEG_END = b"\xff\xd9"


def decode_jpeg(data: str, max_bytes: int) -> bytes:
    """Decode a base64 (or data-URL) JPEG, checking size and the JPEG markers."""
    if data.startswith("data:"):
        header, _, data = data.partition(",")
        if header not in ("data:image/jpeg;base64", "data:image/jpg;base64"):
            raise bad_request("evidence must be a JPEG image", "invalid_evidence")
    if len(data) > (max_bytes * 4) // 3 + 8:
        raise ConnectError(
            "evidence_too_large", f"evidence is limited to {max_bytes} bytes", status=413
        )
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request("evidence is not valid base64", "invalid_evidence") from exc
    if len(raw) > max_bytes:
        raise ConnectError(
            "evidence_too_large", f"evidence is limited to {max_bytes} bytes", status=413
        )
    if not (raw.startswith(JPEG_START) and raw.rstrip(b"\x00").endswith(JPEG_END)):
        raise bad_request("evidence must be a JPEG image", "invalid_evidence")
    return raw


class EvidenceFiles:
    """The evidence directory: store, find and remove a report's image."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._dir = directory
        self._max = max_bytes

    def decode(self, data: str) -> bytes:
        return decode_jpeg(data, self._max)

    def store(self, report_id: str, data: bytes) -> str:
        self._dir.mkdir(parents=True, exist_ok=True)
        name = f"{report_id}.jpg"
        (self._dir / name).write_bytes(data)
        return name

    def file(self, name: str | None) -> Path | None:
        if not name:
            return None
        path = self._dir / name
        return path if path.is_file() else None

    def remove(self, name: str | None) -> None:
        if name:
            (self._dir / name).unlink(missing_ok=True)
