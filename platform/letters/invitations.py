"""Meetup invitations, updates, cancellations, removals and reminders: iMIP emails, one kind of
letter each. The payload says everything; the context adds the "can't make it" link, bound to the
meetup version the letter was made for, and the calendar part is stamped when the letter is sent."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from cookout.domain.meetups import Place
from cookout.domain.schedule import to_local
from cookout.platform import ical
from cookout.platform.letters.kind import CalendarPart, Context, LetterKind
from cookout.platform.links import cant_make_it_url, rsvp_address
from cookout.platform.settings import Settings
from cookout.projections.invitations import (
    CANCELLATION,
    INVITATION,
    PROMOTION,
    REMINDER,
    REMOVAL,
    UPDATE,
)

ORGANISER_NAME = "Cookout"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

Lines = Callable[[dict[str, Any], ical.Entry, Settings], list[str]]


def organiser_address(settings: Settings, uid: str | None = None, member_id: str | None = None) -> str:
    """The bare address ORGANIZER names. In a letter: this recipient's own rsvp+… address for this entry,
    where their calendar's answer comes back (cookout.platform.inbound); in a feed, our mailbox."""
    if uid and member_id:
        return rsvp_address(settings, uid, member_id)
    return parseaddr(settings.mail_from)[1] or "cookout@localhost"


def entry_of(data: dict[str, Any], base_url: str, with_link: bool = True) -> ical.Entry:
    """The entry a letter carries; `with_link` off, an online meetup's place says "Online", not its link."""
    online = data["online_url"] if with_link else ("Online" if data["online_url"] else "")
    place = Place(data["venue"], data["address"], online)
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
        conference=data["online_url"] if with_link else "",
    )


def when(entry: ical.Entry) -> str:
    start = to_local(entry.starts_at, entry.timezone)
    end = to_local(entry.ends_at, entry.timezone)
    end_text = end.strftime("%H:%M" if end.date() == start.date() else "%a %d %b %Y %H:%M")
    return f"{start.strftime('%a %d %b %Y %H:%M')}–{end_text} ({entry.timezone})"


def one_line(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def facts(entry: ical.Entry) -> list[str]:
    found = [f"What: {one_line(entry.title)}", f"When: {when(entry)}"]
    if entry.location:
        found.append(f"Where: {one_line(entry.location)}")
    if entry.url:
        found.append(f"Details: {entry.url}")
    return found


def subject_line(word: str, entry: ical.Entry) -> str:
    start = to_local(entry.starts_at, entry.timezone)
    return f"{word}: {one_line(entry.title)} ({start.strftime('%a %d %b %Y %H:%M')})"


def invited(payload: dict[str, Any], entry: ical.Entry, settings: Settings) -> list[str]:
    going = payload["attendee"]["partstat"] == "ACCEPTED"
    return ["You're going to this meetup." if going else "You're invited to this meetup."]


def promoted(payload: dict[str, Any], entry: ical.Entry, settings: Settings) -> list[str]:
    return ["A seat opened up: you're going to this meetup now."]


def changed(payload: dict[str, Any], entry: ical.Entry, settings: Settings) -> list[str]:
    """What the entry was and what it is now."""
    before = entry_of(payload["before"], settings.base_url, with_link(payload))
    lines = ["This meetup changed."]
    if (before.starts_at, before.ends_at) != (entry.starts_at, entry.ends_at):
        lines.append(f"It was: {when(before)}. It is now: {when(entry)}.")
    if before.location != entry.location:
        lines.append(f"It was at: {one_line(before.location)}. Now at: {one_line(entry.location)}.")
    if before.title != entry.title:
        lines.append(f"It was called: {one_line(before.title)}.")
    if before.description != entry.description:
        lines.append("Its description is new; your calendar has it.")
    return lines


def cancelled(payload: dict[str, Any], entry: ical.Entry, settings: Settings) -> list[str]:
    message = payload.get("message", "")
    return ["This meetup is cancelled."] + ([f"The organisers say: {message}"] if message else [])


REASONS = {
    "declined": "You said you can't make it, so it leaves your calendar. The meetup itself is still on.",
    "dropped": "You dropped this session from your agenda, so it leaves your calendar.",
    "not coming": "You're not down for the meetup any more, so its session leaves your calendar.",
}


def removed(payload: dict[str, Any], entry: ical.Entry, settings: Settings) -> list[str]:
    """Only this member leaves the entry: the words say why, and that the meetup is still on."""
    if position := payload.get("waitlist_position"):
        return [
            f"You're on the waitlist, #{position}: the meetup is full for now.",
            "If a seat opens up, it's yours and we'll send you a new invitation. Until then the meetup "
            "leaves your calendar.",
        ]
    return [REASONS.get(payload.get("reason", ""), REASONS["declined"])]


def removal_word(payload: dict[str, Any]) -> str:
    if payload.get("waitlist_position"):
        return "Waitlisted"
    return "Dropped" if payload.get("reason") == "dropped" else "Not going"


def coming_up(payload: dict[str, Any], entry: ical.Entry, settings: Settings) -> list[str]:
    return ["This meetup is coming up."]


def with_link(payload: dict[str, Any]) -> bool:
    """The online link is for people going: an invitation someone has not accepted names no link."""
    return payload["attendee"]["partstat"] == "ACCEPTED"


def request_part(context: Context, now: datetime) -> CalendarPart:
    return CalendarPart("REQUEST", ical.request(
        context["entry"], attendee=context["attendee"], organiser=context["organiser"],
        organiser_name=context["organiser_name"], sent_by=context["sent_by"], now=now,
    ))


def cancel_part(context: Context, now: datetime) -> CalendarPart:
    return CalendarPart("CANCEL", ical.cancel(
        context["entry"], attendee=context["attendee"], organiser=context["organiser"],
        organiser_name=context["organiser_name"], sent_by=context["sent_by"], now=now,
    ))


def replies_come_back(context: Context) -> dict[str, str]:
    """A written reply goes where the calendar's answer goes: the recipient's own organiser address.
    Updates and cancellations thread with the first invitation about the same entry."""
    thread = {"In-Reply-To": context["thread"], "References": context["thread"]} if context["thread"] else {}
    return {"Reply-To": context["organiser"], **thread}


def meetup_letter(
    kind: str, word: str | Callable[[dict[str, Any]], str], lines: Lines,
    calendar: Callable[[Context, datetime], CalendarPart] | None,
    *, can_cancel: bool = True,
) -> LetterKind:
    """`can_cancel`: the letter offers the "can't make it" link (not once the seat is gone anyway)."""

    def context(payload: dict[str, Any], settings: Settings) -> Context:
        entry = entry_of(payload["entry"], settings.base_url, with_link(payload))
        # Letters written before links were bound to a version carry none: theirs go stale at once.
        link = cant_make_it_url(settings, payload["meetup_id"], payload["member_id"], payload.get("since", 0))
        return {
            "entry": entry,
            "attendee": ical.Attendee(**payload["attendee"]),
            "organiser": organiser_address(settings, entry.uid, payload["member_id"]),
            # The rsvp+ address acts for the organiser, named by their own name (CN); SENT-BY names
            # the mailbox the mail comes from.
            "organiser_name": payload.get("organiser_name") or ORGANISER_NAME,
            "sent_by": organiser_address(settings),
            "thread": payload.get("thread", ""),
            "lines": lines(payload, entry, settings),
            "facts": facts(entry),
            "cant_make_it_url": link if can_cancel else "",
            "subject": subject_line(word(payload) if callable(word) else word, entry),
        }

    return LetterKind(kind=kind, template="meetup", context=context, subject=lambda c: c["subject"],
                      headers=replies_come_back, calendar=calendar)


LETTERS = (
    meetup_letter(INVITATION, "Invitation", invited, request_part),
    meetup_letter(PROMOTION, "Invitation", promoted, request_part),
    meetup_letter(UPDATE, "Updated", changed, request_part),
    meetup_letter(CANCELLATION, "Cancelled", cancelled, cancel_part, can_cancel=False),
    meetup_letter(REMOVAL, removal_word, removed, cancel_part, can_cancel=False),
    # Plain email: a REQUEST would show as a fresh invitation and re-add an event the member deleted.
    meetup_letter(REMINDER, "Reminder", coming_up, None),
)
