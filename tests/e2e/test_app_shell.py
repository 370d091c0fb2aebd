"""The application shell: how handlers are registered, and what every page carries."""

from __future__ import annotations

from litestar import Litestar


def test_every_sync_handler_runs_in_a_thread_exactly_once(app: Litestar) -> None:
    # Litestar wraps a handler again when a later registration shares its path; a twice-wrapped
    # handler returns a coroutine instead of a page.
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            wrapped, depth = handler.fn, 0
            while hasattr(wrapped, "func"):
                wrapped, depth = wrapped.func, depth + 1
            assert depth <= 1, f"{route.path} {handler.http_methods} is wrapped {depth} times"
