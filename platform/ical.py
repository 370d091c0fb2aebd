"""iCalendar text and iMIP emails for meetups: invitations, updates, cancellations, feeds.

Pure builders: they take what to say and return text or an `EmailMessage`; sending is elsewhere.
Times go out in UTC, which every client reads the same way; people see local times in the body.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from icalendar import Calendar, Event, vCalAddress

from cookout.domain.meetups import PARTSTAT, Meetup, Place, Session
from cookout.domain.schedule import to_local

PRODID = "-//Cookout//Cookout 0.1//EN"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


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


def partstat_of(state: str | None) -> str:
    return PARTSTAT.get(state or "", "NEEDS-ACTION")


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


# Emails


def invitation(
    entry: Entry,
    *,
    attendee: Attendee,
    organiser: str,
    sender: str,
    message_id: str,
    now: datetime,
    organiser_name: str = "",
    intro: str = "",
    footer: tuple[str, ...] = (),
) -> EmailMessage:
    going = attendee.partstat == "ACCEPTED"
    intro = intro or ("You're going to this meetup." if going else "You're invited to this meetup.")
    return _email(
        "REQUEST", entry, "Invitation", [intro], attendee, organiser, organiser_name,
        sender, message_id, now, footer,
    )


def update(
    entry: Entry,
    *,
    before: Entry,
    attendee: Attendee,
    organiser: str,
    sender: str,
    message_id: str,
    now: datetime,
    organiser_name: str = "",
    footer: tuple[str, ...] = (),
) -> EmailMessage:
    """The entry changed; the body says what it was and what it is now."""
    lines = ["This meetup changed."]
    if (before.starts_at, before.ends_at) != (entry.starts_at, entry.ends_at):
        lines.append(f"It was: {when(before)}. It is now: {when(entry)}.")
    if before.location != entry.location:
        lines.append(f"It was at: {one_line(before.location)}. Now at: {one_line(entry.location)}.")
    if before.title != entry.title:
        lines.append(f"It was called: {one_line(before.title)}.")
    return _email(
        "REQUEST", entry, "Updated", lines, attendee, organiser, organiser_name,
        sender, message_id, now, footer,
    )


def cancellation(
    entry: Entry,
    *,
    attendee: Attendee,
    organiser: str,
    sender: str,
    message_id: str,
    now: datetime,
    message: str = "",
    organiser_name: str = "",
) -> EmailMessage:
    """The whole meetup is off (pass the entry at the cancelling sequence)."""
    lines = ["This meetup is cancelled."] + ([f"The organisers say: {message}"] if message else [])
    return _email(
        "CANCEL", entry, "Cancelled", lines, attendee, organiser, organiser_name,
        sender, message_id, now,
    )


def removal(
    entry: Entry,
    *,
    attendee: Attendee,
    organiser: str,
    sender: str,
    message_id: str,
    now: datetime,
    organiser_name: str = "",
    waitlist_position: int | None = None,
) -> EmailMessage:
    """Take the meetup out of one member's calendar: they are no longer coming, or wait for a seat."""
    word, lines = "Not going", ["You're no longer down for this meetup, so it leaves your calendar."]
    if waitlist_position:
        word, lines = "Waitlisted", [
            f"The meetup is full, so you're on the waitlist: number {waitlist_position}.",
            "If a seat opens up, it's yours and we'll send you a new invitation. Until then the meetup "
            "leaves your calendar.",
        ]
    return _email(
        "CANCEL", entry, word, lines, attendee, organiser, organiser_name,
        sender, message_id, now,
    )


def reminder(
    entry: Entry,
    *,
    attendee: Attendee,
    organiser: str,
    sender: str,
    message_id: str,
    now: datetime,
    organiser_name: str = "",
    footer: tuple[str, ...] = (),
) -> EmailMessage:
    """A nudge before the start; the calendar part repeats the current entry unchanged."""
    return _email(
        "REQUEST", entry, "Reminder", ["This meetup is coming up."], attendee, organiser,
        organiser_name, sender, message_id, now, footer,
    )


def when(entry: Entry) -> str:
    start = to_local(entry.starts_at, entry.timezone)
    end = to_local(entry.ends_at, entry.timezone)
    end_text = end.strftime("%H:%M" if end.date() == start.date() else "%a %d %b %Y %H:%M")
    return f"{start.strftime('%a %d %b %Y %H:%M')}–{end_text} ({entry.timezone})"


def one_line(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def subject_line(word: str, entry: Entry) -> str:
    title = one_line(entry.title)
    start = to_local(entry.starts_at, entry.timezone)
    return f"{word}: {title} ({start.strftime('%a %d %b %Y %H:%M')})"


def _email(
    method: str,
    entry: Entry,
    word: str,
    lines: list[str],
    attendee: Attendee,
    organiser: str,
    organiser_name: str,
    sender: str,
    message_id: str,
    now: datetime,
    footer: tuple[str, ...] = (),
) -> EmailMessage:
    """`footer` lines follow the facts: links for the reader, never in the calendar part."""
    ics = calendar_text(
        method, [entry], organiser=organiser, now=now, attendee=attendee,
        organiser_name=organiser_name,
    )
    facts = [f"What: {one_line(entry.title)}", f"When: {when(entry)}"]
    if entry.location:
        facts.append(f"Where: {one_line(entry.location)}")
    if entry.url:
        facts.append(f"Details: {entry.url}")

    message = EmailMessage()
    message["Subject"] = subject_line(word, entry)
    message["From"] = sender
    message["To"] = attendee.email
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message.set_content("\n\n".join([*lines, "\n".join(facts), *footer]) + "\n")
    message.add_alternative(_html(lines, facts, footer), subtype="html")
    message.add_alternative(
        ics.encode("utf-8"),
        maintype="text",
        subtype="calendar",
        cte="base64",
        params={"method": method, "charset": "UTF-8"},
    )
    return message


def _html(lines: list[str], facts: list[str], footer: tuple[str, ...] = ()) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    items = "".join(f"<li>{html.escape(fact)}</li>" for fact in facts)
    after = "".join(f"<p>{_linked(line)}</p>" for line in footer)
    return f"<!doctype html><html><body>{paragraphs}<ul>{items}</ul>{after}</body></html>\n"


def _linked(line: str) -> str:
    """Escape a line and make its http(s) URL, if any, a link."""
    escaped = html.escape(line)
    return re.sub(r"(https?://\S+)", r'<a href="\1">\1</a>', escaped)
