"""Shapes of the identity endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictBool, model_validator

from connect.schemas import UtcDatetime, WireModel, at_least_one_of

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class GuestTokenRequest(WireModel):
    device_id: str = Field(pattern=DEVICE_ID_PATTERN)


class GuestTokenReply(WireModel):
    token: str
    expires_in: int


EMAIL_CHAR = r"[^@\s\x00-\x1f\x7f-\x9f\ufeff]"
r"""Not @, whitespace or a control character: explicit, so ECMA (the OpenAPI reader), Rust
(pydantic) and Python regexes, whose ``\s`` differ at the edges, accept the same emails."""
EMAIL_PATTERN = rf"^{EMAIL_CHAR}{{1,64}}@{EMAIL_CHAR}{{1,190}}\.{EMAIL_CHAR}{{2,}}$"


class LoginIn(WireModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class TokenPairOut(WireModel):
    access_token: str
    refresh_token: str
    expires_in: int


class RefreshIn(WireModel):
    refresh_token: str = Field(min_length=10, max_length=256)


class AccountOut(WireModel):
    id: str
    email: str
    display_name: str
    role: Literal["user", "moderator", "admin"]
    created_at: UtcDatetime
    disabled: bool = False


class StaffIn(WireModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=64)
    role: Literal["moderator", "admin"]


Role = Literal["user", "moderator", "admin"]
RESET_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,128}$"  # noqa: S105 (a pattern, not a secret)


class PasswordChangeIn(WireModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class PasswordResetIn(WireModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)


class PasswordResetConfirmIn(WireModel):
    token: str = Field(pattern=RESET_TOKEN_PATTERN)
    new_password: str = Field(min_length=10, max_length=256)


class StandingIn(WireModel):
    """An admin's change of an account: its role, and/or disabled or not."""

    model_config = ConfigDict(json_schema_extra=at_least_one_of("role", "disabled"))

    role: Role | None = None
    disabled: StrictBool | None = None

    @model_validator(mode="after")
    def _something(self) -> StandingIn:
        if self.role is None and self.disabled is None:
            raise ValueError("give role and/or disabled")
        return self


class AccountList(WireModel):
    accounts: list[AccountOut]


class SessionOut(WireModel):
    """One signed-in device (a login): never its User-Agent or IP, only a label."""

    id: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime
    browser: str | None
    current: bool


class SessionList(WireModel):
    sessions: list[SessionOut]


class RevokedOut(WireModel):
    revoked: int


SESSION_ID_PATTERN = r"^[0-9a-f]{32}$"


class AccountDeleteIn(WireModel):
    password: str = Field(min_length=1, max_length=256)
