"""Files sent in a conversation: the upload (before the message that carries it) and the
download, for the channel's members only.

An upload is checked by content (``check_upload``: an allowed type by its bytes,
within the size limit) and refused across a block, since the message it is for
could never be sent. The rate and the per-account quota are the API route's
(``UploadGuard``); removing the file with its message is the delete's
(messages.py).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from connect.clock import Clock, utc_now
from connect.contacts.blocks import Blocks
from connect.contacts.channels import member_channel, other_member
from connect.contacts.reasons import refused
from connect.contacts.schemas import AttachmentOut
from connect.contacts.store import ContactStore
from connect.contacts.views import attachment_out
from connect.storage.models import Attachment
from connect.uploads import ATTACHMENT_TYPES, check_upload, store


class Attachments:
    def __init__(
        self,
        *,
        store: ContactStore,
        clock: Clock,
        blocks: Blocks,
        files_dir: Path,
        max_bytes: int,
    ) -> None:
        self._store = store
        self._clock = clock
        self._blocks = blocks
        self._files = files_dir
        self._max = max_bytes

    async def upload(self, me: str, channel_id: str, filename: str, data: bytes) -> AttachmentOut:
        channel = await member_channel(self._store, me, channel_id)
        await self._blocks.refuse_if_blocked(me, other_member(channel, me))
        kind = check_upload(data, ATTACHMENT_TYPES, self._max)
        name = store(self._files, data, kind)
        attachment = Attachment(
            id=uuid.uuid4().hex,
            channel_id=channel_id,
            uploader_id=me,
            filename=(filename or "file")[-255:],
            content_type=kind,
            size=len(data),
            path=name,
            created_at=utc_now(self._clock),
        )
        await self._store.add_attachment(attachment)
        return attachment_out(attachment)

    async def attachment_file(self, me: str, attachment_id: str) -> tuple[Path, Attachment]:
        attachment = await self._store.attachment(attachment_id)
        if attachment is None:
            raise refused("attachment_not_found")
        channel = await self._store.channel(attachment.channel_id)
        if channel is None or me not in (channel.user_a, channel.user_b):
            raise refused("attachment_not_member")
        path = self._files / attachment.path
        if not path.is_file():
            raise refused("attachment_not_found")
        return path, attachment
