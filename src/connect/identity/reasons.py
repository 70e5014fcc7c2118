"""Why an account route refused a request, when the error ``code`` alone does not say it.

``not_found`` answers several questions (which avatar, which sign-in, which account):
each refusal here names its ``reason`` (docs/protocol.md, "Reasons with parameters").
The contacts app translates ``avatar_not_found`` and ``login_not_found``
(``messenger.err.reason.<reason>``), the dashboard ``account_not_found``
(``admin.errors.reason.<reason>``); ``message`` is the English fallback, from this table.
"""

from __future__ import annotations

from connect.errors import ConnectError, reasoned

IDENTITY_REASONS: dict[str, str] = {
    "avatar_not_found": "no avatar",
    "login_not_found": "no such session",
    "account_not_found": "no such account",
}
"""Each reason code with its English sentence (the messages these refusals always had)."""


def missing(reason: str) -> ConnectError:
    """The 404 ``not_found`` named ``reason``."""
    return reasoned("not_found", 404, IDENTITY_REASONS, reason)
