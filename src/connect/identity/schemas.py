"""Shapes of the identity endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from connect.schemas import WireModel

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class GuestTokenRequest(WireModel):
    device_id: str = Field(pattern=DEVICE_ID_PATTERN)


class GuestTokenReply(WireModel):
    token: str
    expires_in: int


EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$"


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
    created_at: datetime


class StaffIn(WireModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=64)
    role: Literal["moderator", "admin"]
