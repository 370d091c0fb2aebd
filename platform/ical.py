"""iCalendar text for meetups: the calendar part of invitations, updates and cancellations, and feeds.

Pure builders: they take calendar entries and return VCALENDAR text; the emails are platform/letters/.
Times go out in the venue's zone (DTSTART;TZID=… with its VTIMEZONE), so event details show local
time. An invitation carries a VALARM an hour ahead: the reminder is the member's own calendar's, and
the day-before reminder email carries no calendar part at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vCalAddress, vDuration, vText, vUri

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
    conference: str = ""  # an online meetup's join link (RFC 7986 CONFERENCE), for those going
    tentative: bool = False  # in a member's own feed: they said maybe
    # In a member's own feed, as their invitation says: their rsvp+ address for it, the organiser's name.
    organiser: str = ""
    organiser_name: str = ""


ALARM_AHEAD = timedelta(hours=1)
FEED_REFRESH = timedelta(hours=1)


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
    sent_by: str = "",
) -> str:
    """A VCALENDAR with one VEVENT per entry and a VTIMEZONE per zone, CRLF line endings, folded and
    escaped."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if method == "PUBLISH":
        calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    if name:
        # TEXT values both: commas and semicolons escaped (X-WR-CALNAME is no known type to the library).
        calendar.add("name", vText(name))
        calendar.add("x-wr-calname", vText(name))
    for entry in entries:
        calendar.add_component(
            _vevent(entry, method, organiser, organiser_name, attendee, now, sent_by)
        )
    # The library's one fixed span for every message: clients that keep a zone by its TZID (vobject
    # does) then never hold a definition cut to another message's years.
    calendar.add_missing_timezones()
    return calendar.to_ical().decode("utf-8")


def _vevent(
    entry: Entry,
    method: str,
    organiser: str,
    organiser_name: str,
    attendee: Attendee | None,
    now: datetime,
    sent_by: str = "",
) -> Event:
    vevent = Event()
    zone = ZoneInfo(entry.timezone)
    vevent.add("uid", entry.uid)
    vevent.add("sequence", entry.sequence)
    vevent.add("dtstamp", now)
    vevent.add("dtstart", entry.starts_at.astimezone(zone))
    vevent.add("dtend", entry.ends_at.astimezone(zone))
    vevent.add("summary", entry.title)
    if entry.description:
        vevent.add("description", entry.description)
    if entry.location:
        vevent.add("location", entry.location)
    if entry.url:
        vevent.add("url", entry.url)
    if entry.conference:
        # RFC 7986: clients show a Join button for it.
        conference = vUri(entry.conference)
        conference.params.update({"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Join"})
        vevent.add("conference", conference)
    # STATUS is the event's own state: a CANCEL that only takes one attendee out of it
    # (RFC 5546 §3.2.5, "uninvite") says nothing about the meetup, which is still on.
    if entry.cancelled:
        vevent.add("status", "CANCELLED")
    elif entry.tentative:
        vevent.add("status", "TENTATIVE")
    elif method != "CANCEL":
        vevent.add("status", "CONFIRMED")
    organizer = vCalAddress(f"mailto:{entry.organiser or organiser}")
    if entry.organiser_name or organiser_name:
        organizer.params["CN"] = plain_name(entry.organiser_name or organiser_name)
    if sent_by:
        organizer.params["SENT-BY"] = f"mailto:{sent_by}"
    vevent.add("organizer", organizer)
    if attendee is not None:
        address = vCalAddress(f"mailto:{attendee.email}")
        if attendee.name:
            address.params["CN"] = plain_name(attendee.name)
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = attendee.partstat
        address.params["RSVP"] = "TRUE"
        vevent.add("attendee", address)
    if method == "REQUEST" and not entry.cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", entry.title)
        alarm.add("trigger", -ALARM_AHEAD)
        vevent.add_component(alarm)
    return vevent


def plain_name(name: str) -> str:
    """A CN without double quotes: written with them, clients show RFC 6868's ^' raw."""
    return " ".join(name.replace('"', "").split())


def feed(entries: list[Entry], *, organiser: str, now: datetime, name: str = "", sent_by: str = "") -> str:
    """A subscribable calendar of several meetups (METHOD:PUBLISH), polled hourly (RFC 7986
    REFRESH-INTERVAL, and X-PUBLISHED-TTL for the clients that read only that)."""
    return calendar_text("PUBLISH", entries, organiser=organiser, now=now, name=name, sent_by=sent_by)


# One function per iTIP method (RFC 5546) a letter carries


def request(entry: Entry, *, attendee: Attendee, organiser: str, now: datetime, organiser_name: str = "",
            sent_by: str = "") -> str:
    """Put the entry, as it is now, in the attendee's calendar (invitations and updates)."""
    return calendar_text("REQUEST", [entry], organiser=organiser, now=now, attendee=attendee,
                         organiser_name=organiser_name, sent_by=sent_by)


def cancel(entry: Entry, *, attendee: Attendee, organiser: str, now: datetime, organiser_name: str = "",
           sent_by: str = "") -> str:
    """Take the entry out of the attendee's calendar: STATUS:CANCELLED when the meetup or session is off;
    no STATUS when only this attendee is no longer in it."""
    return calendar_text("CANCEL", [entry], organiser=organiser, now=now, attendee=attendee,
                         organiser_name=organiser_name, sent_by=sent_by)
