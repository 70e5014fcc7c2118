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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from connect.gateway.connection import Client

M = TypeVar("M", bound=BaseModel)


@dataclass(slots=True)
class EventContext:
    client: Client
    event: str
    deferred: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    def later(self, job: Callable[[], Awaitable[object]]) -> None:
        self.deferred.append(job)


Handler = Callable[[EventContext, M], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class Route(Generic[M]):
    model: type[M]
    handler: Handler[M]


class Router:
    def __init__(self) -> None:
        self._routes: dict[str, Route[Any]] = {}

    def add(self, event: str, model: type[M], handler: Handler[M]) -> None:
        if event in self._routes:
            raise ValueError(f"event {event!r} registered twice")
        self._routes[event] = Route(model, handler)

    def get(self, event: str) -> Route[Any] | None:
        return self._routes.get(event)

    def events(self) -> dict[str, type[BaseModel]]:
        return {name: route.model for name, route in self._routes.items()}
