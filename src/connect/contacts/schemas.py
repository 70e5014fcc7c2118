"""Shapes of accounts' contacts strand: profiles, channels, messages, reactions, attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from connect.bounds import INT32_MAX
from connect.identity.schemas import EMAIL_PATTERN
from connect.schemas import NOT_ONLY_SPACE, NotBool, WireModel, omitted_if_none


class SignupIn(WireModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=64)


class ProfileIn(WireModel):
    display_name: str = Field(min_length=1, max_length=64)


class UserOut(WireModel):
    id: str
    display_name: str
    avatar_url: str | None


class UserList(WireModel):
    users: list[UserOut]


class ChannelIn(WireModel):
    user_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class MessageIn(WireModel):
    """Text (not only whitespace) and/or an attachment."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["text"], "properties": {"text": {"pattern": NOT_ONLY_SPACE}}},
                {"required": ["attachmentId"], "properties": {"attachmentId": {"type": "string"}}},
            ]
        }
    )

    text: str = Field(default="", max_length=4000)
    attachment_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    client_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    reply_to: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{32}$", description="(ext) the quoted message's id"
    )


class ReactionSummary(WireModel):
    emoji: str
    user_ids: list[str]


class AttachmentOut(WireModel):
    id: str
    url: str
    filename: str
    content_type: str
    size: int


class ReplyQuote(WireModel):
    """A short quote of the message replied to (ext)."""

    id: str
    sender_id: str
    text: str = Field(description="cut to 200 characters; empty when deleted")
    has_attachment: bool
    deleted: bool


class ChannelMessage(WireModel):
    id: str
    channel_id: str
    seq: int
    sender_id: str
    text: str
    attachment: AttachmentOut | None
    client_id: str
    created_at: datetime
    delivered_at: datetime | None
    reactions: list[ReactionSummary]
    read_at: datetime | None = Field(default=None, description="(ext) read by the recipient")
    edited_at: datetime | None = Field(default=None, description="(ext) last edited")
    deleted_at: datetime | None = Field(default=None, description="(ext) a tombstone since")
    reply_to: ReplyQuote | None = Field(default=None, description="(ext) the quoted message")


class MessagePage(WireModel):
    messages: list[ChannelMessage]
    next_cursor: int | None = Field(description="pass as ?after= to continue; null at the end")


class ChannelOut(WireModel):
    id: str
    peer: UserOut
    created_at: datetime
    last_message: ChannelMessage | None
    unread_count: int
    blocked: bool = Field(default=False, description="(ext) you blocked this peer")


class ChannelList(WireModel):
    channels: list[ChannelOut]


class ReadIn(WireModel):
    seq: Annotated[int, NotBool] = Field(ge=0, le=INT32_MAX)


class ReactionIn(WireModel):
    emoji: str = Field(min_length=1, max_length=16, description="one emoji (ext: any)")


class DeliveredIn(WireModel):
    ids: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=500)


class DeliveredOut(WireModel):
    acknowledged: int


class UndeliveredOut(WireModel):
    messages: list[ChannelMessage]


class ChannelTyping(WireModel):
    channel_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    active: bool


class ChannelTypingOut(WireModel):
    channel_id: str
    user_id: str
    active: bool
    ttl_ms: int = Field(description="treat as inactive after this long without a refresh")


class MessageReactionOut(WireModel):
    message_id: str
    channel_id: str
    user_id: str
    emoji: str
    action: Literal["added", "removed"]


class BlockedUser(WireModel):
    user: UserOut
    created_at: datetime


class BlockList(WireModel):
    blocks: list[BlockedUser]


# Messenger (ext): receipts, edits, deletes, search, channel-created, presence.


class EditIn(WireModel):
    text: str = Field(max_length=4000)


class SearchPage(WireModel):
    messages: list[ChannelMessage]
    next_before: int | None = Field(description="pass as ?before= for older matches; null at end")


class MessageReceipt(WireModel):
    channel_id: str
    user_id: str = Field(description="who received or read")
    status: Literal["delivered", "read"]
    at: datetime
    message_ids: list[str] | None = omitted_if_none()
    up_to_seq: int | None = omitted_if_none()


class MessageDeleted(WireModel):
    message_id: str
    channel_id: str
    seq: int
    deleted_at: datetime


class MessagesDelivered(WireModel):
    ids: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=500)
