"""Reading a meetup as a visitor may see it, and what the meetup pages and their htmx parts share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from cookout.domain.errors import DomainError, Forbidden, NotFound
from cookout.domain.meetings import ORGANISER
from cookout.domain.meetups import CHECK_IN_CLOSES, CHECK_IN_OPENS, GOING, MAYBE, WAITLISTED
from cookout.domain.schedule import to_local
from cookout.platform.container import Container
from cookout.projections.markdown import render
from cookout.platform.web.base import page, require_member, see_other, signed_in_id
from cookout.platform.web.privacy import place_of, sees_online_link
from cookout.projections.meetups import Meetups
from cookout.platform import ical




Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


MEETUPS = (Meetups,)


def readable_tribe(request: HTMXRequest, container: Container,
                   slug: str) -> tuple[dict[str, Any], str | None]:
    """The tribe and the visitor's role in it; outsiders of a members-only tribe get a 404."""
    view = container.view(Meetups)
    tribe = view.tribe_by_slug(slug)
    role = view.role_of(tribe["id"], signed_in_id(request)) if tribe else None
    if tribe is None or (tribe["visibility"] != "public" and role is None):
        raise NotFoundException("No such tribe.")
    return tribe, role


def readable_meetup(request: HTMXRequest, container: Container,
                    meetup_id: UUID) -> tuple[dict[str, Any], str | None]:
    meetup = container.view(Meetups).meetup(meetup_id, signed_in_id(request))
    role = meetup["viewer_role"] if meetup else None
    if meetup is None or (meetup["tribe_visibility"] != "public" and role is None):
        raise NotFoundException("No such meetup.")
    return meetup, role


def organised_meetup(request: HTMXRequest, container: Container, meetup_id: UUID) -> dict[str, Any]:
    require_member(request)
    meetup, role = readable_meetup(request, container, meetup_id)
    if role != ORGANISER:
        raise Forbidden("Only the tribe's organisers can do this.")
    return meetup


def meetup_id_of(ref: str, suffix: str = "") -> UUID:
    text = ref.removesuffix(suffix) if suffix else ref
    try:
        return UUID(text)
    except ValueError:
        raise NotFoundException("No such meetup.") from None


def local(instant: datetime, timezone: str, pattern: str = "%a %-d %b %Y, %H:%M") -> str:
    return to_local(instant, timezone).strftime(pattern)


def where(meetup: dict[str, Any], with_link: bool = False) -> str:
    """Venue, address and whether it is online; the online link itself only `with_link`."""
    return ical.location_of(place_of(meetup, with_link))


# When a meetup happens is `meetup_time(meetup)`, a template callable: it needs the viewer's zone.
HELPERS = {"local": local, "where": where, "markdown": render}


# Refusals that are about the visitor or the meetup, not the form: they get the 403 or 404 page.
PAGE_ERRORS: tuple[type[DomainError], ...] = (Forbidden, NotFound)


def meetup_context(request: HTMXRequest, container: Container, meetup: dict[str, Any],
                   role: str | None) -> dict[str, Any]:
    """What the page and its htmx parts share: the visitor, their answer, who's coming, check-in."""
    view, me = container.view(Meetups), signed_in_id(request)
    now = container.clock()
    attendance = view.coming(meetup["id"], me)
    mine = next((a for a in attendance if a["member_id"] == me), None) if me else None
    return {
        "meetup": meetup,
        "role": role,
        "me": me,
        "mine": mine,
        "organiser": role == ORGANISER,
        "sees_online_link": sees_online_link(role, mine["state"] if mine else None),
        "going": [a for a in attendance if a["state"] == GOING],
        "waitlisted": [a for a in attendance if a["state"] == WAITLISTED],
        "maybe": [a for a in attendance if a["state"] == MAYBE],
        "attendance": attendance,
        "over": now >= meetup["ends_at"],
        "answers_closed": meetup["rsvp_deadline"] is not None and now > meetup["rsvp_deadline"],
        "can_choose": bool(mine) and mine["state"] in (GOING, MAYBE, WAITLISTED) and not meetup["cancelled"],
        "check_in_open": check_in_open(meetup, now),
        "checked_in": any(a["member_id"] == me and a["checked_in"] for a in attendance),
    }


def check_in_open(meetup: dict[str, Any], now: datetime) -> bool:
    return (not meetup["cancelled"]
            and meetup["starts_at"] - CHECK_IN_OPENS <= now <= meetup["ends_at"] + CHECK_IN_CLOSES)


def partial_or_page(request: HTMXRequest, container: Container, meetup_id: UUID, partial: str,
                    error: DomainError | None = None, **extra: Any) -> Template | Redirect:
    """htmx gets the part of the page that changed; a plain form post goes back to the page."""
    if error is not None and not request.htmx:
        raise error
    if request.htmx:
        meetup, role = readable_meetup(request, container, meetup_id)
        context = meetup_context(request, container, meetup, role)
        return page(partial, **context, error=error.message if error else "", **extra, **HELPERS)
    return see_other(f"/m/{meetup_id}")
