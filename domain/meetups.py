"""The Meetup aggregate: a tribe meeting in real life, its agenda, who comes, and who showed up.

Every change that a calendar must hear about (time, place, a session, a cancellation) raises
`sequence`, and every event carries what a dispatcher needs to tell people about it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from eventsourcing.domain import event

from cookout.domain.base import CookoutAggregate
from cookout.domain.errors import Conflict, InvalidInput, NotAllowedNow, NotFound
from cookout.domain.schedule import Window
from cookout.domain.text import clean_int, clean_text

INVITED = "invited"
GOING = "going"
MAYBE = "maybe"
NOT_GOING = "not_going"
WAITLISTED = "waitlisted"
ANSWERS = (GOING, MAYBE, NOT_GOING)

# An invitation puts the meetup in a member's calendar and "maybe" keeps it there (tentative);
# the waitlisted get an entry once promoted.
HOLDS_ENTRY = frozenset({INVITED, GOING, MAYBE})
PARTSTAT = {INVITED: "NEEDS-ACTION", GOING: "ACCEPTED", MAYBE: "TENTATIVE", NOT_GOING: "DECLINED"}
CAN_CHOOSE_SESSIONS = frozenset({GOING, MAYBE, WAITLISTED})
# "Met in real life" is a trust signal: only someone who said they might come can have been there.
CAN_CHECK_IN = frozenset({GOING, MAYBE, WAITLISTED})

CHECK_IN_OPENS = timedelta(hours=1)
CHECK_IN_CLOSES = timedelta(hours=6)
CHECK_IN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LINK_OUT_OF_DATE = "This link was already used or is out of date; open the meetup to change your answer."


@dataclass(frozen=True)
class Place:
    venue: str = ""
    address: str = ""
    online_url: str = ""


@dataclass(frozen=True)
class Session:
    id: UUID
    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str
    speaker: str
    sequence: int = 0


def new_uid() -> str:
    return f"{uuid4()}@cookout"


def new_check_in_code() -> str:
    return "".join(secrets.choice(CHECK_IN_ALPHABET) for _ in range(6))


def calendar_change(previous: str | None, current: str | None) -> str | None:
    """What a member's calendar needs after their state moved: "request", "cancel" or nothing."""
    if current in HOLDS_ENTRY and current != previous:
        return "request"
    if previous in HOLDS_ENTRY and current not in HOLDS_ENTRY:
        return "cancel"
    return None


class Meetup(CookoutAggregate):
    @classmethod
    def schedule(
        cls,
        *,
        tribe_id: UUID,
        title: str,
        description: str,
        window: Window,
        place: Place,
        capacity: int | None,
        rsvp_deadline: datetime | None,
        now: datetime,
    ) -> Meetup:
        title, description = clean_title(title), clean_description(description)
        capacity, place = clean_capacity(capacity), clean_place(place)
        check_starts_in_future(window, now)
        check_deadline(rsvp_deadline, window)
        return cls(
            tribe_id=tribe_id,
            title=title,
            description=description,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            timezone=window.timezone,
            venue=place.venue,
            address=place.address,
            online_url=place.online_url,
            capacity=capacity,
            rsvp_deadline=rsvp_deadline,
            uid=new_uid(),
            check_in_code=new_check_in_code(),
        )

    # Title, description, time or place changed since the last `Revised` (class default: meetups
    # recorded before there was a `Revised` event, and their snapshots, have announced everything).
    unannounced = False

    class Snapshot(CookoutAggregate.Snapshot):
        """JSON objects have only string keys, so the maps keyed by member or session id are
        stored as lists of pairs and rebuilt when the meetup is reconstructed."""

        KEYED_BY_ID = ("attendance", "answered_at", "sessions", "choices")

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            snapshot = super().take(aggregate)
            state = dict(snapshot.state)
            for name in cls.KEYED_BY_ID:
                state[name] = [[key, value] for key, value in state[name].items()]
            return replace(snapshot, state=state)

        def mutate(self, _: None) -> Any:
            meetup = super().mutate(_)
            for name in self.KEYED_BY_ID:
                # Snapshots taken before `answered_at` existed lack it; an empty map accepts their links.
                meetup.__dict__[name] = {key: value for key, value in meetup.__dict__.get(name, [])}
            return meetup

    @event("Scheduled")
    def __init__(
        self,
        tribe_id: UUID,
        title: str,
        description: str,
        starts_at: datetime,
        ends_at: datetime,
        timezone: str,
        venue: str,
        address: str,
        online_url: str,
        capacity: int | None,
        rsvp_deadline: datetime | None,
        uid: str,
        check_in_code: str,
    ):
        self.tribe_id = tribe_id
        self.title = title
        self.description = description
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.timezone = timezone
        self.place = Place(venue, address, online_url)
        self.capacity = capacity
        self.rsvp_deadline = rsvp_deadline
        self.uid = uid
        self.check_in_code = check_in_code
        self.sequence = 0
        self.cancelled = False
        self.cancel_message = ""
        self.attendance: dict[UUID, str] = {}
        # The version of the event that last set each member's state: a letter's link names the
        # version it was made at, and goes stale once the member's state moved after it.
        self.answered_at: dict[UUID, int] = {}
        self.waitlist: list[UUID] = []
        self.checked_in: list[UUID] = []
        self.sessions: dict[UUID, Session] = {}
        self.choices: dict[UUID, list[UUID]] = {}

    # Reading

    def state_of(self, member_id: UUID) -> str | None:
        return self.attendance.get(member_id)

    def calendar_holders(self) -> list[UUID]:
        """Who must receive an update or a cancellation of the whole meetup."""
        return [m for m, state in self.attendance.items() if state in HOLDS_ENTRY]

    @property
    def going(self) -> list[UUID]:
        return [m for m, state in self.attendance.items() if state == GOING]

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - len(self.going), 0)

    def waitlist_position(self, member_id: UUID) -> int | None:
        return self.waitlist.index(member_id) + 1 if member_id in self.waitlist else None

    def session_attendees(self, session_id: UUID) -> list[UUID]:
        return [
            m
            for m, chosen in self.choices.items()
            if session_id in chosen and self.attendance.get(m) in CAN_CHOOSE_SESSIONS
        ]

    def met_pairs(self) -> list[tuple[UUID, UUID]]:
        return list(combinations(self.checked_in, 2))

    def is_over(self, now: datetime) -> bool:
        return now >= self.ends_at

    # Guards

    def check_changeable(self, now: datetime) -> None:
        if self.cancelled:
            raise NotAllowedNow("This meetup was cancelled.")
        if self.is_over(now):
            raise NotAllowedNow("This meetup is over.")

    def check_open_for_answers(self, now: datetime) -> None:
        self.check_changeable(now)
        if self.rsvp_deadline is not None and now > self.rsvp_deadline:
            raise NotAllowedNow("Answers closed at the RSVP deadline.")

    def check_check_in_open(self, now: datetime) -> None:
        if self.cancelled:
            raise NotAllowedNow("This meetup was cancelled.")
        if now < self.starts_at - CHECK_IN_OPENS:
            raise NotAllowedNow("Check-in opens an hour before the start.")
        if now > self.ends_at + CHECK_IN_CLOSES:
            raise NotAllowedNow("Check-in has closed.")

    def check_session(self, session_id: UUID) -> Session:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise NotFound("No such session.") from None

    def check_within(self, window: Window) -> None:
        if window.starts_at < self.starts_at or window.ends_at > self.ends_at:
            raise InvalidInput("A session must happen during the meetup.", field="starts_at")

    # Organisers' commands

    def edit_details(
        self,
        *,
        title: str,
        description: str,
        capacity: int | None,
        rsvp_deadline: datetime | None,
        now: datetime,
    ) -> None:
        self.check_changeable(now)
        title, description = clean_title(title), clean_description(description)
        capacity = clean_capacity(capacity)
        check_deadline(rsvp_deadline, Window(self.starts_at, self.ends_at, self.timezone))
        if capacity is not None and capacity < len(self.going):
            raise Conflict(
                f"{len(self.going)} people are already going; the capacity can't be lower.",
                field="capacity",
            )
        unchanged = (self.title, self.description, self.capacity, self.rsvp_deadline)
        if (title, description, capacity, rsvp_deadline) == unchanged:
            return
        self._edit_details(
            title=title, description=description, capacity=capacity, rsvp_deadline=rsvp_deadline
        )
        self._promote_waitlisted()

    @event("DetailsEdited")
    def _edit_details(
        self, title: str, description: str, capacity: int | None, rsvp_deadline: datetime | None
    ) -> None:
        if (title, description) != (self.title, self.description):
            self.unannounced = True
        self.title = title
        self.description = description
        self.capacity = capacity
        self.rsvp_deadline = rsvp_deadline

    def reschedule(self, window: Window, now: datetime) -> None:
        self.check_changeable(now)
        check_starts_in_future(window, now)
        if self.rsvp_deadline is not None and window.starts_at < self.rsvp_deadline:
            raise InvalidInput(
                "The new start is before the RSVP deadline; move the deadline first.",
                field="starts_at",
            )
        if (window.starts_at, window.ends_at, window.timezone) == (
            self.starts_at,
            self.ends_at,
            self.timezone,
        ):
            return
        # The agenda moves with the meetup, by the same offset, in the same save.
        offset = window.starts_at - self.starts_at
        shifted = {s.id: (s.starts_at + offset, s.ends_at + offset) for s in self.sessions.values()}
        for session_id, (starts_at, ends_at) in shifted.items():
            if starts_at < window.starts_at or ends_at > window.ends_at:
                title = self.sessions[session_id].title
                raise InvalidInput(
                    f"Moved with the meetup, the session “{title}” would fall outside its new time; "
                    "edit or remove that session first.",
                    field="ends_at",
                )
        self._reschedule(
            old_starts_at=self.starts_at,
            old_ends_at=self.ends_at,
            old_timezone=self.timezone,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            timezone=window.timezone,
            sequence=self.sequence + 1,
        )
        for session_id, (starts_at, ends_at) in shifted.items():
            if offset:
                self._shift_session(
                    session_id=session_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    sequence=self.sessions[session_id].sequence + 1,
                )

    @event("Rescheduled")
    def _reschedule(
        self,
        old_starts_at: datetime,
        old_ends_at: datetime,
        old_timezone: str,
        starts_at: datetime,
        ends_at: datetime,
        timezone: str,
        sequence: int,
    ) -> None:
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.timezone = timezone
        self.sequence = sequence
        self.unannounced = True

    def relocate(self, place: Place, now: datetime) -> None:
        self.check_changeable(now)
        place = clean_place(place)
        if place == self.place:
            return
        self._relocate(
            old_venue=self.place.venue,
            old_address=self.place.address,
            old_online_url=self.place.online_url,
            venue=place.venue,
            address=place.address,
            online_url=place.online_url,
            sequence=self.sequence + 1,
        )

    @event("Relocated")
    def _relocate(
        self,
        old_venue: str,
        old_address: str,
        old_online_url: str,
        venue: str,
        address: str,
        online_url: str,
        sequence: int,
    ) -> None:
        self.place = Place(venue, address, online_url)
        self.sequence = sequence
        self.unannounced = True

    def announce_changes(self) -> None:
        """End of an organiser's save: if what a calendar shows changed, one `Revised` says so, so the
        attendees get one update carrying the whole new state however many fields moved."""
        if self.unannounced:
            self._announce(sequence=self.sequence)

    @event("Revised")
    def _announce(self, sequence: int) -> None:
        self.unannounced = False

    def cancel(self, message: str, now: datetime) -> None:
        self.check_changeable(now)
        message = clean_lines(message, "message", "The message", minimum=0, maximum=2000)
        self._cancel(message=message, sequence=self.sequence + 1)

    @event("Cancelled")
    def _cancel(self, message: str, sequence: int) -> None:
        self.cancelled = True
        self.cancel_message = message
        self.sequence = sequence

    def welcome_host(self, member_id: UUID) -> None:
        """The organiser who scheduled the meetup is going to it: they take a seat as an answer "going"
        would, whatever RSVP deadline they set for the others."""
        if member_id in self.attendance:
            return
        if self.seats_left == 0:
            self._wait(member_id=member_id, previous=None, position=len(self.waitlist) + 1)
        else:
            self._go(member_id=member_id, previous=None)

    def _mark_answered(self, member_id: UUID) -> None:
        # Called inside an event's mutation, before the aggregate's version moves on to it.
        self.answered_at[member_id] = self.version + 1

    def invite(self, member_ids: list[UUID], now: datetime) -> list[UUID]:
        """Invite those who hold no invitation and have not answered; returns them."""
        self.check_changeable(now)
        new = [m for m in dict.fromkeys(member_ids) if m not in self.attendance]
        if new:
            self._invite(member_ids=new)
        return new

    @event("MembersInvited")
    def _invite(self, member_ids: list[UUID]) -> None:
        for member_id in member_ids:
            self.attendance[member_id] = INVITED
            self._mark_answered(member_id)

    # Agenda

    def add_session(
        self, *, title: str, window: Window, room: str, speaker: str, now: datetime
    ) -> UUID:
        self.check_changeable(now)
        title, room, speaker = clean_session_fields(title, room, speaker)
        self.check_within(window)
        session_id = uuid4()
        self._add_session(
            session_id=session_id,
            uid=new_uid(),
            title=title,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            room=room,
            speaker=speaker,
        )
        return session_id

    @event("SessionAdded")
    def _add_session(
        self,
        session_id: UUID,
        uid: str,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        room: str,
        speaker: str,
    ) -> None:
        self.sessions[session_id] = Session(
            session_id, uid, title, starts_at, ends_at, room, speaker
        )

    def edit_session(
        self,
        session_id: UUID,
        *,
        title: str,
        window: Window,
        room: str,
        speaker: str,
        now: datetime,
    ) -> None:
        self.check_changeable(now)
        session = self.check_session(session_id)
        title, room, speaker = clean_session_fields(title, room, speaker)
        self.check_within(window)
        moved = (window.starts_at, window.ends_at, room) != (
            session.starts_at,
            session.ends_at,
            session.room,
        )
        if not moved and (title, speaker) == (session.title, session.speaker):
            return
        self._edit_session(
            session_id=session_id,
            title=title,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            room=room,
            speaker=speaker,
            old_starts_at=session.starts_at,
            old_ends_at=session.ends_at,
            old_room=session.room,
            sequence=session.sequence + 1 if moved else session.sequence,
        )

    @event("SessionEdited")
    def _edit_session(
        self,
        session_id: UUID,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        room: str,
        speaker: str,
        old_starts_at: datetime,
        old_ends_at: datetime,
        old_room: str,
        sequence: int,
    ) -> None:
        self.sessions[session_id] = replace(
            self.sessions[session_id],
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            room=room,
            speaker=speaker,
            sequence=sequence,
        )

    @event("SessionShifted")
    def _shift_session(self, session_id: UUID, starts_at: datetime, ends_at: datetime, sequence: int) -> None:
        """The session moved with its meetup; the meetup's `Revised` tells those who hold it."""
        self.sessions[session_id] = replace(
            self.sessions[session_id], starts_at=starts_at, ends_at=ends_at, sequence=sequence
        )

    def remove_session(self, session_id: UUID, now: datetime) -> None:
        self.check_changeable(now)
        session = self.check_session(session_id)
        self._remove_session(session_id=session_id, uid=session.uid, sequence=session.sequence + 1)

    @event("SessionRemoved")
    def _remove_session(self, session_id: UUID, uid: str, sequence: int) -> None:
        del self.sessions[session_id]
        for chosen in self.choices.values():
            if session_id in chosen:
                chosen.remove(session_id)

    # Members' commands

    def answer(self, member_id: UUID, answer: str, now: datetime) -> None:
        if answer not in ANSWERS:
            raise InvalidInput("Answer going, maybe or not going.", field="answer")
        self.check_open_for_answers(now)
        previous = self.attendance.get(member_id)
        if answer == GOING:
            if previous in (GOING, WAITLISTED):
                return
            if self.seats_left == 0:
                self._wait(member_id=member_id, previous=previous, position=len(self.waitlist) + 1)
            else:
                self._go(member_id=member_id, previous=previous)
        elif previous == answer:
            return
        elif previous in (GOING, WAITLISTED):
            self._withdraw(member_id=member_id, previous=previous, answer=answer)
            self._promote_waitlisted()
        elif answer == MAYBE:
            self._answer_maybe(member_id=member_id, previous=previous)
        else:
            self._decline(member_id=member_id, previous=previous)

    class MemberWentGoing(CookoutAggregate.Event):
        member_id: UUID
        previous: str | None

    class MemberWaitlisted(CookoutAggregate.Event):
        member_id: UUID
        previous: str | None
        position: int

    class MemberAnsweredMaybe(CookoutAggregate.Event):
        member_id: UUID
        previous: str | None

    class MemberDeclined(CookoutAggregate.Event):
        member_id: UUID
        previous: str | None

    class MemberWithdrew(CookoutAggregate.Event):
        """A going or waitlisted member now answers maybe or not going."""

        member_id: UUID
        previous: str
        answer: str

    class WaitlistedMemberPromoted(CookoutAggregate.Event):
        member_id: UUID

    @event(MemberWentGoing)
    def _go(self, member_id: UUID, previous: str | None) -> None:
        self.attendance[member_id] = GOING
        self._mark_answered(member_id)

    @event(MemberWaitlisted)
    def _wait(self, member_id: UUID, previous: str | None, position: int) -> None:
        self.attendance[member_id] = WAITLISTED
        self.waitlist.append(member_id)
        self._mark_answered(member_id)

    @event(MemberAnsweredMaybe)
    def _answer_maybe(self, member_id: UUID, previous: str | None) -> None:
        self.attendance[member_id] = MAYBE
        self._mark_answered(member_id)

    @event(MemberDeclined)
    def _decline(self, member_id: UUID, previous: str | None) -> None:
        self.attendance[member_id] = NOT_GOING
        self._mark_answered(member_id)

    @event(MemberWithdrew)
    def _withdraw(self, member_id: UUID, previous: str, answer: str) -> None:
        self.attendance[member_id] = answer
        if member_id in self.waitlist:
            self.waitlist.remove(member_id)
        self._mark_answered(member_id)

    def _promote_waitlisted(self) -> None:
        while self.waitlist and self.seats_left != 0:
            self._promote(member_id=self.waitlist[0])

    @event(WaitlistedMemberPromoted)
    def _promote(self, member_id: UUID) -> None:
        self.waitlist.remove(member_id)
        self.attendance[member_id] = GOING
        self._mark_answered(member_id)

    def cant_make_it(self, member_id: UUID, since: int, now: datetime) -> None:
        """The one-click "can't make it" of a letter made at version `since`: it works once, and
        not at all after the member's answer changed since that letter."""
        self.check_open_for_answers(now)
        coming = self.attendance.get(member_id) in (*HOLDS_ENTRY, WAITLISTED)
        if not coming or self.answered_at.get(member_id, 0) > since:
            raise NotAllowedNow(LINK_OUT_OF_DATE)
        self.answer(member_id, NOT_GOING, now)

    def choose_session(self, member_id: UUID, session_id: UUID, now: datetime) -> None:
        self.check_changeable(now)
        self.check_session(session_id)
        if self.attendance.get(member_id) not in CAN_CHOOSE_SESSIONS:
            raise NotAllowedNow("Say you're coming before choosing sessions.")
        if session_id not in self.choices.get(member_id, []):
            self._choose_session(member_id=member_id, session_id=session_id)

    @event("SessionChosen")
    def _choose_session(self, member_id: UUID, session_id: UUID) -> None:
        self.choices.setdefault(member_id, []).append(session_id)

    def drop_session(self, member_id: UUID, session_id: UUID, now: datetime) -> None:
        self.check_changeable(now)
        self.check_session(session_id)
        if session_id in self.choices.get(member_id, []):
            self._drop_session(member_id=member_id, session_id=session_id)

    @event("SessionDropped")
    def _drop_session(self, member_id: UUID, session_id: UUID) -> None:
        self.choices[member_id].remove(session_id)

    # Check-in

    def check_answered_coming(self, member_id: UUID, message: str) -> None:
        if self.attendance.get(member_id) not in CAN_CHECK_IN:
            raise NotAllowedNow(message, field="member_id")

    def check_in(self, member_id: UUID, now: datetime) -> None:
        self.check_check_in_open(now)
        self.check_answered_coming(
            member_id, "Only people who answered going or maybe, or are on the waitlist, can be checked in."
        )
        if member_id not in self.checked_in:
            self._check_in(member_id=member_id)

    def check_in_with_code(self, member_id: UUID, code: str, now: datetime) -> None:
        self.check_check_in_open(now)
        self.check_answered_coming(member_id, "Answer going or maybe first; then check in with the code.")
        code = clean_text(code, "code", one_line=True, max_length=20, what="The code")
        if not secrets.compare_digest(code.upper().encode(), self.check_in_code.encode()):
            raise InvalidInput("That code is not the one the organiser shows.", field="code")
        self.check_in(member_id, now)

    @event("MemberCheckedIn")
    def _check_in(self, member_id: UUID) -> None:
        self.checked_in.append(member_id)


def clean_lines(value: str, field: str, what: str, minimum: int, maximum: int) -> str:
    text = clean_text(value, field, one_line=False, what=what)
    check_length(text, field, what, minimum, maximum)
    return text


def clean_line(value: str, field: str, what: str, minimum: int, maximum: int) -> str:
    text = clean_text(value, field, one_line=True, what=what)
    check_length(text, field, what, minimum, maximum)
    return text


def check_length(value: str, field: str, what: str, minimum: int, maximum: int) -> None:
    if len(value) < minimum:
        raise InvalidInput(f"{what} is missing.", field=field)
    if len(value) > maximum:
        raise InvalidInput(f"{what} can't be longer than {maximum:,} characters.", field=field)


def clean_title(title: str) -> str:
    return clean_line(title, "title", "The title", 1, 200)


def clean_description(description: str) -> str:
    return clean_lines(description, "description", "The description", 0, 10_000)


def clean_capacity(capacity: int | None) -> int | None:
    if capacity is None:
        return None
    return clean_int(capacity, "capacity", minimum=1, what="The capacity")


def clean_place(place: Place) -> Place:
    venue = clean_line(place.venue, "venue", "The venue's name", 0, 200)
    address = clean_lines(place.address, "address", "The address", 0, 500)
    url = clean_line(place.online_url, "online_url", "The link", 0, 2000)
    if venue or address:
        check_length(venue, "venue", "The venue's name", 1, 200)
        check_length(address, "address", "The address", 1, 500)
    if url:
        try:
            parts = urlsplit(url)
            web = parts.scheme in ("http", "https") and bool(parts.netloc)
        except ValueError:  # such as an unbalanced "[" in the host
            web = False
        if not web or any(c.isspace() for c in url):
            raise InvalidInput("The link must start with https:// or http://.", field="online_url")
    elif not venue:
        raise InvalidInput("Say where: a venue and its address, or a link.", field="venue")
    return Place(venue, address, url)


def check_starts_in_future(window: Window, now: datetime) -> None:
    if window.starts_at <= now:
        raise InvalidInput("The start must be in the future.", field="starts_at")


def check_deadline(rsvp_deadline: datetime | None, window: Window) -> None:
    if rsvp_deadline is not None and rsvp_deadline > window.starts_at:
        raise InvalidInput("The RSVP deadline can't be after the start.", field="rsvp_deadline")


def clean_session_fields(title: str, room: str, speaker: str) -> tuple[str, str, str]:
    return (
        clean_line(title, "title", "The session's title", 1, 200),
        clean_line(room, "room", "The room", 0, 200),
        clean_line(speaker, "speaker", "The speaker", 0, 200),
    )
