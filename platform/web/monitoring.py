"""What an operator watches: a request id on every request and its log line, and /metrics for Prometheus.

The request id is the caller's `X-Request-ID` when it is well-formed, else a new one; it is echoed in the
response, stamped on the events the request's command records, and so on the letters they cause.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import Request, get
from litestar.datastructures import MutableScopeHeaders
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST

from cookout.domain.base import serving_request
from cookout.platform.container import Container
from cookout.platform.logs import request_id_from
from cookout.platform.metrics import exposition
from cookout.platform.web.headers import NO_STORE
from cookout.platform.web.pages import trusted_for_health

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_RAW = REQUEST_ID_HEADER.lower().encode("latin-1")

log = logging.getLogger("cookout.web")

# Latency by route template (/tribes/{slug}), never the raw path: one series per page, not per tribe.
PROMETHEUS = PrometheusConfig(app_name="cookout", prefix="cookout", group_path=True)


def request_ids(app: ASGIApp) -> ASGIApp:
    """Middleware: the request runs, and logs, under its id; the response names it; one line says how it went."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = request_id_from(MutableScopeHeaders(scope).get(REQUEST_ID_HEADER))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_RAW, request_id.encode("latin-1"))]
            await send(message)

        with serving_request(request_id):
            try:
                await app(scope, receive, send_with_id)
            finally:
                # The route's template, not the path: signed links carry their secret in the path.
                route = scope.get("path_template") or "(unrouted)"
                took = (time.perf_counter() - started) * 1000
                log.info("%s %s %d in %.0f ms", scope["method"], route, status, took,
                         extra={"request_id": request_id, "method": scope["method"], "route": route,
                                "status": status, "duration_ms": round(took, 1)})

    return middleware


@get("/metrics", sync_to_thread=True, cache_control=NO_STORE, opt={"catch_up": False})
def metrics(request: Request[Any, Any, Any], container: NamedDependency[Container]) -> Response[bytes]:
    """Prometheus's text format; like /readyz's details, only for loopback or the COOKOUT_HEALTH_TOKEN."""
    if not trusted_for_health(request, container.settings.health_token):
        raise PermissionDeniedException("/metrics is for loopback, or with the COOKOUT_HEALTH_TOKEN")
    return Response(exposition(container), media_type=CONTENT_TYPE_LATEST)


ROUTES = [metrics]
