"""A strict calendar client over Radicale receives every message one member gets through a meetup's
life, and ends with exactly the calendar that member should have.

The client applies iTIP (RFC 5546) to a CalDAV calendar by PUT, GET and DELETE of .ics resources:

- An object's revision is (SEQUENCE, DTSTAMP) (§2.1.5): a higher SEQUENCE is newer; on an equal
  SEQUENCE the later DTSTAMP is.
- REQUEST (§3.2.2): adds the event when the client has never seen its UID; replaces the stored event
  only when the message is newer than it. An older or equal one is ignored.
- CANCEL (§3.2.5): deletes the stored event only when its SEQUENCE is above the stored one ("the
  SEQUENCE MUST be incremented"); otherwise it is ignored. A deleted event is remembered (UID and
  revision), so a later REQUEST re-adds it only when it is newer than the cancellation.
- METHOD is dropped before storing (CalDAV stores calendar objects, RFC 4791 §4.1).

Every message must also be a valid iMIP email: its calendar part reads in vobject (validating) and in
icalendar. The messages are composed as the worker does, each sent a minute after the last.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from hashlib import sha256
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest
import vobject
from icalendar import Calendar
from litestar.testing import TestClient

from cookout.domain.base import acting_as
from cookout.platform.inbound.replies import APPLIED, receive
from cookout.platform.letters import compose
from cookout.platform.letters.invitations import organiser_address
from cookout.platform.container import Container
from tests.integration.test_calendar_answers import parsed, reply_text
from tests.integration.test_meetup_mail import command, radicale, schedule  # noqa: F401 (fixture)
from tests.meetup_helpers import ZONE, Tribe, local, settle
from tests.unit.test_ical import check_wire_format


def revision(event: Any) -> tuple[int, datetime]:
    return int(event["SEQUENCE"]), event.decoded("DTSTAMP")


class StrictClient:
    """One member's calendar app: it reads each iTIP email and applies it to their CalDAV calendar."""

    def __init__(self, calendar_url: str) -> None:
        self.url = calendar_url
        self.cancelled: dict[str, tuple[int, datetime]] = {}
        self.ignored: list[str] = []

    def resource(self, uid: str) -> str:
        return f"{self.url}{sha256(uid.encode()).hexdigest()}.ics"

    def stored(self, uid: str) -> Any | None:
        found = httpx.get(self.resource(uid))
        if found.status_code == 404:
            return None
        assert found.status_code == 200, found.text
        return Calendar.from_ical(found.text).walk("VEVENT")[0]

    def apply(self, message: EmailMessage) -> None:
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        raw = part.get_payload(decode=True)
        method = part.get_param("method")
        check_wire_format(raw, method)
        calendar = Calendar.from_ical(raw)
        assert str(calendar["METHOD"]) == method
        for event in calendar.walk("VEVENT"):
            uid, seen = str(event["UID"]), revision(event)
            held = self.stored(uid)
            current = revision(held) if held is not None else self.cancelled.get(uid)
            if method == "REQUEST":
                if current is not None and seen <= current:
                    self.ignored.append(f"REQUEST {uid} {seen} <= {current}")
                    continue
                stored = httpx.put(self.resource(uid), content=re.sub(rb"METHOD:[A-Z]+\r\n", b"", raw),
                                   headers={"Content-Type": "text/calendar"})
                assert stored.status_code in (201, 204), stored.text
                self.cancelled.pop(uid, None)
            elif method == "CANCEL":
                if held is None or seen[0] <= current[0]:  # type: ignore[index]
                    self.ignored.append(f"CANCEL {uid} {seen} against {current}")
                    continue
                assert httpx.delete(self.resource(uid)).status_code in (200, 204)
                self.cancelled[uid] = seen

    def subscribe(self, feed: str) -> None:
        """The member's private feed, read by the same client: an event it already holds (or cancelled)
        under the same UID must be that very event (same SEQUENCE and ORGANIZER), so it merges into one;
        an event it never saw is added."""
        check_wire_format(feed.encode("utf-8"), "PUBLISH")
        for event in Calendar.from_ical(feed).walk("VEVENT"):
            uid, seen = str(event["UID"]), revision(event)
            held = self.stored(uid)
            current = revision(held) if held is not None else self.cancelled.get(uid)
            if current is None:
                one = Calendar.from_ical(feed)
                one.subcomponents = [c for c in one.subcomponents if c.name != "VEVENT" or str(c["UID"]) == uid]
                assert httpx.put(self.resource(uid), content=one.to_ical(),
                                 headers={"Content-Type": "text/calendar"}).status_code == 201
                continue
            assert seen[0] == current[0], f"the feed's {uid} is SEQUENCE {seen[0]}, the calendar's {current[0]}"
            if held is not None:
                assert str(event["ORGANIZER"]) == str(held["ORGANIZER"])

    def events(self) -> dict[str, tuple[str, datetime, str]]:
        """UID → (SUMMARY, DTSTART in UTC, LOCATION) of every event the calendar holds."""
        listing = httpx.request(
            "REPORT", self.url, headers={"Depth": "1", "Content-Type": "application/xml"},
            content=b'<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
                    b'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>'
                    b'<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>'
                    b'</C:comp-filter></C:filter></C:calendar-query>',
        )
        assert listing.status_code == 207
        found = {}
        for text in re.findall(r"BEGIN:VCALENDAR.*?END:VCALENDAR", listing.text.replace("&#13;", "\r"),
                               flags=re.S):
            event = Calendar.from_ical(text).walk("VEVENT")[0]
            found[str(event["UID"])] = (str(event["SUMMARY"]), event.decoded("DTSTART").astimezone(UTC),
                                        str(event.get("LOCATION", "")))
        return found


class Mailbox:
    """The member's inbox: each new letter composed as the worker does, a minute after the last."""

    def __init__(self, container: Container, tribe: Tribe, meetup_id: UUID, member: dict[str, Any]) -> None:
        self.container, self.tribe, self.meetup_id, self.member = container, tribe, meetup_id, member
        self.seen: set[str] = set()
        self.clock = datetime.now(UTC)

    def new(self) -> list[EmailMessage]:
        settle(self.container)
        fresh = [row for row in self.tribe.letters(self.meetup_id)
                 if row["recipient"] == self.member["email"] and row["key"] not in self.seen
                 and row["status"] != "withdrawn"]
        messages = []
        for row in fresh:
            self.seen.add(row["key"])
            self.clock += timedelta(minutes=1)
            message = compose(row, self.container.settings, now=self.clock)
            messages.append(message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default))
        return [m for m in messages if any(p.get_content_type() == "text/calendar" for p in m.walk())]


@pytest.fixture
def calendar(radicale: str) -> Iterator[StrictClient]:  # noqa: F811
    assert httpx.request("MKCOL", f"{radicale}/member/").status_code == 201
    assert httpx.request("MKCALENDAR", f"{radicale}/member/meetups/").status_code == 201
    yield StrictClient(f"{radicale}/member/meetups/")


def shifted(local_time: str, **delta: float) -> str:
    """A local time this far from another (in UTC, as the offsets the meetup moves by are)."""
    moved = at(local_time) + timedelta(**delta)
    return moved.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


def at(local_time: str) -> datetime:
    return datetime.fromisoformat(local_time).replace(tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def test_a_strict_client_ends_with_exactly_the_calendar_the_member_should_have(
    container: Container, calendar: StrictClient, client: TestClient[Any]
) -> None:
    tribe = Tribe(container, members=2)
    member, other = tribe.members
    organiser = tribe.organiser["id"]
    # Every time is derived from one reading of the clock, so a minute ticking over mid-test moves none.
    start = local(timedelta(days=10))
    end = shifted(start, hours=6)
    keynote, keynote_end = shifted(start, hours=1), shifted(start, hours=2)
    meetup_id = schedule(container, tribe, title="Summer camp", capacity="2", starts_at=start, ends_at=end)
    session_id = command(container, organiser, "add_session", meetup_id, title="Keynote",
                         starts_at=keynote, ends_at=keynote_end, room="Hall A")
    mailbox = Mailbox(container, tribe, meetup_id, member)

    first: dict[str, str] = {}

    def deliver() -> list[EmailMessage]:
        messages = mailbox.new()
        for message in messages:
            calendar.apply(message)
            # Every later message about an entry threads with the first one the member got about it.
            part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
            event = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]
            uid = str(event["UID"])
            # The organiser's own name, sent by Cookout's mailbox, at the member's rsvp+ address.
            organizer = event["ORGANIZER"]
            assert organizer.params["CN"] == tribe.organiser["display_name"]
            assert organizer.params["SENT-BY"] == f"mailto:{organiser_address(container.settings)}"
            assert str(organizer).startswith("mailto:rsvp+")
            if uid in first:
                assert (message["In-Reply-To"], message["References"]) == (first[uid], first[uid])
            else:
                assert message["In-Reply-To"] is None
                first[uid] = message["Message-ID"]
        assert calendar.ignored == [], "every message Cookout sends is one a strict client applies"
        return messages

    with acting_as(member["id"]):
        feed_token = container.accounts.issue_calendar_feed()

    def holds(expected: dict[str, tuple[str, datetime, str]]) -> None:
        assert calendar.events() == expected
        # Subscribed to their private feed as well, the member still has each event once.
        settle(container)
        feed = client.get(f"/feeds/{feed_token}.ics")
        assert feed.status_code == 200
        calendar.subscribe(feed.text)
        assert calendar.events() == expected

    command(container, organiser, "invite", meetup_id, [member["id"]])
    [invitation] = deliver()
    meetup_uid = str(Calendar.from_ical(next(
        p for p in invitation.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True)
    ).walk("VEVENT")[0]["UID"])
    park = "Volkspark, Friedrichshain, Berlin"
    holds({meetup_uid: ("Summer camp", at(start), park)})

    command(container, member["id"], "answer", meetup_id, "going")
    deliver()
    holds({meetup_uid: ("Summer camp", at(start), park)})

    command(container, member["id"], "choose_session", meetup_id, session_id)
    [chosen] = deliver()
    session_uid = str(Calendar.from_ical(next(
        p for p in chosen.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True)
    ).walk("VEVENT")[0]["UID"])
    keynote_at = at(keynote)
    holds({meetup_uid: ("Summer camp", at(start), park),
           session_uid: ("Keynote (Summer camp)", keynote_at, f"Hall A, {park}")})

    # One save moves the whole conference a day and an hour earlier, and its place: its agenda moves with
    # it, and each entry held gets one update.
    earlier, earlier_end = shifted(start, days=-1, hours=-1), shifted(start, days=-1, hours=5)
    field = "Tempelhofer Feld, Tempelhof"
    command(container, organiser, "revise", meetup_id, title="Summer camp", description="Bring food.",
            starts_at=earlier, ends_at=earlier_end, timezone=ZONE, venue="Tempelhofer Feld",
            address="Tempelhof", capacity=2)
    assert len(deliver()) == 2
    keynote_at = at(shifted(start, days=-1))
    holds({meetup_uid: ("Summer camp", at(earlier), field),
           session_uid: ("Keynote (Summer camp)", keynote_at, f"Hall A, {field}")})

    command(container, organiser, "revise", meetup_id, title="Summer camp by the lake", description="Bring food.",
            starts_at=earlier, ends_at=earlier_end, timezone=ZONE, venue="Tempelhofer Feld",
            address="Tempelhof", capacity=2)
    deliver()
    both = {meetup_uid: ("Summer camp by the lake", at(earlier), field),
            session_uid: ("Keynote (Summer camp by the lake)", keynote_at, f"Hall A, {field}")}
    holds(both)

    # No from the member's calendar app, answered to the ORGANIZER of the update they hold.
    newest = answering(calendar, meetup_uid)
    no = parsed(reply_text("gmail", newest, member, "DECLINED"))
    assert receive(container, no, [newest["organizer"]]).status == APPLIED
    deliver()
    holds({})

    # The seat goes to someone else; the member's yes now puts them on the waitlist: nothing to hold.
    command(container, other["id"], "answer", meetup_id, "going")
    assert command(container, member["id"], "answer", meetup_id, "going") == "waitlisted"
    deliver()
    holds({})

    # The seat frees up: promoted, the meetup and the session they chose come back.
    command(container, other["id"], "answer", meetup_id, "not_going")
    deliver()
    holds(both)

    since = max(row["payload"]["since"] for row in tribe.letters(meetup_id)
                                        if row["recipient"] == member["email"])
    command(container, member["id"], "cant_make_it", meetup_id, since)
    deliver()
    holds({})

    command(container, member["id"], "answer", meetup_id, "going")
    deliver()
    holds(both)

    command(container, organiser, "cancel", meetup_id, message="Storm warning.")
    cancellations = deliver()
    assert len(cancellations) == 2
    holds({})


def answering(calendar: StrictClient, uid: str) -> dict[str, Any]:
    """What a calendar app answers from: the stored event's ORGANIZER, UID and SEQUENCE."""
    event = calendar.stored(uid)
    assert event is not None
    return {"organizer": str(event["ORGANIZER"]).removeprefix("mailto:"), "uid": uid,
           "sequence": int(event["SEQUENCE"])}
