"""One place where failures become pages: domain errors and HTTP errors to a status and a human message."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import psycopg
from eventsourcing import persistence
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from cookout.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotAllowedNow, NotFound
from cookout.platform.web.forms import FormRefused, form_refused

log = logging.getLogger(__name__)

DOMAIN_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    Conflict: 409,
    NotFound: 404,
    Forbidden: 403,
    NotAllowedNow: 409,
}

TITLES = {
    400: "That request did not make sense",
    401: "Please sign in",
    403: "You can't do that here",
    404: "Nothing here",
    405: "Not like that",
    409: "That clashes with what is already there",
    413: "That was too much to send",
    422: "Something in that needs fixing",
    429: "Slow down a little",
    500: "Something broke on our side",
    503: "Back in a moment",
}

FRIENDLY = {
    400: "Part of that address is not something Cookout understands. Check the link, or go back and try again.",
    403: "You don't have permission for that. If you were filling in a form, reload the page and try again.",
    404: "We looked, but there is no such page.",
    413: "What you sent is larger than Cookout accepts. Shorten it and try again.",
    429: "You've done that a lot in a short time. Wait a minute and try again.",
    500: "We have logged the problem. Please try again in a moment.",
    503: "Cookout can't reach its database right now (it is probably restarting). Nothing you sent was "
         "saved: try again in a moment.",
}
DATABASE_RETRY_AFTER = 10  # seconds: a Postgres restart is usually over by then


def error_page(request: Request[Any, Any, Any], status: int, detail: str | None = None) -> Template:
    return Template(
        template_name="error.html",
        context={"status": status, "title": TITLES.get(status, "Something went wrong"), "message": human_message(status, detail)},
        status_code=status,
    )


def human_message(status: int, detail: str | None) -> str:
    """Our own words unless the detail was written for people (a domain error, a handler's 404)."""
    generic = (not detail or detail == HTTPStatus(status).phrase or "csrf" in detail.lower()
               or detail.startswith("Validation failed for "))  # Litestar's words for a bad parameter
    if status in (500, 503) or (generic and status in FRIENDLY):
        return FRIENDLY[status]
    return detail or ""


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if error.status_code == 401 and request.method == "GET":
        return Redirect(path=f"/login?next={quote(request.url.path)}", status_code=HTTP_303_SEE_OTHER)
    return error_page(request, error.status_code, error.detail)


def domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    status = next((code for kind, code in DOMAIN_STATUS.items() if isinstance(error, kind)), 400)
    return error_page(request, status, error.message)


def route_of(request: Request[Any, Any, Any]) -> str:
    """The route's template, not the path: signed links carry their secret in the path, and logs are read widely."""
    return request.scope.get("path_template") or "(unrouted)"  # type: ignore[return-value]


def unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, route_of(request), exc_info=error)
    return error_page(request, 500)


def database_away(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """The database is restarting or unreachable: say so, and when to come back, rather than a 500. A
    command fails before its events are saved, so nothing half-done is kept."""
    log.warning("database unreachable on %s %s: %s", request.method, route_of(request), error)
    page = error_page(request, 503)
    page.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return page


# The errors that mean Postgres is not there (psycopg's, and the event store's wrappers of them).
DATABASE_AWAY = (psycopg.OperationalError, psycopg.InterfaceError, persistence.OperationalError,
                 persistence.InterfaceError)

EXCEPTION_HANDLERS: dict[Any, Any] = {
    **dict.fromkeys(DATABASE_AWAY, database_away),
    HTTPException: http_error,
    DomainError: domain_error,
    FormRefused: form_refused,
    Exception: unexpected_error,
}
