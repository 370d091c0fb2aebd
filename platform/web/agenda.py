"""A conference's agenda: adding, editing and removing sessions, and members choosing theirs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Response, Template

from cookout.domain.errors import DomainError
from cookout.domain.schedule import format_local
from cookout.platform.container import Container
from cookout.platform.web.base import page, require_member, run_command, see_other, signed_in_id
from cookout.projections.meetups import Meetups
from cookout.platform.web.calendars import ics_response, session_entry, viewer_sees_link
from cookout.platform.web.forms import form_command
from cookout.platform.web.meetup_common import (
    Form, HELPERS, MEETUPS, PAGE_ERRORS, meetup_context, meetup_id_of, organised_meetup, partial_or_page,
    readable_meetup,
)


SESSION_FIELDS = ("title", "starts_at", "ends_at", "room", "speaker")


@get("/m/{meetup_id:uuid}/sessions/new", sync_to_thread=True)
def new_session(request: HTMXRequest, container: NamedDependency[Container],
                meetup_id: FromPath[UUID]) -> Template:
    meetup = organised_meetup(request, container, meetup_id)
    start = format_local(meetup["starts_at"], meetup["timezone"])
    return page("meetups/session_new.html", meetup=meetup, form={"starts_at": start, "ends_at": start},
                errors={}, **HELPERS)


@post("/m/{meetup_id:uuid}/sessions", sync_to_thread=True)
def add_session(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
                data: Form) -> Template | Redirect:
    meetup = organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    form = {name: data.get(name, "") for name in SESSION_FIELDS}
    form_command(request, meetings.add_session, meetup_id, **form, projections=MEETUPS,
                 template="meetups/session_new.html", context={"meetup": meetup, "form": form, **HELPERS},
                 raises=PAGE_ERRORS)
    return see_other(f"/m/{meetup_id}#agenda", request, "The session is on the agenda.")


@get("/m/{meetup_id:uuid}/sessions/{ref:str}", sync_to_thread=True)
def show_session(request: HTMXRequest, container: NamedDependency[Container],
                 meetup_id: FromPath[UUID], ref: FromPath[str]) -> Template | Response[bytes]:
    """A session's page (the URL its calendar entry carries), or with .ics its calendar file."""
    meetup, role = readable_meetup(request, container, meetup_id)
    view = container.view(Meetups)
    session_id = meetup_id_of(ref, ".ics" if ref.endswith(".ics") else "")
    session = next((s for s in view.sessions(meetup_id, signed_in_id(request)) if s["id"] == session_id), None)
    if session is None:
        raise NotFoundException("No such session.")
    if ref.endswith(".ics"):
        entry = session_entry(container, meetup, session, viewer_sees_link(request, container, meetup, role))
        return ics_response(container, [entry], f"session-{session['id']}.ics")
    context = meetup_context(request, container, meetup, role)
    return page(
        "meetups/session.html",
        **context,
        session=session,
        # Who chose it is for the tribe's members, as who's coming is.
        choosers=view.session_attendees(session_id) if role else [],
        **HELPERS,
    )


def organised_session(request: HTMXRequest, container: Container, meetup_id: UUID,
                      session_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    meetup = organised_meetup(request, container, meetup_id)
    session = container.view(Meetups).session(session_id)
    if session is None or session["meetup_id"] != meetup_id:
        raise NotFoundException("No such session.")
    return meetup, session


@get("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/edit", sync_to_thread=True)
def edit_session_form(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
                      session_id: FromPath[UUID]) -> Template:
    meetup, session = organised_session(request, container, meetup_id, session_id)
    form = {
        **{name: session[name] for name in ("title", "room", "speaker")},
        "starts_at": format_local(session["starts_at"], meetup["timezone"]),
        "ends_at": format_local(session["ends_at"], meetup["timezone"]),
    }
    return page("meetups/session_edit.html", meetup=meetup, session=session, form=form, errors={}, **HELPERS)


@post("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/edit", sync_to_thread=True)
def edit_session(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
                 session_id: FromPath[UUID], data: Form) -> Template | Redirect:
    meetup, session = organised_session(request, container, meetup_id, session_id)
    meetings = container.meetings
    form = {name: data.get(name, "") for name in SESSION_FIELDS}
    form_command(request, meetings.edit_session, meetup_id, session_id, **form, projections=MEETUPS,
                 template="meetups/session_edit.html",
                 context={"meetup": meetup, "session": session, "form": form, **HELPERS}, raises=PAGE_ERRORS)
    return see_other(f"/m/{meetup_id}#agenda", request,
                     "Saved. Those attending the session hear about a new time or room.")


@post("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/remove", sync_to_thread=True)
def remove_session(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
                   session_id: FromPath[UUID]) -> Redirect:
    organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    run_command(request, meetings.remove_session, meetup_id, session_id, projections=MEETUPS)
    return see_other(f"/m/{meetup_id}#agenda", request, "The session is off the agenda; those who chose it are told.")


@post("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/choose", sync_to_thread=True)
def choose_session(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
                   session_id: FromPath[UUID]) -> Template | Redirect:
    return session_choice(request, container, meetup_id, session_id, chosen=True)


@post("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/drop", sync_to_thread=True)
def drop_session(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
                 session_id: FromPath[UUID]) -> Template | Redirect:
    return session_choice(request, container, meetup_id, session_id, chosen=False)


def session_choice(request: HTMXRequest, container: Container, meetup_id: UUID, session_id: UUID,
                   chosen: bool) -> Template | Redirect:
    require_member(request)
    readable_meetup(request, container, meetup_id)
    meetings = container.meetings
    command = meetings.choose_session if chosen else meetings.drop_session
    error = None
    try:
        run_command(request, command, meetup_id, session_id, projections=MEETUPS)
    except DomainError as failure:
        error = failure
    session = next((s for s in container.view(Meetups).sessions(meetup_id, signed_in_id(request))
                    if s["id"] == session_id), None)
    if session is None:
        raise NotFoundException("No such session.")
    return partial_or_page(request, container, meetup_id, "meetups/_session.html", error, session=session)


ROUTES = [
    new_session, add_session, show_session, edit_session_form, edit_session, remove_session, choose_session, drop_session,
]
