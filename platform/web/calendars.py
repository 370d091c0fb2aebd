"""Calendars: one meetup's or session's .ics, a public tribe's feed, and a member's private feed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Response

from cookout.domain.meetups import MAYBE
from cookout.platform.container import Container
from cookout.platform.links import rsvp_address
from cookout.platform.web.base import signed_in_id
from cookout.platform.web.privacy import sees_online_link
from cookout.projections.meetups import Meetups
from cookout.projections.invitations import Invitations
from cookout.projections.members import MemberDirectory
from cookout.platform import ical
from cookout.platform.letters.invitations import ORGANISER_NAME, organiser_address
from cookout.platform.web.meetup_common import readable_meetup, where


def meetup_entry(container: Container, meetup: dict[str, Any], with_link: bool) -> ical.Entry:
    return ical.Entry(
        uid=meetup["uid"],
        sequence=meetup["sequence"],
        title=meetup["title"],
        description=meetup["description"],
        starts_at=meetup["starts_at"],
        ends_at=meetup["ends_at"],
        timezone=meetup["timezone"],
        location=where(meetup, with_link),
        url=f"{container.settings.base_url}/m/{meetup['id']}",
        cancelled=meetup["cancelled"],
    )


def session_entry(container: Container, meetup: dict[str, Any], session: dict[str, Any],
                  with_link: bool) -> ical.Entry:
    about = f"{session['speaker']}\n\n" if session["speaker"] else ""
    return ical.Entry(
        uid=session["uid"],
        sequence=session["sequence"],
        title=f"{session['title']} ({meetup['title']})",
        description=f"{about}{meetup['title']}",
        starts_at=session["starts_at"],
        ends_at=session["ends_at"],
        timezone=meetup["timezone"],
        location=", ".join(part for part in (session["room"], where(meetup, with_link)) if part),
        url=f"{container.settings.base_url}/m/{meetup['id']}/sessions/{session['id']}",
        cancelled=meetup["cancelled"],
    )


def ics_response(container: Container, entries: list[ical.Entry], filename: str,
                 name: str = "", private: bool = False) -> Response[bytes]:
    """`private`: a member's own feed, which no shared cache may keep."""
    mailbox = organiser_address(container.settings)
    text = ical.feed(entries, organiser=mailbox, now=container.clock(), name=name,
                     sent_by=mailbox if private else "")
    return Response(
        text.encode("utf-8"),
        media_type="text/calendar",  # Litestar adds the charset, once
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "private, no-cache" if private else "no-cache"},
    )


def viewer_sees_link(request: HTMXRequest, container: Container, meetup: dict[str, Any],
                     role: str | None) -> bool:
    mine = container.view(Meetups).state_of(meetup["id"], signed_in_id(request))
    return sees_online_link(role, mine["state"] if mine else None)


def meetup_calendar(request: HTMXRequest, container: Container, meetup_id: UUID) -> Response[bytes]:
    meetup, role = readable_meetup(request, container, meetup_id)
    entry = meetup_entry(container, meetup, viewer_sees_link(request, container, meetup, role))
    return ics_response(container, [entry], f"meetup-{meetup_id}.ics")


# A feed is polled by calendar apps, never posts a form: no CSRF cookie, so nothing per-visitor to cache.
FEED = {"exclude_from_csrf": True}


@get("/t/{slug:str}/calendar.ics", sync_to_thread=True, opt=FEED)
def tribe_calendar(request: HTMXRequest, container: NamedDependency[Container],
                   slug: FromPath[str]) -> Response[bytes]:
    view = container.view(Meetups)
    tribe = view.tribe_by_slug(slug)
    if tribe is None or tribe["visibility"] != "public":
        raise NotFoundException("No such calendar.")
    meetups = view.tribe_feed(tribe["id"], container.clock())
    # Anyone may subscribe to a public tribe's feed: it never carries an online link.
    entries = [meetup_entry(container, meetup, with_link=False) for meetup in meetups]
    return ics_response(container, entries, f"{tribe['slug']}.ics", name=f"{tribe['name']} meetups")


@get("/feeds/{ref:str}", sync_to_thread=True, opt=FEED)
def member_calendar(request: HTMXRequest, container: NamedDependency[Container],
                    ref: FromPath[str]) -> Response[bytes]:
    member = container.view(MemberDirectory).by_calendar_token(ref.removesuffix(".ics"))
    if member is None or not ref.endswith(".ics"):
        raise NotFoundException("No such calendar.")
    view = container.view(Meetups)
    meetups, sessions = view.member_feed(member["id"], container.clock())
    by_id = {meetup["id"]: meetup for meetup in meetups}
    links = {meetup["id"]: sees_online_link(view.role_of(meetup["tribe_id"], member["id"]), meetup["my_state"])
             for meetup in meetups}
    entries = [(meetup, meetup_entry(container, meetup, links[meetup["id"]])) for meetup in meetups]
    entries += [(by_id[s["meetup_id"]], session_entry(container, by_id[s["meetup_id"]], s, links[s["meetup_id"]]))
                for s in sessions if s["meetup_id"] in by_id]
    invitations = container.view(Invitations)
    sent = invitations.sequences_sent(member["id"])
    names = {meetup["id"]: invitations.organiser_name(meetup["id"]) or ORGANISER_NAME for meetup in meetups}
    # The same event as the member's invitation: same UID, SEQUENCE and ORGANIZER, so a client holding
    # both merges them into one.
    as_invited = [
        replace(entry, sequence=max(entry.sequence, sent.get(entry.uid, 0)), tentative=meetup["my_state"] == MAYBE,
                organiser=rsvp_address(container.settings, entry.uid, str(member["id"])),
                organiser_name=names[meetup["id"]])
        for meetup, entry in entries
    ]
    return ics_response(container, as_invited, "cookout.ics", name=f"Cookout: {member['display_name']}",
                        private=True)


ROUTES = [
    tribe_calendar, member_calendar,
]
