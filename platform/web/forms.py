"""Running a form's command: on a domain error the form comes back (422) with the message beside the
field it is about and the user's input kept, without each handler catching and re-rendering by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Response
from litestar.plugins.htmx import HTMXRequest

from cookout.domain.errors import DomainError
from cookout.platform.web.base import page, run_command

T = TypeVar("T")


class FormRefused(Exception):
    """Raised by `form_command` with the form to show again; answered by `form_refused` below. Being an
    exception's answer, it carries no route-level headers (`cache_control`): routes that set them re-render
    by hand."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__("form refused")
        self.response = response


def form_command(request: HTMXRequest, command: Callable[..., T], *args: Any, template: str | None = None,
                 context: dict[str, Any] | None = None, render: Callable[[dict[str, str]], Response[Any]] | None = None,
                 field: str | None = "form", raises: tuple[type[DomainError], ...] = (), **kwargs: Any) -> T:
    """`run_command`, but a domain error re-renders the form: `template` with `context` (which holds the
    user's input as `form`) and `errors`, or whatever `render(errors)` answers, with status 422.

    An error naming no field is shown under `field` ("form" by default); with `field=None` it goes on to
    the central error pages instead, as do the error types in `raises` (a 403 or 404 is not a form's)."""
    try:
        return run_command(request, command, *args, **kwargs)
    except DomainError as error:
        if isinstance(error, raises) or (error.field is None and field is None):
            raise
        errors = {error.field or field or "form": error.message}
        if render is not None:
            raise FormRefused(render(errors)) from error
        raise FormRefused(page(template or "", status_code=422, **(context or {}), errors=errors)) from error


def form_refused(_: Any, refused: FormRefused) -> Response[Any]:
    return refused.response
