"""The base of every wire schema: camelCase on the wire, unknown fields refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """Input and output shapes share one convention.

    Fields are snake_case in Python and camelCase on the wire; unknown fields
    are an error rather than silently ignored, so a client's typo is reported
    instead of half-applied.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def wire(self) -> dict[str, object]:
        """The JSON-ready dict sent to clients.

        A field typed ``X | None`` without a default is always present (null
        when empty); fields declared with :func:`omitted_if_none` are left out
        instead, for shapes where absence is the convention (an ICE server
        without credentials, an error without a retry time).
        """
        return self.model_dump(by_alias=True, mode="json")


def _is_none(value: object) -> bool:
    return value is None


def omitted_if_none(**kwargs: Any) -> Any:
    """An optional field that is left out of the output when it is None."""
    return Field(default=None, exclude_if=_is_none, **kwargs)


class ErrorBody(WireModel):
    code: str
    message: str


class ErrorReply(WireModel):
    """`{"error": {"code", "message"}}` plus `retryAfterMs` when a limit applies."""

    error: ErrorBody
    retry_after_ms: int | None = omitted_if_none()
