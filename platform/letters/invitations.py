"""Meetup invitations, updates, cancellations and reminders: letters from the outbox become iMIP
emails. The payload says everything; the builder adds the send time and the "can't make it" link,
bound to the meetup version the letter was made for."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from cookout.domain.meetups import Place
from cookout.platform.links import cant_make_it_url
from cookout.platform.settings import Settings
from cookout.projections.invitations import (
    CANCELLATION,
    INVITATION,
    PROMOTION,
    REMINDER,
    REMOVAL,
    UPDATE,
)
from cookout.platform import ical

ENVELOPE = ("From", "To", "Date", "Message-ID")  # set by the mail worker from the outbox row


def organiser_address(settings: Settings) -> str:
    """The bare address ORGANIZER names: the mailbox our mail comes from."""
    return parseaddr(settings.mail_from)[1] or "cookout@localhost"


def entry_of(data: dict[str, Any], base_url: str) -> ical.Entry:
    place = Place(data["venue"], data["address"], data["online_url"])
    session = data.get("session")
    title, description, location = data["title"], data["description"], ical.location_of(place)
    if session:
        location = ", ".join(part for part in (session["room"], location) if part)
        about = f"{session['speaker']}\n\n" if session["speaker"] else ""
        description = f"{about}{data['title']}"
        title = f"{session['title']} ({data['title']})"
    return ical.Entry(
        uid=data["uid"],
        sequence=data["sequence"],
        title=title,
        description=description,
        starts_at=datetime.fromisoformat(data["starts_at"]),
        ends_at=datetime.fromisoformat(data["ends_at"]),
        timezone=data["timezone"],
        location=location,
        url=f"{base_url}{data['path']}",
        cancelled=data["cancelled"],
    )


def build(payload: dict[str, Any], settings: Settings, kind: str, now: datetime | None = None) -> EmailMessage:
    entry = entry_of(payload["entry"], settings.base_url)
    attendee = ical.Attendee(**payload["attendee"])
    common: dict[str, Any] = {
        "attendee": attendee,
        "organiser": organiser_address(settings),
        "organiser_name": "Cookout",
        "sender": settings.mail_from,
        "message_id": "<placeholder@cookout>",
        "now": now or datetime.now(UTC),
    }
    # Letters written before links were bound to a version carry none: theirs go stale at once.
    link = cant_make_it_url(settings, payload["meetup_id"], payload["member_id"], payload.get("since", 0))
    footer = (f"Can't make it? One click frees your seat for someone else: {link}",)
    if kind in (INVITATION, PROMOTION):
        intro = "A seat opened up: you're going to this meetup now." if kind == PROMOTION else ""
        message = ical.invitation(entry, intro=intro, footer=footer, **common)
    elif kind == UPDATE:
        before = entry_of(payload["before"], settings.base_url)
        message = ical.update(entry, before=before, footer=footer, **common)
    elif kind == CANCELLATION:
        message = ical.cancellation(entry, message=payload.get("message", ""), **common)
    elif kind == REMOVAL:
        message = ical.removal(entry, waitlist_position=payload.get("waitlist_position"), **common)
    else:
        message = ical.reminder(entry, footer=footer, **common)
    for header in ENVELOPE:
        del message[header]
    return message


BUILDERS = {
    kind: (lambda payload, settings, kind=kind: build(payload, settings, kind))
    for kind in (INVITATION, PROMOTION, UPDATE, CANCELLATION, REMOVAL, REMINDER)
}
