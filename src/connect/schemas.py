"""The base of every wire schema: camelCase on the wire, unknown fields refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
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
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


class ErrorBody(WireModel):
    code: str
    message: str


class ErrorReply(WireModel):
    """`{"error": {"code", "message"}}` plus `retryAfterMs` when a limit applies."""

    error: ErrorBody
    retry_after_ms: int | None = None
