"""The base of every wire schema: camelCase on the wire, unknown fields refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from connect.storage.times import aware

UtcDatetime = Annotated[datetime, AfterValidator(aware)]
"""A datetime sent with its UTC offset even when SQLite handed it back naive."""


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a number is required, not true or false")
    return value


NotBool = BeforeValidator(_not_bool)
"""For a number in a request body: pydantic's lax mode would read ``true`` as 1.

Strict mode is not the answer: it also refuses ``3.0``, which JSON Schema
counts as the integer 3. ``Annotated[int, NotBool]``.
"""


NOT_ONLY_SPACE = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
"""A pattern (unanchored) matching text with something left after Python's ``str.strip()``:
the class is exactly the characters ``str.isspace()`` is true for, spelled out because ECMA,
Rust and Python regexes each read ``\\s`` a little differently."""


def _given(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def at_least_one_of(*names: str) -> dict[str, Any]:
    """JSON Schema saying at least one of these (camelCase) properties is given, not null."""
    return {"anyOf": [_given(name) for name in names]}


def exactly_one_of(*names: str) -> dict[str, Any]:
    """JSON Schema saying exactly one of these (camelCase) properties is given, not null.

    For a model whose validator enforces it, as ``json_schema_extra``: the
    document then says what the server checks.
    """
    return {"oneOf": [_given(name) for name in names]}


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
