"""iCalendar text for meetups: the calendar part of invitations, updates and cancellations, and feeds.

Pure builders: they take calendar entries and return VCALENDAR text; the emails are platform/letters/.
Times go out in UTC, which every client reads the same way; people see local times in the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress

from cookout.domain.meetups import Meetup, Place, Session

PRODID = "-//Cookout//Cookout 0.1//EN"


@dataclass(frozen=True)
class Entry:
    """One calendar entry: a meetup or one of its sessions."""

    uid: str
    sequence: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    location: str
    url: str = ""
    cancelled: bool = False


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""
    partstat: str = "NEEDS-ACTION"


def location_of(place: Place) -> str:
    return ", ".join(part for part in (place.venue, place.address, place.online_url) if part)


def meetup_entry(meetup: Meetup, url: str = "") -> Entry:
    return Entry(
        uid=meetup.uid,
        sequence=meetup.sequence,
        title=meetup.title,
        description=meetup.description,
        starts_at=meetup.starts_at,
        ends_at=meetup.ends_at,
        timezone=meetup.timezone,
        location=location_of(meetup.place),
        url=url,
        cancelled=meetup.cancelled,
    )


def session_entry(meetup: Meetup, session: Session, url: str = "") -> Entry:
    where = ", ".join(part for part in (session.room, location_of(meetup.place)) if part)
    about = f"{session.speaker}\n\n" if session.speaker else ""
    return Entry(
        uid=session.uid,
        sequence=session.sequence,
        title=f"{session.title} ({meetup.title})",
        description=f"{about}{meetup.title}",
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=meetup.timezone,
        location=where,
        url=url,
        cancelled=meetup.cancelled,
    )


# Calendars


def calendar_text(
    method: str,
    entries: list[Entry],
    *,
    organiser: str,
    now: datetime,
    attendee: Attendee | None = None,
    organiser_name: str = "",
    name: str = "",
) -> str:
    """A VCALENDAR with one VEVENT per entry, CRLF line endings, folded and escaped."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    for entry in entries:
        calendar.add_component(
            _vevent(entry, method, organiser, organiser_name, attendee, now)
        )
    return calendar.to_ical().decode("utf-8")


def _vevent(
    entry: Entry,
    method: str,
    organiser: str,
    organiser_name: str,
    attendee: Attendee | None,
    now: datetime,
) -> Event:
    vevent = Event()
    vevent.add("uid", entry.uid)
    vevent.add("sequence", entry.sequence)
    vevent.add("dtstamp", now)
    vevent.add("dtstart", entry.starts_at)
    vevent.add("dtend", entry.ends_at)
    vevent.add("summary", entry.title)
    if entry.description:
        vevent.add("description", entry.description)
    if entry.location:
        vevent.add("location", entry.location)
    if entry.url:
        vevent.add("url", entry.url)
    cancelled = entry.cancelled or method == "CANCEL"
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organiser}")
    if organiser_name:
        organizer.params["CN"] = organiser_name
    vevent.add("organizer", organizer)
    if attendee is not None:
        address = vCalAddress(f"mailto:{attendee.email}")
        if attendee.name:
            address.params["CN"] = attendee.name
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = attendee.partstat
        address.params["RSVP"] = "TRUE"
        vevent.add("attendee", address)
    return vevent


def feed(entries: list[Entry], *, organiser: str, now: datetime, name: str = "") -> str:
    """A subscribable calendar of several meetups (METHOD:PUBLISH)."""
    return calendar_text("PUBLISH", entries, organiser=organiser, now=now, name=name)


# One function per iTIP method (RFC 5546) a letter carries


def request(entry: Entry, *, attendee: Attendee, organiser: str, now: datetime, organiser_name: str = "") -> str:
    """Put the entry, as it is now, in the attendee's calendar (invitations, updates, reminders)."""
    return calendar_text("REQUEST", [entry], organiser=organiser, now=now, attendee=attendee,
                         organiser_name=organiser_name)


def cancel(entry: Entry, *, attendee: Attendee, organiser: str, now: datetime, organiser_name: str = "") -> str:
    """Take the entry out of the attendee's calendar (the meetup is off, or they are no longer coming)."""
    return calendar_text("CANCEL", [entry], organiser=organiser, now=now, attendee=attendee,
                         organiser_name=organiser_name)
