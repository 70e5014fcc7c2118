"""Optional OpenTelemetry tracing of HTTP requests and gateway events.

Off by default (``CONNECT_OTEL_ENABLED=false``): then :func:`tracer` returns
None and the hot paths skip tracing with one ``is None`` check. On, spans are
exported over OTLP/HTTP to ``CONNECT_OTEL_ENDPOINT`` (or printed to stderr
when no endpoint is set, for local inspection). Needs the ``otel`` extra.
"""

from __future__ import annotations

from typing import Any

from connect.settings import Settings

_TRACER: Any = None


def configure(settings: Settings) -> None:
    global _TRACER
    if not settings.otel_enabled:
        _TRACER = None
        return
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError as exc:
        raise RuntimeError("CONNECT_OTEL_ENABLED needs `pip install connect[otel]`") from exc
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    if settings.otel_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otel_endpoint))
        )
    else:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _TRACER = trace.get_tracer("connect")


def tracer() -> Any:
    """The configured tracer, or None when tracing is off."""
    return _TRACER
