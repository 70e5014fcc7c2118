"""Event name → (payload schema, handler).

Feature packages register their socket handlers here from their
``events.py``; the endpoint validates each payload against the registered
pydantic model before the handler sees it, so handlers receive typed,
bounded input or nothing at all.

A handler returns the extra fields of its ack (or None). Work that must
happen *after* the ack went out — e.g. a ``matched`` that should follow the
``join-queue`` ack — is registered with :meth:`EventContext.later`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from connect.gateway.connection import Client

M = TypeVar("M", bound=BaseModel)


class EventContext:
    """What a handler knows of the frame it handles (one per frame: a plain slotted class)."""

    __slots__ = ("client", "deferred", "event")

    def __init__(self, client: Client, event: str) -> None:
        self.client = client
        self.event = event
        self.deferred: list[Callable[[], Awaitable[object]]] | None = None

    def later(self, job: Callable[[], Awaitable[object]]) -> None:
        if self.deferred is None:
            self.deferred = []
        self.deferred.append(job)


Handler = Callable[[EventContext, M], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class Route(Generic[M]):
    model: type[M]
    handler: Handler[M]
    validate: Callable[[Any], M]
    """``model.model_validate`` without its Python wrapper (one frame less per event)."""


class Router:
    def __init__(self) -> None:
        self._routes: dict[str, Route[Any]] = {}

    def add(self, event: str, model: type[M], handler: Handler[M]) -> None:
        if event in self._routes:
            raise ValueError(f"event {event!r} registered twice")
        self._routes[event] = Route(model, handler, model.__pydantic_validator__.validate_python)

    @property
    def routes(self) -> Mapping[str, Route[Any]]:
        return self._routes

    def events(self) -> dict[str, type[BaseModel]]:
        return {name: route.model for name, route in self._routes.items()}
