"""The Meetings service: scheduling meetups, answering, agendas and check-in.

Roles come from the `Roles` given at construction (by default the Tribe aggregates in the
same store); the service asks about the meetup's own tribe, so a role in one tribe never
opens another's meetups. The commands on one meetup go through the `Turnstile` given at
construction one at a time, so a rush of answers queues instead of racing for the meetup's
stream; a command still retries when a concurrent save got there first. Answers from the page
queue in this process and pass the turnstile in batches (domain/groupcommit.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import JSONTranscoder, Transcoding

from cookout.domain.base import CookoutApplication, Index, index_id
from cookout.domain.errors import Forbidden, NotAllowedNow, NotFound
from cookout.domain.groupcommit import GroupCommit
from cookout.domain.meetups import GOING, MAYBE, NOT_GOING, WAITLISTED, Meetup, Place, Session
from cookout.domain.schedule import parse_local, parse_window, zone
from cookout.domain.service import Roles, ThreadTurnstile, TribeRoles, Turnstile, command

ORGANISER = "organiser"
# Answers reload the meetup; a snapshot every so many events keeps that from growing with its history.
SNAPSHOT_INTERVAL = 50

T = TypeVar("T")


def one_at_a_time(method: Callable[..., T]) -> Callable[..., T]:
    """Runs the command alone among the commands on its meetup (the argument after the member)."""

    @functools.wraps(method)
    def run(self: Meetings, member: Any, meetup_id: UUID, *args: Any, **kwargs: Any) -> T:
        with self.turnstile.one_at_a_time(meetup_id):
            return method(self, member, meetup_id, *args, **kwargs)

    return run


class PlaceAsDict(Transcoding):
    type = Place
    name = "meetup_place"

    def encode(self, obj: Place) -> dict[str, str]:
        return {"venue": obj.venue, "address": obj.address, "online_url": obj.online_url}

    def decode(self, data: dict[str, str]) -> Place:
        return Place(**data)


class SessionAsDict(Transcoding):
    type = Session
    name = "meetup_session"

    def encode(self, obj: Session) -> dict[str, Any]:
        return {
            "id": obj.id,
            "uid": obj.uid,
            "title": obj.title,
            "starts_at": obj.starts_at,
            "ends_at": obj.ends_at,
            "room": obj.room,
            "speaker": obj.speaker,
            "sequence": obj.sequence,
        }

    def decode(self, data: dict[str, Any]) -> Session:
        return Session(**data)


class Meetings(CookoutApplication):
    snapshotting_intervals = {Meetup: SNAPSHOT_INTERVAL}

    def __init__(self, env: Any = None, *, roles: Roles | None = None, turnstile: Turnstile | None = None,
                 **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.roles = roles or TribeRoles(self.repository)
        self.turnstile = turnstile or ThreadTurnstile()
        self.answers = GroupCommit(self.turnstile, self.get, self.save)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PlaceAsDict())
        transcoder.register(SessionAsDict())

    def get(self, meetup_id: UUID) -> Meetup:
        return self._get(meetup_id, Meetup, "meetup")

    @command("schedule meetups")
    def schedule(
        self,
        organiser: UUID,
        tribe_id: UUID,
        *,
        title: str,
        description: str,
        starts_at: str,
        ends_at: str,
        timezone: str,
        venue: str = "",
        address: str = "",
        online_url: str = "",
        capacity: int | None = None,
        rsvp_deadline: str = "",
        now: datetime | None = None,
    ) -> UUID:
        """A new meetup, with the organiser who scheduled it as its host, going."""
        self._check_organiser(tribe_id, organiser)
        window = parse_window(starts_at, ends_at, timezone)
        meetup = Meetup.schedule(
            tribe_id=tribe_id,
            title=title,
            description=description,
            window=window,
            place=Place(venue, address, online_url),
            capacity=capacity,
            rsvp_deadline=_deadline(rsvp_deadline, timezone),
            now=now or datetime.now(UTC),
        )
        meetup.welcome_host(organiser)
        self.save(meetup)
        return meetup.id

    @command("edit meetups")
    @one_at_a_time
    def edit_details(
        self,
        organiser: UUID,
        meetup_id: UUID,
        *,
        title: str,
        description: str,
        capacity: int | None = None,
        rsvp_deadline: str = "",
        now: datetime | None = None,
    ) -> None:
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        meetup.edit_details(
            title=title,
            description=description,
            capacity=capacity,
            rsvp_deadline=_deadline(rsvp_deadline, meetup.timezone),
            now=now or datetime.now(UTC),
        )
        meetup.announce_changes()
        self.save(meetup)

    @command("reschedule meetups")
    @one_at_a_time
    def reschedule(
        self,
        organiser: UUID,
        meetup_id: UUID,
        *,
        starts_at: str,
        ends_at: str,
        timezone: str,
        now: datetime | None = None,
    ) -> None:
        window = parse_window(starts_at, ends_at, timezone)
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        meetup.reschedule(window, now or datetime.now(UTC))
        meetup.announce_changes()
        self.save(meetup)

    @command("move meetups")
    @one_at_a_time
    def relocate(
        self,
        organiser: UUID,
        meetup_id: UUID,
        *,
        venue: str = "",
        address: str = "",
        online_url: str = "",
        now: datetime | None = None,
    ) -> None:
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        meetup.relocate(Place(venue, address, online_url), now or datetime.now(UTC))
        meetup.announce_changes()
        self.save(meetup)

    @command("edit meetups")
    @one_at_a_time
    def revise(
        self,
        organiser: UUID,
        meetup_id: UUID,
        *,
        title: str,
        description: str,
        starts_at: str,
        ends_at: str,
        timezone: str,
        venue: str = "",
        address: str = "",
        online_url: str = "",
        capacity: int | None = None,
        rsvp_deadline: str = "",
        now: datetime | None = None,
    ) -> None:
        """Edit details, reschedule and relocate in one save: all of it happens, or none."""
        window = parse_window(starts_at, ends_at, timezone)
        deadline = _deadline(rsvp_deadline, window.timezone)
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        moment = now or datetime.now(UTC)

        def edit() -> None:
            meetup.edit_details(
                title=title,
                description=description,
                capacity=capacity,
                rsvp_deadline=deadline,
                now=moment,
            )

        # A deadline moving past the old start can only follow the start; otherwise it leads.
        later_deadline = deadline is not None and deadline > meetup.starts_at
        if not later_deadline:
            edit()
        if (window.starts_at, window.ends_at, window.timezone) != (
            meetup.starts_at,
            meetup.ends_at,
            meetup.timezone,
        ):
            meetup.reschedule(window, moment)
        if later_deadline:
            edit()
        meetup.relocate(Place(venue, address, online_url), moment)
        meetup.announce_changes()
        self.save(meetup)

    @command("cancel meetups")
    @one_at_a_time
    def cancel(
        self, organiser: UUID, meetup_id: UUID, *, message: str = "", now: datetime | None = None
    ) -> None:
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        meetup.cancel(message, now or datetime.now(UTC))
        self.save(meetup)

    @command("invite members")
    @one_at_a_time
    def invite(
        self,
        organiser: UUID,
        meetup_id: UUID,
        member_ids: list[UUID],
        *,
        now: datetime | None = None,
    ) -> list[UUID]:
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        invited = meetup.invite(member_ids, now or datetime.now(UTC))
        self.save(meetup)
        return invited

    @command("answer")
    def answer(self, member_id: UUID, meetup_id: UUID, answer: str, *, now: datetime | None = None) -> str:
        """The acting member answers going, maybe or not_going; returns where that left them. The member is
        checked first; then the answer queues with the others to the meetup, saved in batches."""
        self._check_member(self._tribe_of(meetup_id), member_id)
        when = now or datetime.now(UTC)

        def give_answer(meetup: Meetup) -> str:
            meetup.answer(member_id, answer, when)
            return meetup.attendance[member_id]

        return self.answers.run(meetup_id, give_answer)

    @command("answer")
    def give_up_places(self, member_id: UUID, meetup_ids: list[UUID], *, now: datetime | None = None) -> None:
        """A member leaving Cookout answers "not going" wherever they hold a place, in one save, so their seats
        go to the next people waiting. A meetup no longer taking answers (over, or past its deadline) keeps
        theirs as it was."""
        when = now or datetime.now(UTC)
        changed = []
        for meetup in (self.get(meetup_id) for meetup_id in meetup_ids):
            if meetup.attendance.get(member_id) not in (GOING, MAYBE, WAITLISTED):
                continue
            try:
                meetup.check_open_for_answers(when)
            except NotAllowedNow:
                continue
            meetup.answer(member_id, NOT_GOING, when)
            changed.append(meetup)
        if changed:
            self.save(*changed)

    @command("answer")
    @one_at_a_time
    def answer_from_calendar(
        self, member_id: UUID, meetup_id: UUID, session_id: UUID | None, answer: str, message_key: str,
        *, now: datetime | None = None,
    ) -> str | None:
        """The acting member's answer from their calendar app: going, maybe or not_going for the meetup,
        or, for a session, going (chosen) or not_going (dropped). The message's key is claimed in the same
        save, so a second delivery of one message changes nothing: it returns None."""
        if index_id(message_key) in self.repository:
            return None
        meetup = self.get(meetup_id)
        self._check_member(meetup.tribe_id, member_id)
        when = now or datetime.now(UTC)
        if session_id is None:
            meetup.answer(member_id, answer, when)
        elif answer == NOT_GOING:
            meetup.drop_session(member_id, session_id, when)
        else:
            meetup.choose_session(member_id, session_id, when)
        self.save(meetup, Index(message_key, meetup_id))
        return meetup.attendance.get(member_id, "")

    @command("answer")
    @one_at_a_time
    def cant_make_it(self, member_id: UUID, meetup_id: UUID, since: int, *, now: datetime | None = None) -> None:
        """The acting member follows the "can't make it" link of a letter made at version `since`."""
        meetup = self.get(meetup_id)
        self._check_member(meetup.tribe_id, member_id)
        meetup.cant_make_it(member_id, since, now or datetime.now(UTC))
        self.save(meetup)

    @command("plan an agenda")
    @one_at_a_time
    def add_session(
        self,
        organiser: UUID,
        meetup_id: UUID,
        *,
        title: str,
        starts_at: str,
        ends_at: str,
        room: str = "",
        speaker: str = "",
        now: datetime | None = None,
    ) -> UUID:
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        session_id = meetup.add_session(
            title=title,
            window=parse_window(starts_at, ends_at, meetup.timezone),
            room=room,
            speaker=speaker,
            now=now or datetime.now(UTC),
        )
        self.save(meetup)
        return session_id

    @command("plan an agenda")
    @one_at_a_time
    def edit_session(
        self,
        organiser: UUID,
        meetup_id: UUID,
        session_id: UUID,
        *,
        title: str,
        starts_at: str,
        ends_at: str,
        room: str = "",
        speaker: str = "",
        now: datetime | None = None,
    ) -> None:
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        meetup.edit_session(
            session_id,
            title=title,
            window=parse_window(starts_at, ends_at, meetup.timezone),
            room=room,
            speaker=speaker,
            now=now or datetime.now(UTC),
        )
        self.save(meetup)

    @command("plan an agenda")
    @one_at_a_time
    def remove_session(
        self, organiser: UUID, meetup_id: UUID, session_id: UUID, *, now: datetime | None = None
    ) -> None:
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        meetup.remove_session(session_id, now or datetime.now(UTC))
        self.save(meetup)

    @command("choose sessions")
    @one_at_a_time
    def choose_session(
        self, member_id: UUID, meetup_id: UUID, session_id: UUID, *, now: datetime | None = None
    ) -> None:
        meetup = self.get(meetup_id)
        self._check_member(meetup.tribe_id, member_id)
        meetup.choose_session(member_id, session_id, now or datetime.now(UTC))
        self.save(meetup)

    @command("choose sessions")
    @one_at_a_time
    def drop_session(
        self, member_id: UUID, meetup_id: UUID, session_id: UUID, *, now: datetime | None = None
    ) -> None:
        meetup = self.get(meetup_id)
        self._check_member(meetup.tribe_id, member_id)
        meetup.drop_session(member_id, session_id, now or datetime.now(UTC))
        self.save(meetup)

    @command("check people in")
    @one_at_a_time
    def check_in(
        self, organiser: UUID, meetup_id: UUID, member_id: UUID, *, now: datetime | None = None
    ) -> None:
        """An organiser checks in a member of the tribe."""
        meetup = self.get(meetup_id)
        self._check_organiser(meetup.tribe_id, organiser)
        if self.roles.role_of(meetup.tribe_id, member_id) is None:
            raise NotAllowedNow("Only members of this tribe can be checked in.", field="member_id")
        meetup.check_in(member_id, now or datetime.now(UTC))
        self.save(meetup)

    @command("check in")
    @one_at_a_time
    def check_in_with_code(
        self, member_id: UUID, meetup_id: UUID, code: str, *, now: datetime | None = None
    ) -> None:
        """The acting member checks in with the code the organiser shows."""
        meetup = self.get(meetup_id)
        self._check_member(meetup.tribe_id, member_id)
        meetup.check_in_with_code(member_id, code, now or datetime.now(UTC))
        self.save(meetup)

    def _tribe_of(self, meetup_id: UUID) -> UUID:
        """The tribe the meetup was scheduled in, which never changes: read from its first event alone."""
        try:
            meetup = self.repository.get(meetup_id, version=1)
        except AggregateNotFoundError:
            raise NotFound("No such meetup.") from None
        if not isinstance(meetup, Meetup):
            raise NotFound("No such meetup.")
        return meetup.tribe_id

    def _check_organiser(self, tribe_id: UUID, member_id: UUID) -> None:
        if self.roles.role_of(tribe_id, member_id) != ORGANISER:
            raise Forbidden("Only the tribe's organisers can do this.")

    def _check_member(self, tribe_id: UUID, member_id: UUID) -> None:
        if self.roles.role_of(tribe_id, member_id) is None:
            raise Forbidden("Only members of this tribe can do this.")


def _deadline(text: str, timezone: str) -> datetime | None:
    if not text.strip():
        return None
    return parse_local(text, zone(timezone), "rsvp_deadline")
