"""What every handler shares: who is signed in, running one command, and answering with a page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from uuid import UUID

import anyio.to_thread
from litestar.exceptions import NotAuthorizedException
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from cookout.domain.base import current_actor, last_position
from cookout.platform.container import Container
from cookout.projections.base import CookoutProjection
from cookout.projections.members import MemberDirectory
from cookout.projections.registry import PROJECTIONS

T = TypeVar("T")

# The log position a command reached, for the page after it when the command did not wait itself.
SEEN_COOKIE = "cookout_seen"
SEEN_SECONDS = 60
SEEN_SCOPE_KEY = "cookout.seen_position"


def session_of(request: HTMXRequest) -> dict[str, Any]:
    session = request.scope.get("session")
    return session if isinstance(session, dict) else {}


def signed_in_id(request: HTMXRequest) -> UUID | None:
    member_id = session_of(request).get("member_id")
    return UUID(member_id) if member_id else None


def flashes(context: Mapping[str, Any]) -> list[dict[str, str]]:
    """For templates: the messages left for this page, once. Safe on pages without a session (a 404)."""
    return session_of(context["request"]).pop("_messages", [])


def viewer(context: Mapping[str, Any]) -> dict[str, Any] | None:
    """For templates: the signed-in member's id and handle, or None."""
    session = session_of(context["request"])
    return session if session.get("member_id") else None


VIEWER_KEY = "cookout.viewer"


def viewer_row(request: HTMXRequest) -> dict[str, Any] | None:
    """The signed-in member's session epoch, time zone and whether their email is confirmed (the
    directory's `viewer`), or None for a visitor. The session check reads it (kept in memory); after
    `catch_up` waited for a command it is read again from the directory, since the command may have
    changed it and this process may not have heard so yet."""
    if VIEWER_KEY not in request.scope:
        member_id = signed_in_id(request)
        container: Container = request.app.state.container
        request.scope[VIEWER_KEY] = container.viewers.read(member_id) if member_id else None  # type: ignore[literal-required]
    return request.scope[VIEWER_KEY]  # type: ignore[literal-required]


def viewer_zone(request: HTMXRequest) -> str | None:
    """The time zone the signed-in member chose in their settings; None for a visitor or a member who chose
    none (their browser's zone is used where JavaScript runs)."""
    row = viewer_row(request)
    return row["time_zone"] if row else None


def require_member(request: HTMXRequest) -> UUID:
    member_id = signed_in_id(request)
    if member_id is None:
        raise NotAuthorizedException("Sign in first.")
    return member_id


def run_command(request: HTMXRequest, command: Callable[..., T], *args: Any,
                projections: tuple[type[CookoutProjection], ...] | None = None, wait: bool = True,
                **kwargs: Any) -> T:
    """Run one command as the signed-in member, then wait (bounded) until the projections the next
    page reads have applied it, so that page shows what was just done. Runs in a worker thread.

    With `wait=False` the answer must be a redirect made by `see_other`: the position goes with it in a
    cookie, and the page it leads to waits instead (`catch_up`), while the browser follows it."""
    member_id = signed_in_id(request)
    actor_token = current_actor.set(str(member_id) if member_id else "guest")
    position_token = last_position.set(None)
    try:
        result = command(*args, **kwargs)
        position = last_position.get()
    finally:
        current_actor.reset(actor_token)
        last_position.reset(position_token)
    container: Container = request.app.state.container
    if not wait:
        request.scope[SEEN_SCOPE_KEY] = position  # type: ignore[literal-required]
        return result
    if projections is None:
        container.wait_for(position)
    else:
        container.wait_for(position, projections)
    if member_id and MemberDirectory in (projections or PROJECTIONS):
        # The command may have changed what every request reads of the member (a password change ends
        # their other sessions): this browser's next request reads it afresh, heard of or not.
        container.viewers.forget(member_id)
    return result


def page(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context=context, status_code=status_code)


def see_other(path: str, request: HTMXRequest | None = None, message: str | None = None,
              category: str = "success") -> Redirect:
    if request is not None and message:
        flash(request, message, category=category)
    redirect = Redirect(path=path, status_code=HTTP_303_SEE_OTHER)
    position = request.scope.get(SEEN_SCOPE_KEY) if request is not None else None
    if position:
        redirect.set_cookie(SEEN_COOKIE, str(position), max_age=SEEN_SECONDS, httponly=True, samesite="lax",
                            secure=request.app.state.settings.https)
    return redirect


async def catch_up(request: HTMXRequest) -> None:
    """Before any handler that reads the views: if this browser's last command did not wait for them,
    wait here (bounded) until they have it. A position already reached costs no query and no thread.
    Handlers that read no view before their command say so with `opt={"catch_up": False}`."""
    seen = request.cookies.get(SEEN_COOKIE, "")
    if not seen.isdigit() or not request.route_handler.opt.get("catch_up", True):
        return None
    request.scope.pop(VIEWER_KEY, None)  # type: ignore[misc]  # read with the session, maybe before the command
    container: Container = request.app.state.container  # a hook, not a handler: no dependencies here
    if not container.has_reached(int(seen)):
        await anyio.to_thread.run_sync(container.wait_for, int(seen))
    return None
