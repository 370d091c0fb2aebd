"""Calendar text and iMIP emails read the same in an independent parser and in mail clients."""

import base64
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import SMTP, default
from uuid import uuid4

import pytest
import vobject
from icalendar import Calendar as ICalendar

from cookout.domain.meetups import Meetup, Place
from cookout.domain.schedule import parse_window
from cookout.platform.ical import Attendee, Entry, calendar_text, feed, meetup_entry, session_entry
from cookout.platform.letters import compose
from cookout.platform.settings import Settings
from cookout.projections.invitations import CANCELLATION, INVITATION, REMINDER, REMOVAL, UPDATE

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
ORGANISER = "meetups@cookout.example"
SENDER = "Cookout <meetups@cookout.example>"
SETTINGS = Settings(mail_from=SENDER, secret_key="unit-test-secret", base_url="https://cookout.example")
ANN = Attendee("Ann.Lee+picnic@Example.org", "Ann Lee", "NEEDS-ACTION")
TRICKY = "Line one\r\nline two\nComma, semicolon; backslash \\ emoji 🎉🌭"


def a_meetup(**changes):
    fields = dict(
        tribe_id=uuid4(),
        title="Picnic",
        description="Bring food.",
        window=parse_window("2030-07-01T18:00", "2030-07-01T21:00", "Europe/Berlin"),
        place=Place("Volkspark", "Friedrichshain, Berlin"),
        capacity=None,
        rsvp_deadline=None,
        now=NOW,
    )
    fields.update(changes)
    return Meetup.schedule(**fields)


def entry_data(entry: Entry) -> dict:
    """An entry as a letter's payload carries it (the whole location in `venue`)."""
    return {
        "uid": entry.uid, "sequence": entry.sequence, "title": entry.title, "description": entry.description,
        "starts_at": entry.starts_at.isoformat(), "ends_at": entry.ends_at.isoformat(),
        "timezone": entry.timezone, "venue": entry.location, "address": "", "online_url": "",
        "cancelled": entry.cancelled, "path": f"/m/{uuid4()}",
    }


def mail(kind, entry, before=None, message=""):
    """The email the worker composes for a letter of this kind to Ann."""
    payload = {
        "meetup_id": str(uuid4()), "member_id": str(uuid4()), "since": 1, "entry": entry_data(entry),
        "attendee": {"email": ANN.email, "name": ANN.name, "partstat": ANN.partstat},
    }
    if before is not None:
        payload["before"] = entry_data(before)
    if message:
        payload["message"] = message
    row = {"kind": kind, "recipient": ANN.email, "message_id": "<m1@cookout>", "payload": payload}
    return compose(row, SETTINGS, now=NOW)


def calendar_part(message):
    parsed = message_from_bytes(message.as_bytes(policy=SMTP), policy=default)
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    return part, part.get_payload(decode=True)


def check_wire_format(raw: bytes, method: str) -> vobject.base.Component:
    assert b"\r\r\n" not in raw
    assert re.search(rb"(?<!\r)\n", raw) is None, "bare LF"
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    text = raw.decode("utf-8")
    assert text.count("\r\nMETHOD:") == 1
    assert f"\r\nMETHOD:{method}\r\n" in text
    assert "\r\nPRODID:-//Cookout//Cookout 0.1//EN\r\n" in text
    assert text.count("\r\nSEQUENCE:") == text.count("BEGIN:VEVENT")
    return vobject.readOne(text, validate=True)


def test_an_invitation_asks_the_exact_address_to_answer():
    message = mail(INVITATION, meetup_entry(a_meetup()))

    part, raw = calendar_part(message)
    calendar = check_wire_format(raw, "REQUEST")
    attendee = calendar.vevent.attendee
    assert attendee.value == "mailto:Ann.Lee+picnic@Example.org"
    assert attendee.params["PARTSTAT"] == ["NEEDS-ACTION"]
    assert attendee.params["RSVP"] == ["TRUE"]
    assert attendee.params["ROLE"] == ["REQ-PARTICIPANT"]
    assert attendee.params["CN"] == ["Ann Lee"]
    # The organiser is this recipient's own answer address (cookout.platform.inbound receives it).
    organiser = calendar.vevent.organizer.value.removeprefix("mailto:")
    assert organiser.startswith("rsvp+") and organiser.endswith("@cookout.example")
    assert message["Reply-To"] == organiser
    assert part.get_param("method") == "REQUEST"


def test_times_go_out_in_the_venues_zone_with_its_vtimezone_and_dtstamp_is_the_sending_time():
    _, raw = calendar_part(mail(INVITATION, meetup_entry(a_meetup())))

    text = raw.decode()
    assert "\r\nDTSTART;TZID=Europe/Berlin:20300701T180000\r\n" in text
    assert "\r\nDTEND;TZID=Europe/Berlin:20300701T210000\r\n" in text
    assert "\r\nDTSTAMP:20300601T120000Z\r\n" in text
    calendar = check_wire_format(raw, "REQUEST")
    assert calendar.vtimezone.tzid.value == "Europe/Berlin"
    # vobject ignores a VTIMEZONE's RDATEs, so the instant is read with icalendar.
    start = ICalendar.from_ical(raw).walk("VEVENT")[0].decoded("DTSTART")
    assert start.astimezone(UTC) == datetime(2030, 7, 1, 16, 0, tzinfo=UTC)


def test_an_invitation_brings_its_own_alarm_an_hour_ahead():
    calendar = check_wire_format(calendar_part(mail(INVITATION, meetup_entry(a_meetup())))[1], "REQUEST")

    assert calendar.vevent.valarm.trigger.value == -timedelta(hours=1)
    assert calendar.vevent.valarm.action.value == "DISPLAY"


def test_the_email_offers_text_then_html_then_the_calendar_and_attaches_invite_ics():
    message = mail(INVITATION, meetup_entry(a_meetup()))
    parsed = message_from_bytes(message.as_bytes(policy=SMTP), policy=default)

    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert (attachment.get_content_type(), attachment.get_filename()) == ("application/ics", "invite.ics")
    assert attachment.get_content() == calendar_part(message)[1]
    part, _ = calendar_part(message)
    assert part["Content-Transfer-Encoding"] == "base64"
    assert part.get_content_charset() == "utf-8"
    assert parsed["Message-ID"] == "<m1@cookout>"
    assert parsed["To"] == ANN.email
    assert "Picnic" in parsed["Subject"]


def test_a_title_cannot_inject_headers_into_the_subject():
    entry = replace(meetup_entry(a_meetup()), title="Picnic\r\nBcc: everyone@example.org")

    raw = mail(INVITATION, entry).as_bytes(policy=SMTP)

    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"].startswith("Invitation: Picnic Bcc: everyone@example.org")


def test_an_update_keeps_the_uid_raises_the_sequence_and_says_what_changed():
    meetup = a_meetup()
    before = meetup_entry(meetup)
    meetup.reschedule(parse_window("2030-07-02T18:00", "2030-07-02T21:00", "Europe/Berlin"), NOW)
    meetup.relocate(Place("Café Anna", "Boxhagener Str. 1"), NOW)

    message = mail(UPDATE, meetup_entry(meetup), before=before)

    calendar = check_wire_format(calendar_part(message)[1], "REQUEST")
    assert calendar.vevent.uid.value == before.uid
    assert int(calendar.vevent.sequence.value) == 2
    body = message.get_body(("plain",)).get_content()
    assert "Mon 01 Jul 2030 18:00–21:00 (Europe/Berlin)" in body
    assert "Tue 02 Jul 2030 18:00–21:00 (Europe/Berlin)" in body
    assert "Volkspark" in body and "Café Anna" in body


def test_a_cancelled_meetup_is_sent_as_cancel_with_status_cancelled():
    meetup = a_meetup()
    uid = meetup.uid
    meetup.cancel("Rain all day.", NOW)

    message = mail(CANCELLATION, meetup_entry(meetup), message="Rain all day.")

    part, raw = calendar_part(message)
    calendar = check_wire_format(raw, "CANCEL")
    assert part.get_param("method") == "CANCEL"
    assert calendar.vevent.status.value == "CANCELLED"
    assert calendar.vevent.uid.value == uid
    assert int(calendar.vevent.sequence.value) == 1
    assert "Rain all day." in message.get_body(("plain",)).get_content()


def test_one_members_copy_is_removed_with_cancel_for_that_member_only():
    entry = meetup_entry(a_meetup())

    calendar = check_wire_format(calendar_part(mail(REMOVAL, entry))[1], "CANCEL")

    assert calendar.vevent.uid.value == entry.uid
    assert [a.value for a in calendar.vevent.attendee_list] == [f"mailto:{ANN.email}"]


def test_taking_one_member_out_does_not_say_the_meetup_is_cancelled():
    message = mail(REMOVAL, meetup_entry(a_meetup()))

    calendar = check_wire_format(calendar_part(message)[1], "CANCEL")

    assert "status" not in calendar.vevent.contents
    text = message.get_body(("plain",)).get_content()
    assert "You said you can't make it" in text and "still on" in text


def test_a_reminder_is_plain_email_with_no_calendar_part():
    message = mail(REMINDER, meetup_entry(a_meetup()))

    assert [p for p in message.walk() if p.get_content_type() == "text/calendar"] == []
    assert "This meetup is coming up." in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("field", ["title", "description", "location"])
def test_awkward_text_survives_escaping_and_folding(field):
    long_text = TRICKY + " " + "x🎉" * 700 + "é" * 600
    entry = replace(meetup_entry(a_meetup()), **{field: long_text})

    calendar = check_wire_format(calendar_part(mail(INVITATION, entry))[1], "REQUEST")

    value = {"title": calendar.vevent.summary, "description": calendar.vevent.description,
             "location": calendar.vevent.location}[field].value
    assert value == long_text.replace("\r\n", "\n")


def test_a_name_with_quotes_and_commas_stays_inside_its_parameter():
    attendee = Attendee("bo@example.org", 'Bo "the, great"; Baker', "ACCEPTED")

    text = calendar_text(
        "REQUEST", [meetup_entry(a_meetup())], organiser=ORGANISER, now=NOW, attendee=attendee
    )

    calendar = check_wire_format(text.encode(), "REQUEST")
    assert calendar.vevent.attendee.value == "mailto:bo@example.org"
    assert calendar.vevent.attendee.params["PARTSTAT"] == ["ACCEPTED"]


def test_a_feed_publishes_several_meetups_and_sessions():
    meetup = a_meetup()
    talk = meetup.add_session(
        title="Keynote",
        window=parse_window("2030-07-01T18:00", "2030-07-01T18:45", "Europe/Berlin"),
        room="Tent",
        speaker="Ada",
        now=NOW,
    )
    other = a_meetup(title="Hike", place=Place(online_url="https://maps.example.org/hike"))
    entries = [meetup_entry(meetup), session_entry(meetup, meetup.sessions[talk]),
               meetup_entry(other)]

    text = feed(entries, organiser=ORGANISER, now=NOW, name="Berlin picnickers")

    calendar = check_wire_format(text.encode(), "PUBLISH")
    uids = {event.uid.value for event in calendar.vevent_list}
    assert uids == {meetup.uid, meetup.sessions[talk].uid, other.uid}
    assert "ATTENDEE" not in text


def test_the_calendar_part_travels_as_base64_so_its_crlf_line_endings_survive():
    wire = mail(INVITATION, meetup_entry(a_meetup())).as_bytes(policy=SMTP)

    after_header = wire.split(b'Content-Type: text/calendar; method="REQUEST"; charset="UTF-8"')[1]
    encoded = after_header.split(b"\r\n\r\n", 1)[1].split(b"\r\n\r\n", 1)[0]
    decoded = base64.b64decode(encoded)
    assert decoded.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert decoded.endswith(b"END:VCALENDAR\r\n")


def test_an_online_meetup_gives_those_going_a_join_link_in_conference_and_names_the_sender():
    entry = entry_data(meetup_entry(a_meetup(place=Place("", "", "https://meet.example/picnic"))))
    payload = {
        "meetup_id": str(uuid4()), "member_id": str(uuid4()), "since": 1,
        "entry": {**entry, "venue": "", "online_url": "https://meet.example/picnic"},
        "attendee": {"email": ANN.email, "name": 'Ann "Annie" Lee', "partstat": "ACCEPTED"},
    }
    row = {"kind": INVITATION, "recipient": ANN.email, "message_id": "<m1@cookout>", "payload": payload}

    calendar = check_wire_format(calendar_part(compose(row, SETTINGS, now=NOW))[1], "REQUEST")

    conference = calendar.vevent.conference
    assert conference.value == "https://meet.example/picnic"
    assert conference.params["FEATURE"] == ["VIDEO"] and conference.params["VALUE"] == ["URI"]
    assert calendar.vevent.attendee.params["CN"] == ["Ann Annie Lee"]
    assert calendar.vevent.organizer.params["SENT-BY"] == [f"mailto:{ORGANISER}"]


def test_the_organizer_is_named_after_the_organiser_sent_by_cookout_and_names_read_back_in_both_parsers():
    entry = entry_data(meetup_entry(a_meetup()))
    payload = {
        "meetup_id": str(uuid4()), "member_id": str(uuid4()), "since": 1, "entry": entry,
        "attendee": {"email": ANN.email, "name": "Siobhán O'Brien, Jr.", "partstat": "NEEDS-ACTION"},
        "organiser_name": 'Gini "G" Marsh',
    }
    row = {"kind": INVITATION, "recipient": ANN.email, "message_id": "<m1@cookout>", "payload": payload}

    raw = calendar_part(compose(row, SETTINGS, now=NOW))[1]

    assert b"^'" not in raw, "no RFC 6868 escapes, which clients show raw"
    read = check_wire_format(raw, "REQUEST").vevent
    event = ICalendar.from_ical(raw).walk("VEVENT")[0]
    assert read.organizer.params["CN"] == [event["ORGANIZER"].params["CN"]] == ["Gini G Marsh"]
    assert read.attendee.params["CN"] == [event["ATTENDEE"].params["CN"]] == ["Siobhán O'Brien, Jr."]
    assert read.organizer.params["SENT-BY"] == [event["ORGANIZER"].params["SENT-BY"]] == [f"mailto:{ORGANISER}"]
    assert read.organizer.value.startswith("mailto:rsvp+")
