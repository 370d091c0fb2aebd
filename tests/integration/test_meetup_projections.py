"""The meetups read model and the invitations dispatcher on Postgres: what they hold, that replaying
the log gives identical rows and no new letter, a race for seats, and reminders."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Any
from uuid import UUID

from cookout.domain.base import IntegrityError, current_actor
from cookout.domain.meetings import Meetings
from cookout.platform.cli import rebuild
from cookout.platform.container import Container
from cookout.platform.database import AdvisoryTurnstile
from cookout.projections.invitations import Invitations
from cookout.projections.meetups import Meetups
from tests.helpers import rebuilding
from tests.meetup_helpers import Tribe, acting, local, meetup_fields, settle


def schedule(container: Container, tribe: Tribe, **changes: Any) -> UUID:
    fields = meetup_fields(**changes)
    fields["capacity"] = int(fields["capacity"]) if fields["capacity"] else None
    token = acting(tribe.organiser["id"])
    try:
        meetup_id = container.service(Meetings).schedule(tribe.id, **fields)
    finally:
        current_actor.reset(token)
    settle(container)
    return meetup_id


def as_member(container: Container, member_id: UUID, command: str, *args: Any, **kwargs: Any) -> Any:
    token = acting(member_id)
    try:
        return getattr(container.service(Meetings), command)(*args, **kwargs)
    finally:
        current_actor.reset(token)


class EveryoneIsAMember:
    """Roles for racers who never joined: the race is on the meetup, not on the tribe."""

    def role_of(self, tribe_id: UUID, member_id: UUID) -> str:
        return "member"


def test_a_hundred_members_racing_for_ten_seats_end_ten_going_and_ninety_waitlisted_in_order(container: Container) -> None:
    tribe = Tribe(container, members=0)
    meetup_id = schedule(container, tribe, capacity="11")  # the host's seat and ten more
    meetings = Meetings(env=container.env, roles=EveryoneIsAMember(), keys=container.keys)
    member_ids = [UUID(int=n + 1 + (meetup_id.int & 0xFFFFFFFF) * 1000) for n in range(100)]
    start = Barrier(20)

    def go(member_id: UUID) -> str:
        current_actor.set(str(member_id))
        if member_id in member_ids[:20]:
            start.wait()
        return meetings.answer(meetup_id, "going")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda m: copy_context().run(go, m), member_ids))

    assert results.count("going") == 10 and results.count("waitlisted") == 90
    meetup = meetings.get(meetup_id)
    assert len(meetup.going) == 11 and len(meetup.waitlist) == 90
    waitlisted_in_log = [e.member_id for e in meetings.events.get(meetup_id)
                         if type(e).__name__ == "MemberWaitlisted"]
    assert meetup.waitlist == waitlisted_in_log
    assert [e.position for e in meetings.events.get(meetup_id) if type(e).__name__ == "MemberWaitlisted"] == list(
        range(1, 91))
    meetings.close()
    settle(container)
    view = container.view(Meetups)
    positions = {member_id: view.state_of(meetup_id, member_id)["position"] for member_id in meetup.waitlist}
    assert [positions[m] for m in meetup.waitlist] == list(range(1, 91))


def test_answers_from_two_processes_queue_for_the_meetup_and_none_is_lost(container: Container) -> None:
    tribe = Tribe(container, members=0)
    meetup_id = schedule(container, tribe, capacity="11")  # the host's seat and ten more
    # Two services, each with a turnstile of its own, as two web processes have: only the advisory lock
    # on the database keeps their saves from racing.
    processes = [Meetings(env=container.env, roles=EveryoneIsAMember(), keys=container.keys, turnstile=AdvisoryTurnstile(container.datastore))
                 for _ in range(2)]
    lost = []
    for meetings in processes:
        insert_events = meetings.recorder.insert_events

        def insert_or_note_loss(*args: Any, insert_events: Any = insert_events, **kwargs: Any) -> Any:
            try:
                return insert_events(*args, **kwargs)
            except IntegrityError:
                lost.append(1)
                raise

        meetings.recorder.insert_events = insert_or_note_loss  # type: ignore[method-assign]
    member_ids = [UUID(int=n + 1 + (meetup_id.int & 0xFFFFFFFF) * 1000) for n in range(60)]
    start = Barrier(len(member_ids))

    def go(n: int) -> str:
        current_actor.set(str(member_ids[n]))
        start.wait()
        return processes[n % 2].answer(meetup_id, "going")

    with ThreadPoolExecutor(max_workers=len(member_ids)) as pool:
        results = list(pool.map(lambda n: copy_context().run(go, n), range(len(member_ids))))

    meetup = processes[0].get(meetup_id)
    assert results.count("going") == 10 and results.count("waitlisted") == 50
    assert set(meetup.attendance) - set(member_ids) == {meetup.going[0]} and len(meetup.going) == 11  # and the host
    assert meetup.waitlist == [e.member_id for e in processes[0].events.get(meetup_id)
                               if type(e).__name__ == "MemberWaitlisted"]
    assert not lost
    for meetings in processes:
        meetings.close()


def test_the_read_model_follows_answers_sessions_and_check_ins(container: Container) -> None:
    tribe = Tribe(container, members=2)
    first, second = (m["id"] for m in tribe.members)
    meetup_id = schedule(container, tribe, capacity="2", starts_at=local(timedelta(minutes=30)),  # host + 1
                         ends_at=local(timedelta(hours=5)))
    session_id = as_member(container, tribe.organiser["id"], "add_session", meetup_id,
                           title="Opening", starts_at=local(timedelta(minutes=40)),
                           ends_at=local(timedelta(minutes=70)))
    as_member(container, first, "answer", meetup_id, "going")
    as_member(container, second, "answer", meetup_id, "going")
    as_member(container, second, "choose_session", meetup_id, session_id)
    as_member(container, tribe.organiser["id"], "check_in", meetup_id, first)
    as_member(container, tribe.organiser["id"], "check_in", meetup_id, second)
    settle(container)

    view = container.view(Meetups)
    assert view.state_of(meetup_id, second) == {"state": "waitlisted", "position": 1}
    [session] = view.sessions(meetup_id, second)
    assert (session["title"], session["chosen"], session["chosen_by"]) == ("Opening", True, 1)
    met = view.met_in_real_life(first)
    assert [(row["display_name"], row["meetup_id"]) for row in met] == [("Member 1", meetup_id)]


def test_rebuilding_meetups_and_invitations_gives_identical_rows_and_no_new_letters(container: Container) -> None:
    tribe = Tribe(container, members=3)
    meetup_id = schedule(container, tribe, capacity="3")  # the host's seat and two more
    first, second, third = (m["id"] for m in tribe.members)
    as_member(container, tribe.organiser["id"], "invite", meetup_id, [first, second, third])
    for member_id in (first, second, third):
        as_member(container, member_id, "answer", meetup_id, "going")
    as_member(container, first, "answer", meetup_id, "not_going")
    as_member(container, tribe.organiser["id"], "relocate", meetup_id, venue="Hall",
              address="Main St 1")
    settle(container)
    before_rows = container.view(Meetups).snapshot()
    before_letters = container.view(Invitations).rows("SELECT key, message_id, payload FROM outbox ORDER BY key")
    state_tables = ("invitation_meetups", "invitation_states", "invitation_people")
    before_state = {t: container.view(Invitations).rows(f"SELECT * FROM {t} ORDER BY 1, 2") for t in state_tables}

    with rebuilding(container) as other:
        rebuild(other, Meetups)
        rebuild(other, Invitations)
        after_rows = other.view(Meetups).snapshot()
        after_letters = other.view(Invitations).rows("SELECT key, message_id, payload FROM outbox ORDER BY key")
        after_state = {t: other.view(Invitations).rows(f"SELECT * FROM {t} ORDER BY 1, 2") for t in state_tables}
    assert after_rows == before_rows
    assert after_letters == before_letters
    assert after_state == before_state
    kinds = sorted(l["kind"] for l in tribe.letters(meetup_id))
    # The host's own entry, and its update, beside the members' letters.
    assert kinds == ["meetup_invitation"] * 6 + ["meetup_promotion"] + ["meetup_removal"] * 2 + [
        "meetup_update"] * 3


def test_letters_follow_calendar_holders_with_one_key_per_event_attendee_and_sequence(container: Container) -> None:
    tribe = Tribe(container, members=3)
    meetup_id = schedule(container, tribe, capacity="2")  # the host's seat and one more
    first, second, third = (m["id"] for m in tribe.members)
    as_member(container, tribe.organiser["id"], "invite", meetup_id, [third])
    as_member(container, first, "answer", meetup_id, "going")
    as_member(container, second, "answer", meetup_id, "going")
    as_member(container, tribe.organiser["id"], "reschedule", meetup_id,
              starts_at=local(timedelta(days=12)), ends_at=local(timedelta(days=12, hours=2)),
              timezone="Europe/Berlin")
    as_member(container, first, "answer", meetup_id, "not_going")
    letters = tribe.letters(meetup_id)
    emails = {m["id"]: m["email"] for m in tribe.members}
    host = tribe.organiser["email"]
    sent = [(l["kind"], l["recipient"], l["payload"]["entry"]["sequence"]) for l in letters]
    assert sorted(sent) == sorted([
        ("meetup_invitation", host, 0), ("meetup_update", host, 1),
        ("meetup_invitation", emails[third], 0), ("meetup_invitation", emails[first], 0),
        ("meetup_update", emails[first], 1), ("meetup_update", emails[third], 1),
        # Taking `first` out goes one above the update they hold (RFC 5546: a CANCEL must exceed it).
        ("meetup_removal", emails[first], 2), ("meetup_promotion", emails[second], 1),
    ])
    assert len({l["key"] for l in letters}) == len(letters)
    assert len({l["message_id"] for l in letters}) == len(letters)
    update = next(l for l in letters if l["kind"] == "meetup_update")
    assert update["payload"]["before"]["starts_at"] != update["payload"]["entry"]["starts_at"]


def test_reminders_go_once_to_going_members_and_never_after_a_cancellation(container: Container) -> None:
    tribe = Tribe(container, members=2)
    soon = schedule(container, tribe, starts_at=local(timedelta(hours=20)), ends_at=local(timedelta(hours=22)))
    later = schedule(container, tribe, starts_at=local(timedelta(days=3)), ends_at=local(timedelta(days=3, hours=1)))
    first, second = (m["id"] for m in tribe.members)
    for meetup_id in (soon, later):
        as_member(container, first, "answer", meetup_id, "going")
        as_member(container, second, "answer", meetup_id, "maybe")
    settle(container)
    view = container.view(Invitations)
    now = datetime.now(UTC)

    written = view.write_reminders(now)
    mine = [key for key in written if str(soon) in key or str(later) in key]
    host = tribe.organiser["id"]
    assert sorted(mine) == sorted([f"meetup_reminder:{soon}:{first}", f"meetup_reminder:{soon}:{host}"])
    assert str(soon) not in " ".join(view.write_reminders(now))
    reminder = view.letter(f"meetup_reminder:{soon}:{first}")
    assert reminder["recipient"] == tribe.members[0]["email"]

    cancelled = schedule(container, tribe, starts_at=local(timedelta(hours=10)), ends_at=local(timedelta(hours=11)))
    as_member(container, first, "answer", cancelled, "going")
    settle(container)
    pending = [k for k in view.write_reminders(now) if str(cancelled) in k]
    assert len(pending) == 2  # the member's and the host's
    as_member(container, tribe.organiser["id"], "cancel", cancelled, message="Off")
    settle(container)
    assert {view.letter(key)["status"] for key in pending} == {"withdrawn"}
    assert [k for k in view.write_reminders(now) if str(cancelled) in k] == []


def test_the_meetup_page_reads_who_is_coming_and_the_viewers_own_answer_but_not_everyone_invited(
        container: Container) -> None:
    tribe = Tribe(container, members=3)
    going, declined, invited = (m["id"] for m in tribe.members)
    meetup_id = schedule(container, tribe)
    as_member(container, tribe.organiser["id"], "invite", meetup_id, [going, declined, invited])
    as_member(container, going, "answer", meetup_id, "going")
    as_member(container, declined, "answer", meetup_id, "not_going")
    settle(container)

    view = container.view(Meetups)
    assert view.meetup(meetup_id, invited)["viewer_role"] == "member"
    assert view.meetup(meetup_id, None)["viewer_role"] is None
    coming = {row["member_id"]: row["state"] for row in view.coming(meetup_id, None)}
    assert coming == {tribe.organiser["id"]: "going", going: "going"}
    assert {row["member_id"]: row["state"] for row in view.coming(meetup_id, declined)} == {
        **coming, declined: "not_going"}
