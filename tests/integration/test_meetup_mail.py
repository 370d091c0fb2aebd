"""Meetup emails as other software reads them: vobject parses every calendar part, the raw bytes keep
iMIP's rules, a real CalDAV server (Radicale) stores them, and a real worker killed half-way through
a big send loses no letter."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import vobject

from cookout.domain.base import current_actor
from cookout.domain.meetings import Meetings
from cookout.platform.links import rsvp_address
from cookout.platform.container import Container
from cookout.projections.invitations import Invitations
from cookout.platform.letters import compose
from cookout.workers.app import CookoutCelery
from cookout.workers.mail import DELIVER_TASK
from tests.integration.test_mail_delivery import Inbox, smtp_server  # noqa: F401 -- the fixture
from tests.helpers import confirm_email
from tests.meetup_helpers import Tribe, acting, local, meetup_fields, settle


def command(container: Container, member_id: UUID, name: str, *args: Any, **kwargs: Any) -> Any:
    token = acting(member_id)
    try:
        return getattr(container.service(Meetings), name)(*args, **kwargs)
    finally:
        current_actor.reset(token)


def schedule(container: Container, tribe: Tribe, **changes: Any) -> UUID:
    fields = {**meetup_fields(**changes), "capacity": None}
    fields["capacity"] = int(changes["capacity"]) if changes.get("capacity") else None
    return command(container, tribe.organiser["id"], "schedule", tribe.id, **fields)


def built(container: Container, letter: dict[str, Any]) -> EmailMessage:
    message = compose(letter, container.settings)
    return message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)


def calendar_of(message: EmailMessage) -> tuple[Any, bytes, Any]:
    """The text/calendar part (checked to be last and base64), its raw bytes, and vobject's reading."""
    [alternative] = [p for p in message.walk() if p.get_content_type() == "multipart/alternative"]
    parts = alternative.get_payload()
    calendar = parts[-1]
    assert calendar.get_content_type() == "text/calendar"
    assert calendar["Content-Transfer-Encoding"] == "base64"
    raw = base64.b64decode(calendar.get_payload())
    assert b"\r\r\n" not in raw
    assert re.search(rb"(?<!\r)\n", raw) is None, "bare LF"
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    text = raw.decode("utf-8")
    assert text.count("\r\nSEQUENCE:") == text.count("BEGIN:VEVENT") == 1
    assert f"\r\nMETHOD:{calendar.get_param('method')}\r\n" in text
    return calendar, raw, vobject.readOne(text, validate=True)


def letters_for(tribe: Tribe, meetup_id: UUID) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for letter in tribe.letters(meetup_id):
        found.setdefault(letter["kind"], []).append(letter)
    return found


@pytest.fixture
def story(container: Container) -> tuple[Tribe, UUID, dict[str, list[dict[str, Any]]]]:
    """A conference that sees every kind of letter: invitation, promotion, update, removal,
    session invitation, reminder and cancellation."""
    tribe = Tribe(container, members=3)
    first, second, third = (m["id"] for m in tribe.members)
    meetup_id = schedule(container, tribe, title="Grill, chill; back\\slash 🎉", capacity="2",  # host + 1
                         starts_at=local(timedelta(hours=20)), ends_at=local(timedelta(hours=30)),
                         address="Hauptstr. 1\r\n10115 Berlin")
    session_id = command(container, tribe.organiser["id"], "add_session", meetup_id, 
                         title="Keynote", starts_at=local(timedelta(hours=21)), ends_at=local(timedelta(hours=22)))
    command(container, tribe.organiser["id"], "invite", meetup_id, [third])
    command(container, first, "answer", meetup_id, "going")
    command(container, first, "choose_session", meetup_id, session_id)
    command(container, second, "answer", meetup_id, "going")
    command(container, tribe.organiser["id"], "relocate", meetup_id, 
            venue="Tempelhofer Feld", address="Tempelhof")
    command(container, first, "answer", meetup_id, "not_going")
    settle(container)
    container.view(Invitations).write_reminders(datetime.now(UTC))
    command(container, tribe.organiser["id"], "cancel", meetup_id, message="Storm\r\nBcc: x@evil")
    settle(container)
    return tribe, meetup_id, letters_for(tribe, meetup_id)


def test_every_letter_is_a_valid_imip_message_to_the_exact_address(
    container: Container, story: tuple[Tribe, UUID, dict[str, list[dict[str, Any]]]]
) -> None:
    tribe, meetup_id, letters = story
    assert set(letters) == {"meetup_invitation", "meetup_promotion", "meetup_update", "meetup_removal",
                            "meetup_reminder", "meetup_cancellation"}
    meetup_uid = next(l for l in letters["meetup_update"] if "session" not in l["payload"]["entry"])[
        "payload"]["entry"]["uid"]
    expected = {"meetup_invitation": "REQUEST", "meetup_promotion": "REQUEST", "meetup_update": "REQUEST",
                "meetup_removal": "CANCEL", "meetup_cancellation": "CANCEL"}
    # A reminder is plain email: a REQUEST would re-add an event the member deleted.
    for reminder in letters.pop("meetup_reminder"):
        assert [p for p in built(container, reminder).walk() if p.get_content_type() == "text/calendar"] == []
    for kind, group in letters.items():
        for letter in group:
            message = built(container, letter)
            assert message["To"] == letter["recipient"]
            assert message["Message-ID"] == letter["message_id"]
            assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
            calendar, _, parsed = calendar_of(message)
            assert calendar.get_param("method") == parsed.method.value == expected[kind]
            event = parsed.vevent
            # The recipient's own answer address for this entry (cookout.platform.inbound receives it).
            organiser = rsvp_address(container.settings, event.uid.value, letter["payload"]["member_id"])
            assert event.organizer.value == f"mailto:{organiser}" and message["Reply-To"] == organiser
            attendee = event.attendee
            assert attendee.value == f"mailto:{letter['recipient']}"
            assert attendee.params["RSVP"] == ["TRUE"] and attendee.params["ROLE"] == ["REQ-PARTICIPANT"]
            assert event.sequence.value == str(letter["payload"]["entry"]["sequence"])
            if "session" not in letter["payload"]["entry"]:
                assert event.uid.value == meetup_uid
    cancellation = next(l for l in letters["meetup_cancellation"] if "session" not in l["payload"]["entry"])
    event = calendar_of(built(container, cancellation))[2].vevent
    assert (event.status.value, event.sequence.value) == ("CANCELLED", "2")
    update = built(container, next(l for l in letters["meetup_update"] if "session" not in l["payload"]["entry"])).get_body(("plain",)).get_content()
    assert "It was at: Volkspark, Hauptstr. 1 10115 Berlin. Now at: Tempelhofer Feld, Tempelhof." in update
    assert "/rsvp/" in update
    invitations = {l["recipient"]: l for l in letters["meetup_invitation"]}
    invited = calendar_of(built(container, invitations[tribe.members[2]["email"]]))[2].vevent
    assert invited.attendee.params["PARTSTAT"] == ["NEEDS-ACTION"]
    hosting = calendar_of(built(container, invitations[tribe.organiser["email"]]))[2].vevent
    assert hosting.attendee.params["PARTSTAT"] == ["ACCEPTED"]  # the host is going to what they scheduled
    reminders = letters_for(tribe, meetup_id)["meetup_reminder"]
    assert {r["recipient"] for r in reminders} == {tribe.organiser["email"], tribe.members[1]["email"]}
    assert {r["status"] for r in reminders} == {"withdrawn"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def radicale() -> Iterator[str]:
    port, storage = free_port(), tempfile.mkdtemp(prefix="radicale-")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", storage, "--auth-type", "none"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def without_method(raw: bytes) -> bytes:
    """CalDAV stores calendar objects, not iTIP messages: no METHOD property."""
    return re.sub(rb"METHOD:[A-Z]+\r\n", b"", raw)


def test_a_caldav_server_stores_the_invitation_then_the_update_then_the_cancellation(
    container: Container, story: tuple[Tribe, UUID, dict[str, list[dict[str, Any]]]], radicale: str
) -> None:
    tribe, meetup_id, letters = story
    calendar = f"{radicale}/alice/meetups/"
    assert httpx.request("MKCOL", f"{radicale}/alice/").status_code == 201
    assert httpx.request("MKCALENDAR", calendar).status_code == 201
    third = tribe.members[2]["email"]
    steps = [
        next(l for l in letters["meetup_invitation"] if l["recipient"] == third),
        next(l for l in letters["meetup_update"] if l["recipient"] == third),
        next(l for l in letters["meetup_cancellation"] if l["recipient"] == third),
    ]
    for letter in steps:
        _, raw, parsed = calendar_of(built(container, letter))
        uid = parsed.vevent.uid.value
        resource = f"{calendar}{UUID(uid.split('@')[0])}.ics"
        stored = httpx.put(resource, content=without_method(raw), headers={"Content-Type": "text/calendar"})
        assert stored.status_code in (201, 204), stored.text
        back = vobject.readOne(httpx.get(resource).text, validate=True).vevent
        assert back.uid.value == uid
        assert back.sequence.value == parsed.vevent.sequence.value
        assert back.status.value == parsed.vevent.status.value
    assert back.status.value == "CANCELLED"
    report = httpx.request(
        "REPORT", calendar, headers={"Depth": "1", "Content-Type": "application/xml"},
        content=b'<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                b'<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR">'
                b'<C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>',
    )
    assert report.status_code == 207
    assert report.text.count("BEGIN:VEVENT") == 1 and "STATUS:CANCELLED" in report.text


def test_a_worker_killed_half_way_through_two_hundred_invitations_loses_none(
    container: Container, worker_app: CookoutCelery, smtp_server: tuple[Inbox, int]  # noqa: F811
) -> None:
    inbox, port = smtp_server
    tribe = Tribe(container, members=0)
    meetup_id = schedule(container, tribe)
    people = []
    for n in range(199):  # and the host, going since they scheduled it: 200 letters
        handle = f"i{uuid4().hex[:12]}"
        people.append(confirm_email(container, container.accounts.sign_up(
            handle, f"Invitee {n}", f"{handle}@example.org", "correct horse battery")))
    settle(container)
    command(container, tribe.organiser["id"], "invite", meetup_id, people)
    settle(container)
    letters = tribe.letters(meetup_id)
    assert len(letters) == 200
    queue = f"kill-test-{uuid4().hex[:8]}"
    env = {**os.environ, "COOKOUT_DATABASE_URL": container.url, "COOKOUT_SMTP_URL": f"smtp://127.0.0.1:{port}",
           "PYTHONUNBUFFERED": "1"}
    worker_command = [sys.executable, "-m", "cookout.platform.cli", "worker", "--concurrency=4", "--queue", queue]
    for letter in letters:
        worker_app.send_task(DELIVER_TASK, args=[letter["key"]], queue=queue)
    first = subprocess.Popen(worker_command, env=env, cwd=Path(__file__).parents[2], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(inbox.messages) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    delivered_by_first = len(inbox.messages)
    assert 0 < delivered_by_first < 200, "the kill must land half-way"

    ours = {letter["key"] for letter in letters}
    pending = [key for key in container.outbox.pending_keys() if key in ours]  # what the outbox sweep re-enqueues
    for key in pending:
        worker_app.send_task(DELIVER_TASK, args=[key], queue=queue)
    second = subprocess.Popen(worker_command, env=env, cwd=Path(__file__).parents[2], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            statuses = Counter(l["status"] for l in tribe.letters(meetup_id))
            if statuses == {"sent": 200}:
                break
            time.sleep(0.1)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=20)
    assert Counter(l["status"] for l in tribe.letters(meetup_id)) == {"sent": 200}
    arrived = Counter(str(m["Message-ID"]) for m in inbox.messages)
    assert set(arrived) == {l["message_id"] for l in letters}
    # Only a letter in flight at the kill (handed to SMTP, not yet marked sent) may arrive twice,
    # with the same Message-ID, which mail clients fold into one.
    assert sum(arrived.values()) - 200 <= 4
