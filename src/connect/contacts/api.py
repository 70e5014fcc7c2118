"""Contacts REST: channels, messages, reactions, attachments, offline delivery."""

from __future__ import annotations

from fastapi import APIRouter, Form, Path, Query, Response, UploadFile
from fastapi.responses import FileResponse

from connect.bounds import INT32_MAX, nul_free
from connect.contacts.schemas import (
    AttachmentOut,
    BlockList,
    ChannelIn,
    ChannelList,
    ChannelMessage,
    ChannelOut,
    DeliveredIn,
    DeliveredOut,
    EditIn,
    MessageIn,
    MessagePage,
    ReactionIn,
    ReadIn,
    SearchPage,
    UndeliveredOut,
)
from connect.deps import CurrentPrincipal, ServicesDep
from connect.identity.accounts import ROLES
from connect.identity.service import Principal
from connect.services import Services

router = APIRouter(prefix="/api", tags=["contacts"])
CHANNEL_ID = r"^[0-9a-f]{32}$"
USER_ID = r"^[0-9a-f]{32}$"
MESSAGE_ID = r"^[0-9a-f]{32}$"


async def _me(principal: Principal, svc: Services) -> str:
    return (await svc.accounts.authorize(principal, ROLES)).id


@router.post("/channels", response_model=ChannelOut)
async def open_channel(
    body: ChannelIn, principal: CurrentPrincipal, svc: ServicesDep
) -> ChannelOut:
    await svc.limiter.hit(svc.rules.channel, principal.key)
    return await svc.contacts.open_channel(await _me(principal, svc), body.user_id)


@router.get("/channels", response_model=ChannelList)
async def my_channels(principal: CurrentPrincipal, svc: ServicesDep) -> ChannelList:
    await svc.limiter.hit(svc.rules.read, principal.key)
    return ChannelList(channels=await svc.contacts.channels(await _me(principal, svc)))


@router.get("/channels/{channel_id}/messages", response_model=MessagePage)
async def history(
    channel_id: str,
    principal: CurrentPrincipal,
    svc: ServicesDep,
    after: int = Query(default=0, ge=0, le=INT32_MAX),
    limit: int = Query(default=50, ge=1, le=200),
) -> MessagePage:
    await svc.limiter.hit(svc.rules.read, principal.key)
    return await svc.contacts.history(await _me(principal, svc), channel_id, after, limit)


@router.post(
    "/channels/{channel_id}/messages",
    status_code=201,
    response_model=ChannelMessage,
    responses={200: {"model": ChannelMessage, "description": "a resend: the stored message"}},
)
async def send_message(
    channel_id: str,
    body: MessageIn,
    principal: CurrentPrincipal,
    svc: ServicesDep,
    response: Response,
) -> ChannelMessage:
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.chat, me)
    message, created = await svc.contacts.send(me, channel_id, body)
    if not created:
        response.status_code = 200
    return message


@router.post("/channels/{channel_id}/read", status_code=204)
async def mark_read(
    channel_id: str, body: ReadIn, principal: CurrentPrincipal, svc: ServicesDep
) -> Response:
    await svc.limiter.hit(svc.rules.receipt, principal.key)
    await svc.contacts.mark_read(await _me(principal, svc), channel_id, body.seq)
    return Response(status_code=204)


@router.get("/channels/{channel_id}/messages/search", response_model=SearchPage)
async def search_messages(
    channel_id: str,
    principal: CurrentPrincipal,
    svc: ServicesDep,
    q: str = Query(min_length=1, max_length=100),
    limit: int = Query(default=20, ge=1, le=50),
    before: int | None = Query(default=None, ge=0, le=INT32_MAX),
) -> SearchPage:
    """(ext) Find messages of one conversation by text, newest first."""
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.join, f"search:{me}")
    return await svc.contacts.search(me, channel_id, q, before, limit)


@router.patch("/messages/{message_id}", response_model=ChannelMessage)
async def edit_message(
    body: EditIn,
    principal: CurrentPrincipal,
    svc: ServicesDep,
    message_id: str = Path(pattern=MESSAGE_ID),
) -> ChannelMessage:
    """(ext) The sender edits a message within the edit window; both sides are told."""
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.chat, me)
    return await svc.contacts.edit(me, message_id, body.text)


@router.delete("/messages/{message_id}", status_code=204)
async def delete_message(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    message_id: str = Path(pattern=MESSAGE_ID),
) -> Response:
    """(ext) Delete for everyone: a tombstone, the attachment removed from disk."""
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.chat, me)
    await svc.contacts.delete(me, message_id)
    return Response(status_code=204)


@router.post("/messages/{message_id}/reactions", status_code=204)
async def add_reaction(
    message_id: str, body: ReactionIn, principal: CurrentPrincipal, svc: ServicesDep
) -> Response:
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.chat, f"react:{me}")
    await svc.contacts.react(me, message_id, body.emoji, add=True)
    return Response(status_code=204)


@router.delete("/messages/{message_id}/reactions", status_code=204)
async def remove_reaction(
    message_id: str,
    principal: CurrentPrincipal,
    svc: ServicesDep,
    emoji: str = Query(min_length=1, max_length=16),
) -> Response:
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.chat, f"react:{me}")
    await svc.contacts.react(me, message_id, emoji, add=False)
    return Response(status_code=204)


@router.get("/messages/undelivered", response_model=UndeliveredOut)
async def undelivered(principal: CurrentPrincipal, svc: ServicesDep) -> UndeliveredOut:
    await svc.limiter.hit(svc.rules.read, principal.key)
    return UndeliveredOut(messages=await svc.contacts.undelivered(await _me(principal, svc)))


@router.post("/messages/delivered", response_model=DeliveredOut)
async def delivered(
    body: DeliveredIn, principal: CurrentPrincipal, svc: ServicesDep
) -> DeliveredOut:
    await svc.limiter.hit(svc.rules.receipt, principal.key)
    return DeliveredOut(
        acknowledged=await svc.contacts.acknowledge(await _me(principal, svc), body.ids)
    )


@router.post("/users/{user_id}/block", status_code=204)
async def block_user(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    user_id: str = Path(pattern=USER_ID),
) -> Response:
    """Block a user: nothing of theirs reaches you again (see docs/protocol.md)."""
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.join, f"block:{me}")
    await svc.contacts.block(me, user_id)
    await svc.calls.drop_ringing_between(me, user_id)
    await svc.presence.hide_from(me, user_id)
    return Response(status_code=204)


@router.delete("/users/{user_id}/block", status_code=204)
async def unblock_user(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    user_id: str = Path(pattern=USER_ID),
) -> Response:
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.join, f"block:{me}")
    await svc.contacts.unblock(me, user_id)
    return Response(status_code=204)


@router.get("/blocks", response_model=BlockList)
async def my_blocks(principal: CurrentPrincipal, svc: ServicesDep) -> BlockList:
    me = await _me(principal, svc)
    await svc.limiter.hit(svc.rules.join, f"blocks:{me}")
    return BlockList(blocks=await svc.contacts.blocked(me))


@router.post("/attachments", status_code=201, response_model=AttachmentOut)
async def upload_attachment(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    file: UploadFile,
    channel_id: str = Form(alias="channelId", pattern=CHANNEL_ID),
) -> AttachmentOut:
    me = await _me(principal, svc)
    filename = nul_free(file.filename or "file", "filename")
    data = await file.read(svc.settings.attachment_max_bytes + 1)
    async with svc.uploads.admit(me, len(data)):  # 429 over the rate, 413 over the quota
        return await svc.contacts.upload(me, channel_id, filename, data)


@router.get("/attachments/{attachment_id}", response_class=FileResponse)
async def download_attachment(
    attachment_id: str, principal: CurrentPrincipal, svc: ServicesDep
) -> FileResponse:
    await svc.limiter.hit(svc.rules.read, principal.key)
    path, attachment = await svc.contacts.attachment_file(await _me(principal, svc), attachment_id)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        filename=attachment.filename,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
