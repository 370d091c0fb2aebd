"""Answers from calendar apps (iTIP REPLY) coming back by email: Gmail's, Outlook's and Apple's shapes,
sent to the organiser address of a real invitation, over the real SMTP inbound server or handed to
`receive`; and the bad input it must survive."""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from string import Template
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from litestar.testing import TestClient

from cookout.domain.schedule import LOCAL_FORMAT, to_local
from cookout.platform.inbound.imap import watch_mailbox
from cookout.platform.inbound.replies import APPLIED, IGNORED, REFUSED, receive
from cookout.platform.inbound.smtp import smtp_server
from cookout.platform.container import Container, bootstrap
from cookout.projections.invitations import Invitations
from cookout.projections.meetups import Meetups
from cookout.projections.outbox import letter_path
from cookout.workers.mail import deliver_letter
from tests.integration.test_meetup_mail import command, schedule
from tests.helpers import post_form
from tests.outage import Outage
from tests.meetup_helpers import Tribe, settle, sign_in

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inbound"


def invitation(container: Container, tribe: Tribe, meetup_id: UUID, member: dict[str, Any]) -> dict[str, Any]:
    """The newest letter the member got about the meetup, delivered as the worker does and read back
    from its .eml file: its ORGANIZER, Reply-To, UID and SEQUENCE."""
    row = [letter for letter in tribe.letters(meetup_id) if letter["recipient"] == member["email"]][-1]
    deliver_letter(container.view(Invitations), container.settings, row["key"])
    message = message_from_bytes(letter_path(container.settings.outbox_dir, row["key"]).read_bytes(),
                                 policy=policy.default)
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    event = Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    return {
        "organizer": str(event["ORGANIZER"]).removeprefix("mailto:"),
        "reply_to": str(message["Reply-To"]),
        "uid": str(event["UID"]),
        "sequence": int(event["SEQUENCE"]),
    }


def reply_text(client: str, invited: dict[str, Any], member: dict[str, Any], partstat: str,
               **overrides: Any) -> str:
    """A calendar app's answer, from the fixture of that app's shape."""
    values = {
        "organizer": invited["organizer"],
        "uid": invited["uid"],
        "sequence": invited["sequence"],
        "attendee": member["email"],
        "name": member["display_name"],
        "partstat": partstat,
        "message_id": f"{uuid4().hex}@mail.example.org",
        **overrides,
    }
    ics = FIXTURES / f"{client}.ics"
    calendar = Template(ics.read_text()).substitute(values) if ics.exists() else ""
    encoded = base64.encodebytes(calendar.replace("\n", "\r\n").encode()).decode()
    return Template((FIXTURES / f"{client}.eml").read_text()).substitute(
        values, calendar=calendar.rstrip("\n"), calendar_base64=encoded.rstrip("\n")
    )


def parsed(text: str) -> EmailMessage:
    return message_from_string(text, policy=policy.default)  # type: ignore[return-value]


def page(client: TestClient[Any], member: dict[str, Any], meetup_id: UUID) -> str:
    sign_in(client, member)
    response = client.get(f"/m/{meetup_id}")
    assert response.status_code == 200
    return response.text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbound(container: Container) -> Iterator[Controller]:
    """The real SMTP inbound server, on a free port of this machine."""
    server = smtp_server(container.settings, partial(receive, container), "127.0.0.1", free_port())
    server.start()
    yield server
    server.stop()


def send(server: Controller, text: str, recipient: str) -> tuple[int, bytes]:
    """What the server said at the end of DATA."""
    with smtplib.SMTP(server.hostname, server.port, timeout=20) as client:
        client.ehlo()
        client.mail("member@example.org")
        code, said = client.rcpt(recipient)
        assert code == 250, said
        return client.data(text)


@pytest.fixture
def tribe(container: Container) -> Tribe:
    return Tribe(container, members=2)


def invited_meetup(container: Container, tribe: Tribe, **changes: Any) -> UUID:
    meetup_id = schedule(container, tribe, **changes)
    command(container, tribe.organiser["id"], "invite", meetup_id,
            [member["id"] for member in tribe.members])
    settle(container)
    return meetup_id


def answer_on_site(client: TestClient[Any], member: dict[str, Any], meetup_id: UUID, answer: str) -> None:
    sign_in(client, member)
    assert post_form(client, f"/m/{meetup_id}/rsvp", {"answer": answer}).status_code == 303


def test_gmail_yes_over_smtp_makes_the_member_going_and_the_same_message_again_changes_nothing(
    container: Container, tribe: Tribe, inbound: Controller, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    assert invited["organizer"].startswith("rsvp+") and invited["reply_to"] == invited["organizer"]
    assert len(invited["organizer"].partition("@")[0]) <= 64
    yes = reply_text("gmail", invited, member, "ACCEPTED")

    assert send(inbound, yes, invited["organizer"]) == (250, b"2.0.0 applied: accepted")
    settle(container)
    assert "You're going." in page(client, member, meetup_id)
    assert send(inbound, yes, invited["organizer"]) == (250, b"2.0.0 duplicate: duplicate")

    answer_on_site(client, member, meetup_id, "not_going")
    settle(container)
    # Saying no on the site took the member out with a higher SEQUENCE, so the old Yes is stale too.
    assert send(inbound, yes, invited["organizer"]) == (250, b"2.0.0 ignored: old-sequence")
    settle(container)
    assert "You're not going." in page(client, member, meetup_id)


def test_outlook_no_without_organizer_frees_the_seat_and_the_waitlisted_member_is_promoted(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe, capacity="2")  # the host's seat and one more
    first, second = tribe.members
    answer_on_site(client, first, meetup_id, "going")
    answer_on_site(client, second, meetup_id, "going")
    settle(container)
    assert "You're on the waitlist" in page(client, second, meetup_id)
    invited = invitation(container, tribe, meetup_id, first)
    no = parsed(reply_text("outlook", invited, first, "DECLINED"))
    assert "ORGANIZER" not in no.get_body(("calendar",)).get_content()

    # Outlook's answer names no ORGANIZER: the address it was delivered to carries the token.
    outcome = receive(container, no, [invited["organizer"]])

    assert outcome.status == APPLIED
    settle(container)
    assert "You're not going." in page(client, first, meetup_id)
    assert "You're going." in page(client, second, meetup_id)


def test_apple_maybe_makes_the_member_maybe(container: Container, tribe: Tribe, client: TestClient[Any]) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)

    outcome = receive(container, parsed(reply_text("apple", invited, member, "TENTATIVE")), [invited["organizer"]])

    assert outcome.status == APPLIED
    settle(container)
    assert "You might come." in page(client, member, meetup_id)


def test_yes_to_a_full_meetup_puts_the_member_on_the_waitlist_and_the_page_says_so(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe, capacity="2")  # the host's seat and one more
    first, second = tribe.members
    answer_on_site(client, first, meetup_id, "going")
    invited = invitation(container, tribe, meetup_id, second)

    outcome = receive(container, parsed(reply_text("gmail", invited, second, "ACCEPTED")), [invited["organizer"]])

    assert outcome.status == APPLIED and "waitlisted" in outcome.detail
    settle(container)
    assert 'You\'re on the waitlist: <strong class="position">number 1</strong>' in page(client, second, meetup_id)


def test_a_session_declined_in_the_calendar_leaves_the_members_agenda(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    meetup = container.view(Meetups).meetup(meetup_id)
    at = [to_local(meetup["starts_at"] + timedelta(hours=h), meetup["timezone"]).strftime(LOCAL_FORMAT) for h in (0, 1)]
    session_id = command(container, tribe.organiser["id"], "add_session", meetup_id,
                         title="Grilling 101", starts_at=at[0], ends_at=at[1])
    answer_on_site(client, member, meetup_id, "going")
    assert post_form(client, f"/m/{meetup_id}/sessions/{session_id}/choose", {}).status_code == 303
    settle(container)
    invited = invitation(container, tribe, meetup_id, member)
    assert invited["uid"] != meetup["uid"]  # the session's own entry

    outcome = receive(container, parsed(reply_text("gmail", invited, member, "DECLINED")), [invited["organizer"]])

    assert outcome.status == APPLIED
    settle(container)
    shown = page(client, member, meetup_id)
    assert "Grilling 101" in shown and "✓ Attending" not in shown
    assert "You're going." in shown


# Bad input


def test_a_forged_token_changes_nothing_and_is_logged_with_its_reason(
    container: Container, tribe: Tribe, client: TestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    local, _, domain = invited["organizer"].partition("@")
    # Not the last character: in base32 its lowest bit is padding, and changing only that forges nothing.
    flipped = local[:-5] + ("a" if local[-5] != "a" else "b") + local[-4:]
    forged = {**invited, "organizer": f"{flipped}@{domain}"}

    with caplog.at_level(logging.WARNING, logger="cookout.inbound"):
        outcome = receive(container, parsed(reply_text("gmail", forged, member, "ACCEPTED")), [forged["organizer"]])

    assert (outcome.status, outcome.reason) == (REFUSED, "forged-token")
    assert "refused (forged-token)" in caplog.text
    settle(container)
    assert "You're invited. Will you come?" in page(client, member, meetup_id)


def test_a_token_for_another_member_changes_nothing(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe)
    first, second = tribe.members
    firsts = invitation(container, tribe, meetup_id, first)

    # The second member answers to the first one's address (a forwarded invitation, say).
    outcome = receive(container, parsed(reply_text("gmail", firsts, second, "DECLINED")), [firsts["organizer"]])

    assert (outcome.status, outcome.reason) == (REFUSED, "attendee-mismatch")
    settle(container)
    assert "You're invited. Will you come?" in page(client, first, meetup_id)
    assert "You're invited. Will you come?" in page(client, second, meetup_id)


def test_a_reply_for_an_unknown_uid_is_refused(container: Container, tribe: Tribe) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = {**invitation(container, tribe, meetup_id, member), "uid": f"{uuid4()}@cookout"}

    outcome = receive(container, parsed(reply_text("gmail", invited, member, "ACCEPTED")), [invited["organizer"]])

    assert (outcome.status, outcome.reason) == (REFUSED, "unknown-uid")


def test_a_ten_megabyte_message_is_refused_by_the_smtp_server(
    container: Container, tribe: Tribe, inbound: Controller
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    huge = reply_text("gmail", invited, member, "ACCEPTED").replace(
        "has accepted this invitation.", "has accepted this invitation.\n" + ("x" * 76 + "\n") * 135_000, 1
    )
    assert len(huge) > 10_000_000

    with smtplib.SMTP(inbound.hostname, inbound.port, timeout=20) as smtp:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("member@example.org", [invited["organizer"]], huge)
    assert refused.value.smtp_code == 552
    settle(container)
    assert container.view(Meetups).state_of(meetup_id, member["id"])["state"] == "invited"


def test_mail_for_anyone_but_an_rsvp_address_of_ours_is_refused_at_rcpt(inbound: Controller) -> None:
    with smtplib.SMTP(inbound.hostname, inbound.port, timeout=20) as smtp:
        smtp.ehlo()
        smtp.mail("spammer@example.net")
        for recipient in ("postmaster@localhost", "rsvp+abc@elsewhere.example", "rsvp+@localhost"):
            code, _ = smtp.rcpt(recipient)
            assert code == 550, recipient


@pytest.mark.parametrize("shape", ["vacation", "bounce"])
def test_auto_replies_and_bounces_are_ignored_and_never_answered(
    container: Container, tribe: Tribe, client: TestClient[Any], shape: str
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    letters = len(tribe.letters(meetup_id))
    # Each carries a REPLY that would count: the vacation responder's own, the one the bounce quotes.
    calendar = Template((FIXTURES / "gmail.ics").read_text()).substitute(
        organizer=invited["organizer"], uid=invited["uid"], sequence=invited["sequence"],
        attendee=member["email"], name=member["display_name"], partstat="ACCEPTED",
    )
    text = Template((FIXTURES / f"{shape}.eml").read_text()).substitute(
        organizer=invited["organizer"], attendee=member["email"], name=member["display_name"],
        message_id=f"{uuid4().hex}@mx.example.org", calendar=calendar.rstrip("\n"),
    )

    outcome = receive(container, parsed(text), [invited["organizer"]])

    assert outcome.status == IGNORED
    settle(container)
    assert len(tribe.letters(meetup_id)) == letters
    assert "You're invited. Will you come?" in page(client, member, meetup_id)


def test_a_reply_with_a_sequence_older_than_the_last_update_sent_is_ignored(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    first = invitation(container, tribe, meetup_id, member)
    meetup = container.view(Meetups).meetup(meetup_id)
    command(container, tribe.organiser["id"], "relocate", meetup_id,
            venue="Tempelhofer Feld", address="Berlin")
    settle(container)
    assert invitation(container, tribe, meetup_id, member)["sequence"] > first["sequence"] == meetup["sequence"]

    outcome = receive(container, parsed(reply_text("gmail", first, member, "ACCEPTED")), [first["organizer"]])

    assert (outcome.status, outcome.reason) == (IGNORED, "old-sequence")
    settle(container)
    assert "You're invited. Will you come?" in page(client, member, meetup_id)


def test_a_malformed_calendar_part_changes_nothing(container: Container, tribe: Tribe, client: TestClient[Any]) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)

    outcome = receive(container, parsed(reply_text("malformed", invited, member, "ACCEPTED")), [invited["organizer"]])

    assert (outcome.status, outcome.reason) == (REFUSED, "malformed-calendar")
    settle(container)
    assert "You're invited. Will you come?" in page(client, member, meetup_id)


def test_a_reply_for_a_cancelled_meetup_is_ignored(container: Container, tribe: Tribe) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    command(container, tribe.organiser["id"], "cancel", meetup_id, message="Rain.")
    settle(container)

    outcome = receive(container, parsed(reply_text("gmail", invited, member, "ACCEPTED")), [invited["organizer"]])

    assert (outcome.status, outcome.reason) == (IGNORED, "cancelled")
    settle(container)
    assert container.view(Meetups).state_of(meetup_id, member["id"])["state"] == "invited"


def test_a_failed_dkim_verdict_from_our_own_mail_server_is_refused(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    strict = container.settings.model_copy(update={"inbound_authserv_id": "mx.cookout.example"})

    def arriving(verdicts: str) -> EmailMessage:
        text = reply_text("gmail", invited, member, "ACCEPTED")
        return parsed(f"Authentication-Results: {verdicts}\n{text}")

    failed = arriving("mx.cookout.example; dkim=fail (bad signature) header.d=example.org; dmarc=fail")
    assert receive(container, failed, [invited["organizer"]], settings=strict).reason == "dkim-fail"
    # Someone else's header is not believed, either way: only our server's verdict counts.
    elsewhere = arriving("mx.attacker.example; dkim=pass header.d=example.org")
    assert receive(container, elsewhere, [invited["organizer"]], settings=strict).status == APPLIED
    settle(container)
    assert "You're going." in page(client, member, meetup_id)


def test_the_smtp_server_answers_4xx_while_the_database_restarts_and_the_retry_is_applied(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    yes = reply_text("gmail", invited, member, "ACCEPTED")
    outage = Outage(container.url)
    through = bootstrap(container.settings, url=outage.url, hasher=container.passwords.hasher)
    server = smtp_server(container.settings, partial(receive, through), "127.0.0.1", free_port())
    server.start()
    try:
        assert through.view(Meetups).entry_by_uid(invited["uid"]) is not None  # connections are open
        outage.down()

        code, said = send(server, yes, invited["organizer"])

        assert code == 451, said
        outage.up = True
        # The sending server tries again later, until it is told the answer was taken.
        answers = [send(server, yes, invited["organizer"])[0] for _ in range(3)]
        assert 250 in answers and set(answers) <= {250, 451}
    finally:
        server.stop()
        through.close()
        outage.close()
    settle(container)
    assert "You're going." in page(client, member, meetup_id)


class Mailbox:
    """An IMAP server's mailbox as IMAPClient shows it: messages by UID, their flags, IDLE."""

    def __init__(self, messages: list[str], stop: threading.Event):
        self.messages = {uid: text.replace("\n", "\r\n").encode() for uid, text in enumerate(messages, 1)}
        self.flags: dict[int, set[bytes]] = {uid: set() for uid in self.messages}
        self.stop = stop
        self.sessions = 0

    def connect(self, host: str, port: int, ssl: bool) -> Mailbox:
        assert (host, port, ssl) == ("mail.example.org", 993, True)
        self.sessions += 1
        return self

    def __enter__(self) -> Mailbox:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def login(self, user: str, password: str) -> None:
        assert (user, password) == ("rsvp", "s3cret/")

    def select_folder(self, folder: str) -> None:
        assert folder == "Calendar answers"

    def capabilities(self) -> tuple[bytes, ...]:
        return (b"IMAP4REV1", b"IDLE")

    def search(self, criteria: list[str]) -> list[int]:
        assert criteria == ["UNSEEN"]
        return [uid for uid, flags in self.flags.items() if b"\\Seen" not in flags]

    def fetch(self, uids: list[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
        if items == ["RFC822.SIZE"]:
            return {uid: {b"RFC822.SIZE": len(self.messages[uid])} for uid in uids}
        assert items == ["BODY.PEEK[]"]
        return {uid: {b"BODY[]": self.messages[uid]} for uid in uids}

    def add_flags(self, uids: list[int], flags: list[bytes]) -> None:
        for uid in uids:
            self.flags[uid].update(flags)

    def idle(self) -> None:
        pass

    def idle_check(self, timeout: float) -> list[Any]:
        self.stop.set()  # one round is enough for a test
        return []

    def idle_done(self) -> None:
        pass


MAILBOX_URL = "imaps://rsvp:s3cret%2F@mail.example.org/Calendar%20answers"


def test_the_mailbox_watcher_applies_unseen_answers_and_marks_every_message_seen(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    stop = threading.Event()
    mailbox = Mailbox([reply_text("outlook", invited, member, "ACCEPTED"),
                       "From: someone@example.net\nSubject: hello\n\nJust saying hi.\n"], stop)

    watch_mailbox(MAILBOX_URL, partial(receive, container), stop, connect=mailbox.connect)

    assert all(b"\\Seen" in flags for flags in mailbox.flags.values())
    settle(container)
    assert "You're going." in page(client, member, meetup_id)


def test_an_answer_the_database_cannot_take_stays_unseen_and_is_applied_after_reconnecting(
    container: Container, tribe: Tribe, client: TestClient[Any]
) -> None:
    meetup_id = invited_meetup(container, tribe)
    member = tribe.members[0]
    invited = invitation(container, tribe, meetup_id, member)
    stop = threading.Event()
    mailbox = Mailbox([reply_text("gmail", invited, member, "DECLINED")], stop)
    seen_when_failing: list[bool] = []

    def database_restarting_once(message: EmailMessage, recipients: list[str]) -> Any:
        if not seen_when_failing:
            seen_when_failing.append(b"\\Seen" in mailbox.flags[1])
            raise psycopg.OperationalError("the database system is shutting down")
        return receive(container, message, recipients)

    watch_mailbox(MAILBOX_URL, database_restarting_once, stop, connect=mailbox.connect)

    assert seen_when_failing == [False] and mailbox.sessions == 2
    assert b"\\Seen" in mailbox.flags[1]
    settle(container)
    assert "You're not going." in page(client, member, meetup_id)
