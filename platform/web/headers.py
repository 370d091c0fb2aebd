"""The security headers every response carries: pages, partials, redirects, errors, static files.

They are added in a `before_send` hook, which Litestar runs around the ASGI send of every request,
so responses that never reach a handler (a 404, a 405, a refused CSRF token, an exception) get them too.
"""

from __future__ import annotations

from litestar.datastructures import CacheControlHeader
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

# Scripts and styles come only from /static: no inline <script>, style= or on*= handlers, and no eval
# (htmx is told so in base.html), so an injected tag or attribute does nothing.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
# For `cache_control=` on handlers whose page shows a secret link or token: no cache, proxy or
# back-forward history keeps a copy of it.
NO_STORE = CacheControlHeader(no_store=True)


def security_headers(https: bool) -> BeforeMessageSendHookHandler:
    """The hook for `Litestar(before_send=...)`; HSTS only when the site is served over https."""
    fixed = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if https:
        fixed["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    # Encoded once: this runs on every response, and a response rarely sets one of these itself.
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in fixed.items()]
    names = {name for name, _ in raw}

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            kept = [header for header in message.get("headers", ()) if header[0].lower() not in names]
            message["headers"] = [*kept, *raw]

    return add_security_headers
