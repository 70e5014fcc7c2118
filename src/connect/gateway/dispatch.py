"""Event name → (payload schema, handler).

Feature packages register their socket handlers here from their
``events.py``; the endpoint validates each payload against the registered
pydantic model before the handler sees it, so handlers receive typed,
bounded input or nothing at all.

A handler returns the extra fields of its ack (or None). Work that must
happen *after* the ack went out — e.g. a ``matched`` that should follow the
``join-queue`` ack — is registered with :meth:`EventContext.later`.

A handler that needs no I/O is registered with :meth:`Router.add_now` as a
plain function: the gateway then runs it in the socket's read callback
instead of waking the socket's task (see :mod:`connect.gateway.link`). The
relays of signaling and chat are such handlers when the session store is
in-process memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

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
ImmediateHandler = Callable[[EventContext, M], dict[str, Any] | None]


@dataclass(frozen=True)
class Route:
    """One event's schema and its handler: ``handler`` (awaited) or ``now`` (called), not both."""

    model: type[BaseModel]
    validate: Callable[[Any], Any]
    """``model.model_validate`` without its Python wrapper (one frame less per event)."""
    handler: Handler[Any] | None = None
    now: ImmediateHandler[Any] | None = None


def _validator(model: type[M]) -> Callable[[Any], M]:
    return model.__pydantic_validator__.validate_python


class Router:
    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def add(self, event: str, model: type[M], handler: Handler[M]) -> None:
        self._add(event, Route(model, _validator(model), handler=handler))

    def add_now(self, event: str, model: type[M], handler: ImmediateHandler[M]) -> None:
        """Register a handler that completes without waiting on anything."""
        self._add(event, Route(model, _validator(model), now=handler))

    def _add(self, event: str, route: Route) -> None:
        if event in self._routes:
            raise ValueError(f"event {event!r} registered twice")
        self._routes[event] = route

    @property
    def routes(self) -> Mapping[str, Route]:
        return self._routes

    def events(self) -> dict[str, type[BaseModel]]:
        return {name: route.model for name, route in self._routes.items()}
