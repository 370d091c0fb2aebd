"""The application shell: how handlers are registered, and what every page carries."""

from __future__ import annotations

from litestar import Litestar, Request
from litestar.testing import TestClient

from cookout.platform.web.app import create_app
from cookout.platform.web.errors import unexpected_error
from cookout.platform.container import Container
from tests.helpers import sign_up


def test_every_sync_handler_runs_in_a_thread_exactly_once(app: Litestar) -> None:
    # Litestar wraps a handler again when a later registration shares its path; a twice-wrapped
    # handler returns a coroutine instead of a page.
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            wrapped, depth = handler.fn, 0
            while hasattr(wrapped, "func"):
                wrapped, depth = wrapped.func, depth + 1
            assert depth <= 1, f"{route.path} {handler.http_methods} is wrapped {depth} times"


def test_cookies_are_secure_when_cookout_is_served_over_https(container: Container) -> None:
    settings = container.settings.model_copy(update={"base_url": "https://cookout.example.org"})
    with TestClient(app=create_app(settings, container), base_url="https://cookout.example.org") as client:
        response = sign_up(client)
    cookies = [value for key, value in response.headers.multi_items() if key == "set-cookie"]
    session = next(cookie for cookie in cookies if cookie.startswith("cookout_session="))
    assert "Secure" in session and "HttpOnly" in session


def test_an_unexpected_failure_becomes_a_friendly_500_page_without_details(app: Litestar) -> None:
    request: Request[None, None, None] = Request(
        scope={"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"", "litestar_app": app}
    )
    page = unexpected_error(request, RuntimeError("secret internals"))
    assert page.status_code == 500
    assert page.context["message"] == "We have logged the problem. Please try again in a moment."
    assert "secret internals" not in str(page.context)
