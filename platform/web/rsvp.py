"""Answering a meetup: going, maybe or not, from its page or from the “can't make it” link in a letter."""

from __future__ import annotations

from uuid import UUID

from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from cookout.domain.base import current_actor, last_position
from cookout.domain.errors import DomainError, NotAllowedNow
from cookout.domain.meetups import GOING, HOLDS_ENTRY, WAITLISTED
from cookout.platform.container import Container
from cookout.platform.web.headers import NO_STORE
from cookout.platform.links import read_cant_make_it_token
from cookout.platform.web.base import page, require_member, run_command, see_other
from cookout.projections.meetups import Meetups, MeetupsView
from cookout.platform.web.meetup_common import Form, HELPERS, MEETUPS, partial_or_page, readable_meetup


@post("/m/{meetup_id:uuid}/rsvp", sync_to_thread=True)
def rsvp(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
         data: Form) -> Template | Redirect:
    require_member(request)
    readable_meetup(request, container, meetup_id)
    meetings = container.meetings
    try:
        run_command(request, meetings.answer, meetup_id, data.get("answer", ""),
                    projections=MEETUPS)
    except DomainError as error:
        return partial_or_page(request, container, meetup_id, "meetups/_rsvp.html", error)
    return partial_or_page(request, container, meetup_id, "meetups/_rsvp.html")


@get("/rsvp/{token:str}", sync_to_thread=True, cache_control=NO_STORE)
def cant_make_it_page(container: NamedDependency[Container], token: FromPath[str]) -> Template:
    link = read_cant_make_it_token(container.settings, token)
    view = container.view(Meetups)
    meetup = view.meetup(link.meetup_id)
    if meetup is None:
        raise NotFoundException("No such meetup.")
    if container.clock() >= meetup["ends_at"]:
        return page("meetups/cant_make_it.html", status_code=410, meetup=meetup, token=token, over=True, **HELPERS)
    state = view.state_of(link.meetup_id, link.member_id)
    coming = bool(state) and state["state"] in (*HOLDS_ENTRY, WAITLISTED)
    waiting = any(a["state"] == WAITLISTED for a in view.attendance(link.meetup_id))
    return page("meetups/cant_make_it.html", meetup=meetup, token=token, coming=coming,
                seat_goes_on=coming and state["state"] == GOING and waiting, **HELPERS)


@post("/rsvp/{token:str}", sync_to_thread=True)
def cant_make_it(request: HTMXRequest, container: NamedDependency[Container],
                 token: FromPath[str]) -> Template | Redirect:
    link = read_cant_make_it_token(container.settings, token)
    meetup = container.view(Meetups).meetup(link.meetup_id)
    if meetup is None:
        raise NotFoundException("No such meetup.")
    if container.clock() >= meetup["ends_at"]:
        return page("meetups/cant_make_it.html", status_code=410, meetup=meetup, token=token, over=True, **HELPERS)
    meetings = container.meetings
    thanks = cant_make_it_thanks(container.view(Meetups), link.meetup_id, link.member_id)
    actor, position = current_actor.set(str(link.member_id)), last_position.set(None)
    try:
        meetings.cant_make_it(link.meetup_id, link.since)
        written = last_position.get()
    except NotAllowedNow as refused:
        return page("meetups/cant_make_it.html", status_code=409, meetup=meetup, token=token,
                    refused=refused.message, **HELPERS)
    finally:
        current_actor.reset(actor)
        last_position.reset(position)
    container.wait_for(written, MEETUPS)
    return see_other(f"/rsvp/{token}", request, thanks)


def cant_make_it_thanks(view: MeetupsView, meetup_id: UUID, member_id: UUID) -> str:
    """What withdrawing did, in words: a seat goes to someone only when someone was waiting."""
    state = view.state_of(meetup_id, member_id) or {}
    waiting = any(a["state"] == WAITLISTED for a in view.attendance(meetup_id))
    if state.get("state") == WAITLISTED:
        return "Thanks for letting us know. You're off the waitlist."
    if state.get("state") == GOING and waiting:
        return "Thanks for letting us know. Your seat went to the next person on the waitlist."
    return "Thanks for letting us know. You're down as not going, and the meetup leaves your calendar."


ROUTES = [
    rsvp, cant_make_it_page, cant_make_it,
]
