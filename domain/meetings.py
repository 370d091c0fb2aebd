"""The Meetings service: scheduling meetups, answering, agendas and check-in.

The caller says what role the acting member has in a tribe through `role_in(tribe_id)`; the
service asks it about the meetup's own tribe, so a role in one tribe never opens another's
meetups. Every command on a meetup retries when a concurrent save got there first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Transcoding

from cookout.domain.base import SYSTEM, CookoutApplication, IntegrityError, current_actor
from cookout.domain.errors import Conflict, Forbidden, NotAllowedNow
from cookout.domain.meetups import Meetup, Place, Session
from cookout.domain.schedule import parse_local, parse_window, zone

ORGANISER = "organiser"
RETRY_SECONDS = 15.0
# Answers reload the meetup; a snapshot every so many events keeps that from growing with its history.
SNAPSHOT_INTERVAL = 50

RoleIn = Callable[[UUID], str | None]
T = TypeVar("T")


def check_organiser(role: str | None) -> None:
    if role != ORGANISER:
        raise Forbidden("Only the tribe's organisers can do this.")


def check_member(role: str | None) -> None:
    if role is None:
        raise Forbidden("Only members of this tribe can do this.")


def acting_member() -> UUID:
    actor = current_actor.get()
    if actor == SYSTEM:
        raise Forbidden("Sign in first.")
    return UUID(actor)


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

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PlaceAsDict())
        transcoder.register(SessionAsDict())

    def get(self, meetup_id: UUID) -> Meetup:
        return self._get(meetup_id, Meetup, "meetup")

    def schedule(
        self,
        tribe_id: UUID,
        role_in: RoleIn,
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
        check_organiser(role_in(tribe_id))
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
        self.save(meetup)
        return meetup.id

    def edit_details(
        self,
        meetup_id: UUID,
        role_in: RoleIn,
        *,
        title: str,
        description: str,
        capacity: int | None = None,
        rsvp_deadline: str = "",
        now: datetime | None = None,
    ) -> None:
        def command(meetup: Meetup) -> None:
            check_organiser(role_in(meetup.tribe_id))
            meetup.edit_details(
                title=title,
                description=description,
                capacity=capacity,
                rsvp_deadline=_deadline(rsvp_deadline, meetup.timezone),
                now=now or datetime.now(UTC),
            )

        self._change(meetup_id, command)

    def reschedule(
        self,
        meetup_id: UUID,
        role_in: RoleIn,
        *,
        starts_at: str,
        ends_at: str,
        timezone: str,
        now: datetime | None = None,
    ) -> None:
        window = parse_window(starts_at, ends_at, timezone)

        def command(meetup: Meetup) -> None:
            check_organiser(role_in(meetup.tribe_id))
            meetup.reschedule(window, now or datetime.now(UTC))

        self._change(meetup_id, command)

    def relocate(
        self,
        meetup_id: UUID,
        role_in: RoleIn,
        *,
        venue: str = "",
        address: str = "",
        online_url: str = "",
        now: datetime | None = None,
    ) -> None:
        def command(meetup: Meetup) -> None:
            check_organiser(role_in(meetup.tribe_id))
            meetup.relocate(Place(venue, address, online_url), now or datetime.now(UTC))

        self._change(meetup_id, command)

    def revise(
        self,
        meetup_id: UUID,
        role_in: RoleIn,
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

        def command(meetup: Meetup) -> None:
            check_organiser(role_in(meetup.tribe_id))
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

        self._change(meetup_id, command)

    def cancel(
        self, meetup_id: UUID, role_in: RoleIn, *, message: str = "", now: datetime | None = None
    ) -> None:
        def command(meetup: Meetup) -> None:
            check_organiser(role_in(meetup.tribe_id))
            meetup.cancel(message, now or datetime.now(UTC))

        self._change(meetup_id, command)

    def invite(
        self,
        meetup_id: UUID,
        role_in: RoleIn,
        member_ids: list[UUID],
        *,
        now: datetime | None = None,
    ) -> list[UUID]:
        def command(meetup: Meetup) -> list[UUID]:
            check_organiser(role_in(meetup.tribe_id))
            return meetup.invite(member_ids, now or datetime.now(UTC))

        return self._change(meetup_id, command)

    def answer(
        self, meetup_id: UUID, role_in: RoleIn, answer: str, *, now: datetime | None = None
    ) -> str:
        """The acting member answers going, maybe or not_going; returns where that left them."""
        member_id = acting_member()

        def command(meetup: Meetup) -> str:
            check_member(role_in(meetup.tribe_id))
            meetup.answer(member_id, answer, now or datetime.now(UTC))
            return meetup.attendance[member_id]

        return self._change(meetup_id, command)

    def cant_make_it(
        self, meetup_id: UUID, role_in: RoleIn, since: int, *, now: datetime | None = None
    ) -> None:
        """The acting member follows the "can't make it" link of a letter made at version `since`."""
        member_id = acting_member()

        def command(meetup: Meetup) -> None:
            check_member(role_in(meetup.tribe_id))
            meetup.cant_make_it(member_id, since, now or datetime.now(UTC))

        self._change(meetup_id, command)

    def add_session(
        self,
        meetup_id: UUID,
        role_in: RoleIn,
        *,
        title: str,
        starts_at: str,
        ends_at: str,
        room: str = "",
        speaker: str = "",
        now: datetime | None = None,
    ) -> UUID:
        def command(meetup: Meetup) -> UUID:
            check_organiser(role_in(meetup.tribe_id))
            return meetup.add_session(
                title=title,
                window=parse_window(starts_at, ends_at, meetup.timezone),
                room=room,
                speaker=speaker,
                now=now or datetime.now(UTC),
            )

        return self._change(meetup_id, command)

    def edit_session(
        self,
        meetup_id: UUID,
        role_in: RoleIn,
        session_id: UUID,
        *,
        title: str,
        starts_at: str,
        ends_at: str,
        room: str = "",
        speaker: str = "",
        now: datetime | None = None,
    ) -> None:
        def command(meetup: Meetup) -> None:
            check_organiser(role_in(meetup.tribe_id))
            meetup.edit_session(
                session_id,
                title=title,
                window=parse_window(starts_at, ends_at, meetup.timezone),
                room=room,
                speaker=speaker,
                now=now or datetime.now(UTC),
            )

        self._change(meetup_id, command)

    def remove_session(
        self, meetup_id: UUID, role_in: RoleIn, session_id: UUID, *, now: datetime | None = None
    ) -> None:
        def command(meetup: Meetup) -> None:
            check_organiser(role_in(meetup.tribe_id))
            meetup.remove_session(session_id, now or datetime.now(UTC))

        self._change(meetup_id, command)

    def choose_session(
        self, meetup_id: UUID, role_in: RoleIn, session_id: UUID, *, now: datetime | None = None
    ) -> None:
        member_id = acting_member()

        def command(meetup: Meetup) -> None:
            check_member(role_in(meetup.tribe_id))
            meetup.choose_session(member_id, session_id, now or datetime.now(UTC))

        self._change(meetup_id, command)

    def drop_session(
        self, meetup_id: UUID, role_in: RoleIn, session_id: UUID, *, now: datetime | None = None
    ) -> None:
        member_id = acting_member()

        def command(meetup: Meetup) -> None:
            check_member(role_in(meetup.tribe_id))
            meetup.drop_session(member_id, session_id, now or datetime.now(UTC))

        self._change(meetup_id, command)

    def check_in(
        self,
        meetup_id: UUID,
        role_in: RoleIn,
        member_id: UUID,
        member_role_in: RoleIn,
        *,
        now: datetime | None = None,
    ) -> None:
        """An organiser checks in a member of the tribe; `member_role_in` is that member's role."""

        def command(meetup: Meetup) -> None:
            check_organiser(role_in(meetup.tribe_id))
            if member_role_in(meetup.tribe_id) is None:
                raise NotAllowedNow("Only members of this tribe can be checked in.", field="member_id")
            meetup.check_in(member_id, now or datetime.now(UTC))

        self._change(meetup_id, command)

    def check_in_with_code(
        self, meetup_id: UUID, role_in: RoleIn, code: str, *, now: datetime | None = None
    ) -> None:
        """The acting member checks in with the code the organiser shows."""
        member_id = acting_member()

        def command(meetup: Meetup) -> None:
            check_member(role_in(meetup.tribe_id))
            meetup.check_in_with_code(member_id, code, now or datetime.now(UTC))

        self._change(meetup_id, command)

    def _change(self, meetup_id: UUID, command: Callable[[Meetup], T]) -> T:
        """Load, command, save; when another save won the race, start again from the new state.

        A popular meetup sees many answers at once, so losers keep trying for a while (with
        jittered, capped backoff) rather than a fixed number of times.
        """
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            meetup = self.get(meetup_id)
            result = command(meetup)
            try:
                self.save(meetup)
            except IntegrityError:
                attempt += 1
                if time.monotonic() >= deadline:
                    raise Conflict("Too many people are changing this meetup at once. Try again.") from None
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 5)))
                continue
            return result


def _deadline(text: str, timezone: str) -> datetime | None:
    if not text.strip():
        return None
    return parse_local(text, zone(timezone), "rsvp_deadline")
