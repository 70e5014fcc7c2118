"""Why the contacts product (conversations, messages, attachments, blocks, direct calls)
refused a request, when the error ``code`` alone does not say it.

Several causes share one code (``invalid_request``, ``forbidden``, ``not_found``,
``blocked``, ``invalid_call_state``...): each refusal here names its ``reason`` and
``params`` (docs/protocol.md, "Reasons with parameters"), which the contacts app
translates (``messenger.err.reason.<reason>`` in web/src/i18n/contacts); ``message`` is
the English fallback, written from the same table so the two cannot drift.
"""

from __future__ import annotations

from connect.errors import ConnectError, reasoned

CONTACT_REASONS: dict[str, str] = {
    # 400 invalid_request
    "message_empty": "a message needs text or an attachment",
    "search_empty": "search for some text",
    "channel_with_self": "you cannot open a channel with yourself",
    "block_self": "you cannot block yourself",
    "report_own_message": "report the other person's messages, not your own",
    # 401 unauthorized
    "channels_need_account": "log in to use channels",
    # 403 forbidden
    "message_not_yours": "only the sender can change a message",
    "attachment_not_member": "only members of the channel may download its attachments",
    "report_not_member": "only a member of the conversation can report it",
    # 403 blocked
    "blocked_by_you": "you blocked this person; unblock them first",
    "blocked_by_them": "this person does not accept messages or calls from you",
    # 404 not_found
    "user_not_found": "no such user",
    "channel_not_found": "no such channel",
    "message_not_found": "no such message",
    "attachment_not_found": "no such attachment",
    "call_not_found": "no such call",
    # 409 invalid_call_state
    "call_already_answered": "cannot {action} a call that is {status}",
    "call_over": "cannot {action} a call that is {status}",
    "call_not_answered": "cannot {action} a call that is {status}",
    "call_state_changed": "the call changed state meanwhile",
    # 403 not_your_call
    "call_callee_only": "only the callee can {action} this call",
    "call_caller_only": "only the caller can {action} this call",
}
"""Each reason code with its English sentence (``str.format`` fields named like its params)."""

_CODES: dict[str, tuple[str, int]] = {
    "message_empty": ("invalid_request", 400),
    "search_empty": ("invalid_request", 400),
    "channel_with_self": ("invalid_request", 400),
    "block_self": ("invalid_request", 400),
    "report_own_message": ("invalid_request", 400),
    "channels_need_account": ("unauthorized", 401),
    "message_not_yours": ("forbidden", 403),
    "attachment_not_member": ("forbidden", 403),
    "report_not_member": ("forbidden", 403),
    "blocked_by_you": ("blocked", 403),
    "blocked_by_them": ("blocked", 403),
    "user_not_found": ("not_found", 404),
    "channel_not_found": ("not_found", 404),
    "message_not_found": ("not_found", 404),
    "attachment_not_found": ("not_found", 404),
    "call_not_found": ("not_found", 404),
    "call_already_answered": ("invalid_call_state", 409),
    "call_over": ("invalid_call_state", 409),
    "call_not_answered": ("invalid_call_state", 409),
    "call_state_changed": ("invalid_call_state", 409),
    "call_callee_only": ("not_your_call", 403),
    "call_caller_only": ("not_your_call", 403),
}


def refused(reason: str, **params: str | int) -> ConnectError:
    """The refusal named ``reason``, with the code and status that reason always has."""
    code, status = _CODES[reason]
    return reasoned(code, status, CONTACT_REASONS, reason, **params)
