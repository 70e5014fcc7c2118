"""The WebSocket endpoint at /ws: handshake, the frame loop, and closing.

Why one ~490-line module (over 400 lines on purpose): handshake, frame loop, deferred handlers and
refusals share each connection's state (budget, pending frames, the hello in
flight) and sit on the hot path; they are kept in one class so a frame is
handled by direct method calls and its life is readable in one place.

Independent of the server that carries the socket (see
:mod:`connect.gateway.link`): it is on the hot path of every relayed frame,
and it needs exact control over close codes and sizes. One task per socket
runs :meth:`GatewayEndpoint._run`. Per frame it: checks size (4009 above
the limit), decodes, spends one token of the connection's budget
(``rate-limited``, then 4008 for a flood), validates the payload against
the event's schema, runs the handler, and acks when the frame carried an
``id``. Errors go back in the contract's shape and never affect any other
connection. Frames whose handler needs no I/O are handled in the socket's
read callback without waking its task (:meth:`GatewayEndpoint._take`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import structlog
from pydantic import ValidationError

from connect.clock import Clock
from connect.errors import SCHEMA_RETRY_MS, UNAVAILABLE_RETRY_MS, ConnectError, faults, unavailable
from connect.gateway import close_codes, codec
from connect.gateway.connection import Client, Connection
from connect.gateway.dispatch import EventContext, Handler, Router
from connect.gateway.hub import Hub
from connect.gateway.link import Link, Pending, Transport
from connect.gateway.schemas import Hello, RateLimited, Welcome
from connect.identity.service import IpHasher, Principal, TokenService
from connect.observability import tracing
from connect.observability.metrics import Metrics
from connect.ratelimit import RateLimiter, Rule, TokenBucket
from connect.settings import Settings

log = structlog.get_logger(__name__)

# Frames a socket may have waiting while its handler awaits (a slow database):
# far above what a client sends in a burst (ICE candidates), far below memory trouble.
MAX_PENDING_FRAMES = 256
PONG = codec.event("pong", {})

Admission = Callable[[Principal, str, str], Awaitable[None]]


@contextlib.contextmanager
def _span(tracer: Any, event: str, connection_id: str) -> Iterator[None]:
    with tracer.start_as_current_span(f"ws {event}") as span:
        span.set_attribute("connect.connection_id", connection_id)
        yield


def validation_message(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_context=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "data"
    return f"{where}: {first['msg']}"[:200]


class GatewayEndpoint:
    def __init__(
        self,
        *,
        settings: Settings,
        hub: Hub,
        router: Router,
        tokens: TokenService,
        ip_hasher: IpHasher,
        limiter: RateLimiter,
        metrics: Metrics,
        clock: Clock,
    ) -> None:
        self._s = settings
        self._hub = hub
        self._routes = router.routes
        self._max_bytes = settings.max_frame_bytes
        self._tokens = tokens
        self._ip_hasher = ip_hasher
        self._limiter = limiter
        self._metrics = metrics
        self._clock = clock
        self._hello_rule = Rule.parse("hello", settings.rate_hello)
        self._admission: list[Admission] = []
        self._loops: set[asyncio.Task[None]] = set()
        # Hellos past their checks, attaching a client: id(conn) -> the subject, so a
        # hello that fails there can let go of what it took (one subject's clients).
        self._attaching: dict[int, str] = {}
        self.draining = False

    def admit_with(self, check: Admission) -> None:
        """Add a check run on every hello (e.g. bans); it raises ConnectError to refuse."""
        self._admission.append(check)

    def open(
        self, transport: Transport, client_ip: str, country_hint: str | None = None
    ) -> Link | None:
        """A WebSocket was accepted: start its frame loop and return the link to feed.

        ``country_hint``: a trusted proxy's country header (see connect.geo).
        While the node drains, the socket is closed with 1012 at once (None).
        """
        if self.draining:
            transport.close(close_codes.SHUTTING_DOWN, "shutting down")
            return None
        ip_hash = self._ip_hasher.hash(client_ip)
        bucket = TokenBucket(self._s.event_rate_per_s, self._s.event_burst, self._clock)
        conn = Connection(
            transport, self._s.send_buffer_bytes, bucket, ip_hash, client_ip, country_hint
        )
        link = Link(MAX_PENDING_FRAMES, conn.close_too_slow)
        task = asyncio.get_running_loop().create_task(self._run(link, conn))
        self._loops.add(task)
        task.add_done_callback(self._loops.discard)
        return link

    async def _run(self, link: Link, conn: Connection) -> None:
        self._metrics.connections.inc()
        client: Client | None = None
        disconnect_code = close_codes.NORMAL
        structlog.contextvars.bind_contextvars(ip_hash=conn.ip_hash)
        try:
            client = await self._handshake(conn, link)
            if client is None:
                await self._until_closed(link)
            else:
                structlog.contextvars.bind_contextvars(connection_id=client.id)
                log.debug("gateway_open", kind=client.principal.kind)
                disconnect_code = await self._serve(client, conn, link)
                log.debug("gateway_closed", code=disconnect_code)
        except Exception as exc:
            # Never a silent socket: whatever escaped, the client is told and closed.
            self._close_failed(conn, "gateway connection", exc)
        finally:
            self._metrics.connections.dec()
            if client is not None:
                keep = disconnect_code != close_codes.NORMAL and conn.close_code in (
                    None,
                    close_codes.TOO_SLOW,
                    close_codes.TOO_LARGE,
                    close_codes.SHUTTING_DOWN,
                    close_codes.TRY_AGAIN_LATER,
                )
                try:
                    await self._hub.detach(client, conn, keep_place=keep)
                except Exception as exc:
                    faults.report("gateway detach", exc)

    async def _handshake(self, conn: Connection, link: Link) -> Client | None:
        try:
            async with asyncio.timeout(self._s.hello_timeout_s):
                item = await link.next()
        except TimeoutError:
            self._refuse(
                conn, close_codes.TOO_SLOW, ConnectError("hello_timeout", "no hello in time")
            )
            return None
        if type(item) is int:
            return None
        # The hello is answered within this bound whatever its checks wait on (a ban
        # lookup, the cluster registry): an outage answers ``unavailable``. Its work runs
        # as a task that is abandoned, not awaited, at the bound: a cancelled database
        # call can take its own timeout to unwind (a hung PostgreSQL: 5 s to connect).
        work = asyncio.get_running_loop().create_task(self._hello(conn, item))
        done, _ = await asyncio.wait((work,), timeout=self._s.hello_timeout_s)
        if not done:
            work.cancel()
            work.add_done_callback(functools.partial(self._late_hello, conn))
            self._hello_failed(conn, None)
            return None
        exc = work.exception()
        if exc is not None:
            assert isinstance(exc, Exception)
            self._hello_failed(conn, exc)
            return None
        self._attaching.pop(id(conn), None)
        attached = work.result()
        if attached is None:
            return None
        client, resumed = attached
        # After the welcome: the hooks (e.g. the contacts backlog) log their own failures.
        await self._hub.welcomed(client, resumed)
        return client

    def _late_hello(self, conn: Connection, work: asyncio.Task[tuple[Client, bool] | None]) -> None:
        """An abandoned hello finished after all: let go of a place it took meanwhile."""
        if not work.cancelled() and work.exception() is not None:
            exc = work.exception()
            assert isinstance(exc, Exception)
            faults.report("gateway hello", exc)
        self._release(conn)

    def _hello_failed(self, conn: Connection, exc: Exception | None) -> None:
        """A hello that could not be handled: error event, then close (1013 or 1011).

        A place the hello had already taken in the hub is let go: the client was
        never welcomed, so it has no resume token to come back with.
        """
        if exc is None:  # the hello's work goes on until cancelled: _late_hello releases
            self._metrics.errors.labels("hello_timeout_server").inc()
            faults.report("gateway hello", TimeoutError("hello not handled in time"), "timeout")
            self._refuse(conn, close_codes.TRY_AGAIN_LATER, unavailable())
            return
        self._release(conn)
        self._close_failed(conn, "gateway hello", exc)

    def _release(self, conn: Connection) -> None:
        """Let go of a client a failed hello attached to ``conn`` (its subject's clients only)."""
        subject = self._attaching.pop(id(conn), None)
        if subject is None:
            return
        for client in self._hub.of_subject(subject):
            if client.conn is conn:
                task = asyncio.get_running_loop().create_task(
                    self._hub.detach(client, conn, keep_place=False)
                )
                task.add_done_callback(_report_failure)

    def _close_failed(self, conn: Connection, where: str, exc: Exception) -> None:
        """Tell the client why its socket ends, then close: 1013 for an outage, else 1011."""
        if conn.closing:
            faults.report(where, exc)
            return
        cause = faults.report(where, exc)
        if cause is not None:
            self._refuse(conn, close_codes.TRY_AGAIN_LATER, _unavailable(cause))
        else:
            self._refuse(
                conn,
                close_codes.INTERNAL_ERROR,
                ConnectError("internal_error", "the server failed to handle this connection"),
            )

    async def _hello(self, conn: Connection, item: object) -> tuple[Client, bool] | None:
        """Check the hello frame, attach and welcome its client; None when refused (told)."""
        try:
            if type(item) is not str:
                raise ConnectError("invalid_frame", "frames must be JSON text")
            assert isinstance(item, str)
            if len(item) > self._s.max_frame_bytes:
                raise ConnectError("frame_too_large", "hello frame too large")
            frame = codec.decode(item)
            if frame.event != "hello":
                raise ConnectError("hello_required", "the first frame must be hello")
            hello = Hello.model_validate(frame.data)
            principal = self._tokens.verify(hello.token)
            await self._limiter.hit(self._hello_rule, conn.ip_hash)
            for check in self._admission:
                await check(principal, conn.ip_hash, conn.ip)
        # One name per exception type in a function: mypyc types a name by its first binding.
        except codec.FrameError as bad_frame:
            refusal = ConnectError(bad_frame.code, bad_frame.message)
            self._refuse(conn, close_codes.UNAUTHORIZED, refusal)
            return None
        except ValidationError as invalid:
            self._refuse(
                conn,
                close_codes.UNAUTHORIZED,
                ConnectError("invalid_payload", validation_message(invalid)),
            )
            return None
        except ConnectError as exc:
            if "ban" in exc.extra:
                conn.push(codec.event("banned", exc.extra["ban"]))
                conn.close(close_codes.BANNED, "banned")
                return None
            code = {
                "rate_limited": close_codes.TOO_SLOW,
                "frame_too_large": close_codes.TOO_LARGE,
            }.get(exc.code, close_codes.UNAUTHORIZED)
            self._refuse(conn, code, exc)
            return None

        self._attaching[id(conn)] = principal.key
        client: Client | None = None
        if hello.resume is not None:
            client = await self._hub.attach_resume(hello.resume, principal, conn.ip_hash, conn)
        resumed = client is not None
        if client is None:
            client = await self._hub.attach_new(principal, conn.ip_hash, conn)
        welcome = Welcome(
            connection_id=client.id,
            resume_token=client.resume_token,
            heartbeat_ms=int(self._s.heartbeat_s * 1000),
            resumed=resumed,
        )
        conn.push(codec.event("welcome", welcome.wire()))
        if resumed:
            self._hub.activate(client, conn)
            await self._hub.notify_resumed(client)
        return client, resumed

    async def _serve(self, client: Client, conn: Connection, link: Link) -> int:
        """Run the frame loop until the socket ends; return the close code the client gave."""
        link.handle_directly(functools.partial(self._take, client, conn))
        while True:
            item = await link.next()
            if type(item) is str:
                pending = self._take(client, conn, item)
                if pending is not None:
                    await pending()
            elif type(item) is int:
                return item
            elif type(item) is bytes:
                if not conn.closing:
                    self._error(
                        conn, None, ConnectError("invalid_frame", "frames must be JSON text")
                    )
            else:
                assert callable(item)
                await item()

    async def _until_closed(self, link: Link) -> None:
        """A refused socket: wait (bounded) for the server to report its end."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._s.hello_timeout_s):
                while not link.drained:
                    await link.next()

    def _take(self, client: Client, conn: Connection, raw: str) -> Pending | None:
        """Handle one text frame as far as it goes without waiting; return the rest, if any.

        Everything before the handler needs no I/O: the size check, decoding,
        the event budget, ``ping``, the route lookup and payload validation.
        An immediate handler runs here too, so a relay is done before this
        returns (in the socket's read callback, see :class:`Link`); the
        handler of any other event is returned for the frame loop to await.
        """
        if conn.closing:
            return None
        if len(raw) > self._max_bytes // 4 and len(raw.encode()) > self._max_bytes:
            self._metrics.errors.labels("frame_too_large").inc()
            conn.close(close_codes.TOO_LARGE, "frame too large")
            return None
        try:
            frame = codec.decode(raw)
        except codec.FrameError as bad_frame:  # not ``exc``: see _hello
            self._error(conn, bad_frame.frame_id, ConnectError(bad_frame.code, bad_frame.message))
            return None
        wait = conn.bucket.take()
        if wait:
            self._over_budget(conn, frame, wait)
            return None
        if frame.event == "ping":
            conn.push(PONG)
            if frame.id is not None:
                conn.push(codec.ack(frame.id))
            return None
        route = self._routes.get(frame.event)
        if route is None:
            self._error(
                conn, frame.id, ConnectError("unknown_event", f"unknown event {frame.event!r}")
            )
            return None
        ctx = EventContext(client, frame.event)
        try:
            payload = route.validate(frame.data)
            if route.now is None:
                assert route.handler is not None
                return functools.partial(self._call, ctx, conn, frame, route.handler, payload)
            started = time.perf_counter()
            tracer = tracing.tracer()
            if tracer is None:
                extra = route.now(ctx, payload)
            else:
                with _span(tracer, frame.event, client.id):
                    extra = route.now(ctx, payload)
        except Exception as exc:
            self._failed(conn, frame, exc)
            return None
        return self._done(ctx, conn, frame, extra, started)

    async def _call(
        self,
        ctx: EventContext,
        conn: Connection,
        frame: codec.Frame,
        handler: Handler[Any],
        payload: Any,
    ) -> None:
        started = time.perf_counter()
        tracer = tracing.tracer()
        try:
            if tracer is None:
                extra = await handler(ctx, payload)
            else:
                with _span(tracer, frame.event, ctx.client.id):
                    extra = await handler(ctx, payload)
        except Exception as exc:
            self._failed(conn, frame, exc)
            return
        deferred = self._done(ctx, conn, frame, extra, started)
        if deferred is not None:
            await deferred()

    def _done(
        self,
        ctx: EventContext,
        conn: Connection,
        frame: codec.Frame,
        extra: dict[str, Any] | None,
        started: float,
    ) -> Pending | None:
        """Ack a handled frame and time it; return the jobs it left for after the ack."""
        if frame.id is not None:
            conn.push(codec.ack(frame.id, extra))
        self._metrics.event_handling.labels(frame.event).observe(time.perf_counter() - started)
        if ctx.deferred is None:
            return None
        return functools.partial(self._run_deferred, ctx)

    async def _run_deferred(self, ctx: EventContext) -> None:
        for job in ctx.deferred or ():
            try:
                await job()
            except Exception as exc:
                faults.report(f"gateway {ctx.event} (after ack)", exc)

    def _failed(self, conn: Connection, frame: codec.Frame, exc: Exception) -> None:
        """Answer a handler's failure in the contract's shape; a bug is logged, not leaked."""
        if isinstance(exc, ValidationError):
            self._error(conn, frame.id, ConnectError("invalid_payload", validation_message(exc)))
        elif isinstance(exc, ConnectError):
            self._error(conn, frame.id, exc)
        else:
            cause = faults.report(f"gateway {frame.event}", exc)
            if cause is not None:
                self._error(conn, frame.id, _unavailable(cause))
                return
            self._error(
                conn,
                frame.id,
                ConnectError("internal_error", "the server failed to handle this event"),
            )

    def _over_budget(self, conn: Connection, frame: codec.Frame, wait: float) -> None:
        """Refuse a frame beyond the event budget; close a socket that keeps flooding."""
        conn.refusals += 1
        if conn.refusals > self._s.event_flood_refusals:
            self._metrics.errors.labels("flood").inc()
            conn.close(close_codes.TOO_SLOW, "too many frames")
            return
        retry_ms = max(1, int(wait * 1000))
        conn.push(
            codec.event(
                "rate-limited", RateLimited(event=frame.event, retry_after_ms=retry_ms).wire()
            )
        )
        self._error(
            conn,
            frame.id,
            ConnectError("rate_limited", "event budget exceeded", retry_after_ms=retry_ms),
        )

    def _error(self, conn: Connection, frame_id: int | None, exc: ConnectError) -> None:
        self._metrics.errors.labels(exc.code).inc()
        body = exc.body()
        if frame_id is not None:
            conn.push(codec.nack(frame_id, body))
        else:
            error = dict(body["error"])
            if exc.retry_after_ms is not None:
                error["retryAfterMs"] = exc.retry_after_ms
            conn.push(codec.event("error", error))

    def _refuse(self, conn: Connection, code: int, exc: ConnectError) -> None:
        self._error(conn, None, exc)
        conn.close(code, exc.message)


def _unavailable(cause: str) -> ConnectError:
    return unavailable(SCHEMA_RETRY_MS if cause == "schema" else UNAVAILABLE_RETRY_MS)


def _report_failure(task: asyncio.Task[None]) -> None:
    """Done-callback of a fire-and-forget task: its failure is logged, never left unretrieved."""
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        assert isinstance(exc, Exception)
        faults.report("gateway cleanup", exc)
