"""Calendar answers (iTIP REPLY, RFC 5546/6047) that come back by email, applied as the member's own answer.

`receive` takes one parsed email and the addresses it was delivered to, and says what became of it:
applied, a duplicate (same Message-ID), ignored (bounces, auto-replies, an old SEQUENCE, a cancelled
or past meetup) or refused (a token that is forged or names someone else, a failed DKIM/DMARC
verdict). Nothing changes unless every check passes, and nothing is ever sent back, so two robots
cannot answer each other forever. An error reaching the database propagates: the transport then asks
the sender to try again rather than accept and lose the answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any
from uuid import UUID

from icalendar import Calendar

from cookout.domain.base import acting_as, serving_request
from cookout.domain.errors import DomainError
from cookout.domain.meetups import GOING, MAYBE, NOT_GOING
from cookout.platform.links import read_rsvp_address
from cookout.platform.logs import request_id_from
from cookout.platform.container import Container
from cookout.platform.metrics import INBOUND_REPLIES
from cookout.platform.settings import Settings
from cookout.projections.invitations import Invitations
from cookout.projections.meetups import Meetups
from cookout.projections.members import MemberDirectory

log = logging.getLogger("cookout.inbound")

MAX_BYTES = 1_000_000  # a whole message; calendar answers are a few kilobytes
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
ANSWERS = {"ACCEPTED": GOING, "TENTATIVE": MAYBE, "DECLINED": NOT_GOING}

APPLIED, DUPLICATE, IGNORED, REFUSED = "applied", "duplicate", "ignored", "refused"


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str  # a short code, for the log and the SMTP answer
    detail: str = ""


class Rejected(Exception):
    """This message changes nothing; `outcome` says why."""

    def __init__(self, status: str, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.outcome = Outcome(status, reason, detail)


@dataclass(frozen=True)
class Reply:
    uid: str
    sequence: int
    attendees: dict[str, str]  # bare address, lower case → PARTSTAT
    organiser: str


def receive(container: Container, message: EmailMessage, recipients: list[str], now: datetime | None = None,
            settings: Settings | None = None) -> Outcome:
    """Apply one email's calendar answer, or say why not (and log it). `recipients`: where it was delivered.
    Each answer is a request of its own: its log line and the events it records share a new request id."""
    with serving_request(request_id_from(None)):
        try:
            outcome = _receive(container, settings or container.settings, message, recipients,
                               now or datetime.now(UTC))
        except Rejected as rejected:
            outcome = rejected.outcome
        INBOUND_REPLIES.labels(outcome.status, outcome.reason).inc()
        level = logging.WARNING if outcome.status == REFUSED else logging.INFO
        log.log(level, "calendar answer %s (%s): %s; Message-ID %r", outcome.status, outcome.reason,
                outcome.detail, message.get("Message-ID", "(none)"))
    return outcome


def _receive(container: Container, settings: Settings, message: EmailMessage, recipients: list[str],
             now: datetime) -> Outcome:
    check_not_automatic(message)
    check_authentication(message, settings.inbound_authserv_id)
    reply = read_reply(message)
    # Outlook's answer names no ORGANIZER: then the address it was delivered to carries the token.
    tokens = (read_rsvp_address(settings, address) for address in [reply.organiser, *recipients])
    token = next((found for found in tokens if found is not None), None)
    if token is None:
        raise Rejected(REFUSED, "no-token", "neither ORGANIZER nor the recipient is an rsvp+ address of ours")
    entry = container.view(Meetups).entry_by_uid(reply.uid)
    if entry is None:
        raise Rejected(REFUSED, "unknown-uid", f"no meetup or session has UID {reply.uid!r}")
    if not token.is_for(settings, reply.uid):
        raise Rejected(REFUSED, "forged-token", f"the token was not made for UID {reply.uid!r}")
    member = container.view(MemberDirectory).by_id(token.member_id)
    if member is None:
        raise Rejected(REFUSED, "unknown-member", f"no member {token.member_id}")
    partstat = reply.attendees.get(member["email"].lower())
    if partstat is None:
        raise Rejected(REFUSED, "attendee-mismatch",
                       f"the token is member {member['id']}'s; ATTENDEE is {', '.join(reply.attendees)}")
    if partstat not in ANSWERS:
        raise Rejected(IGNORED, "partstat", f"PARTSTAT {partstat} is no answer")
    check_still_on(container.view(Meetups).meetup(entry["meetup_id"]), now)
    last = container.view(Invitations).last_sequence_sent(entry["meetup_id"], member["id"], reply.uid)
    if last is not None and reply.sequence < last:
        raise Rejected(IGNORED, "old-sequence", f"SEQUENCE {reply.sequence}, and we last sent {last}")
    return apply_reply(container, entry["meetup_id"], entry["session_id"], member["id"], partstat,
                       claim_key(message, member["id"]), now)


def apply_reply(container: Container, meetup_id: UUID, session_id: UUID | None, member_id: UUID, partstat: str,
                key: str, now: datetime) -> Outcome:
    """The one place a calendar answer meets Meetings: a command acting as the member, which claims the
    message's key in the same save, so a second delivery of the same message changes nothing."""
    meetings = container.meetings
    meetup = meetings.get(meetup_id)
    check_still_on({"id": meetup.id, "cancelled": meetup.cancelled, "ends_at": meetup.ends_at}, now)
    try:
        with acting_as(member_id):
            where = meetings.answer_from_calendar(meetup_id, session_id, ANSWERS[partstat], key, now=now)
    except DomainError as error:
        raise Rejected(REFUSED, "not-allowed", str(error)) from None
    if where is None:
        return Outcome(DUPLICATE, "duplicate", "this message was applied before")
    return Outcome(APPLIED, partstat.lower(), f"member {member_id} is {where} at meetup {meetup_id}")


def check_still_on(meetup: dict[str, Any] | None, now: datetime) -> None:
    """Answers to a cancelled or past meetup are ignored: the calendar that sent one is out of date."""
    if meetup is None:
        return  # not in the view yet: the aggregate's own state decides when the answer is applied
    if meetup["cancelled"]:
        raise Rejected(IGNORED, "cancelled", "the meetup was cancelled")
    if meetup["ends_at"] <= now:
        raise Rejected(IGNORED, "past", "the meetup is over")


def claim_key(message: EmailMessage, member_id: UUID) -> str:
    """What makes a message the same message (from this member): its Message-ID, or failing that its bytes."""
    message_id = str(message.get("Message-ID", "")).strip()
    seed = message_id.encode() if message_id else message.as_bytes()
    return f"calendar-reply:{member_id}:{hashlib.sha256(seed).hexdigest()}"


def check_not_automatic(message: EmailMessage) -> None:
    """Bounces and auto-replies (RFC 3834) are never answers, and are never answered."""
    submitted = str(message.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    if submitted != "no":
        raise Rejected(IGNORED, "auto-submitted", f"Auto-Submitted: {submitted}")
    if message.get_content_type() == "multipart/report":
        raise Rejected(IGNORED, "report", "a delivery or disposition report")


def check_authentication(message: EmailMessage, authserv_id: str | None) -> None:
    """Believe only our own mail server's Authentication-Results (RFC 8601); refuse its failed verdicts."""
    if not authserv_id:
        return
    for header in message.get_all("Authentication-Results", []):
        server, _, results = str(header).partition(";")
        if not server.split() or server.split()[0].lower() != authserv_id.lower():
            continue
        results = re.sub(r"\([^)]*\)", "", results)  # comments may say anything
        for method, verdict in re.findall(r"\b(dkim|dmarc)\s*=\s*([a-z]+)", results, re.IGNORECASE):
            if verdict.lower() in {"fail", "permerror"}:
                raise Rejected(REFUSED, f"{method.lower()}-{verdict.lower()}", str(header))


def read_reply(message: EmailMessage) -> Reply:
    """The first calendar part that holds a METHOD:REPLY VEVENT."""
    malformed = ""
    for part in calendar_parts(message):
        data = part.get_payload(decode=True) or b""
        if len(data) > MAX_BYTES:
            raise Rejected(REFUSED, "too-large", f"a calendar part of {len(data)} bytes")
        try:
            calendar = Calendar.from_ical(data.decode(part.get_content_charset() or "utf-8", errors="replace"))
            reply = _reply_of(calendar)
        except (ValueError, KeyError, TypeError, LookupError) as error:
            malformed = f"{type(error).__name__}: {error}"[:200]
            continue
        if reply is not None:
            return reply
    if malformed:
        raise Rejected(REFUSED, "malformed-calendar", malformed)
    raise Rejected(IGNORED, "no-reply", "no text/calendar part with METHOD:REPLY")


def _reply_of(calendar: Calendar) -> Reply | None:
    if str(calendar.get("METHOD", "")).upper() != "REPLY":
        return None
    events = calendar.walk("VEVENT")
    if not events:
        raise ValueError("a REPLY without a VEVENT")
    event = events[0]
    uid = str(event.get("UID", "")).strip()
    if not uid:
        raise ValueError("a VEVENT without a UID")
    found = event.get("ATTENDEE", [])
    attendees = {}
    for attendee in found if isinstance(found, list) else [found]:
        address = str(attendee).strip()
        address = address[len("mailto:"):] if address.lower().startswith("mailto:") else address
        attendees[address.lower()] = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    if not attendees:
        raise ValueError("a REPLY without an ATTENDEE")
    return Reply(uid=uid, sequence=int(event.get("SEQUENCE", 0)), attendees=attendees,
                 organiser=str(event.get("ORGANIZER", "")))


def calendar_parts(message: EmailMessage) -> Iterator[EmailMessage]:
    """Calendar parts of the message itself, not of a message it quotes (a bounce carries our invitation)."""
    pending = [message]
    while pending:
        part = pending.pop(0)
        if part.get_content_maintype() == "message":
            continue
        if part.is_multipart():
            pending[0:0] = list(part.iter_parts())
        elif part.get_content_type() in CALENDAR_TYPES or (part.get_filename() or "").lower().endswith(".ics"):
            yield part


def delivered_to(message: EmailMessage) -> list[str]:
    """Where a message fetched from a mailbox was addressed (a mailbox keeps no envelope)."""
    headers = ("Delivered-To", "X-Original-To", "To", "Cc")
    return [address for _, address in getaddresses([str(v) for h in headers for v in message.get_all(h, [])])]
