"""The Meetings service: who may do what, nothing saved on failure, races settled in order."""

import sys
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from datetime import UTC, datetime
from threading import Barrier
from uuid import uuid4

import pytest

from cookout.domain.base import IntegrityError, current_actor
from cookout.domain import service
from cookout.domain.errors import Conflict, Forbidden, InvalidInput, NotAllowedNow, NotFound
from cookout.domain.meetings import Meetings

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
DURING = datetime(2030, 7, 1, 16, 30, tzinfo=UTC)


class Roles:
    """Roles as each test sets them: one organiser, everyone else a member unless made a stranger."""

    def __init__(self):
        self.organiser = uuid4()
        self.strangers = set()
        self.asked = []

    def role_of(self, tribe_id, member_id):
        self.asked.append(tribe_id)
        if member_id in self.strangers:
            return None
        return "organiser" if member_id == self.organiser else "member"


@pytest.fixture
def roles():
    return Roles()


@pytest.fixture
def meetings(roles):
    as_member(roles.organiser)
    return Meetings(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, roles=roles)


def schedule(meetings, **changes):
    fields = dict(
        title="Picnic",
        description="Bring food.",
        starts_at="2030-07-01T18:00",
        ends_at="2030-07-01T21:00",
        timezone="Europe/Berlin",
        venue="Volkspark",
        address="Friedrichshain, Berlin",
        now=NOW,
    )
    fields.update(changes)
    return meetings.schedule(uuid4(), **fields)


def as_member(member_id):
    current_actor.set(str(member_id))
    return member_id


# Scheduling records the organiser who scheduled the meetup as its host, going.
SCHEDULED = ["Scheduled", "MemberWentGoing"]


def names_of_events(meetings, meetup_id):
    return [type(e).__name__ for e in meetings.events.get(meetup_id)]


def test_an_organiser_schedules_a_meetup_in_local_time(meetings):
    meetup_id = schedule(meetings, rsvp_deadline="2030-06-30T12:00", capacity=20)

    meetup = meetings.get(meetup_id)
    assert meetup.starts_at == datetime(2030, 7, 1, 16, tzinfo=UTC)
    assert meetup.rsvp_deadline == datetime(2030, 6, 30, 10, tzinfo=UTC)
    assert meetup.capacity == 20


def test_only_organisers_schedule_edit_and_check_in(meetings):
    meetup_id = schedule(meetings)
    as_member(uuid4())

    with pytest.raises(Forbidden):
        meetings.schedule(
            uuid4(), title="Mine", description="", starts_at="2030-07-01T18:00",
            ends_at="2030-07-01T19:00", timezone="UTC", online_url="https://x.example", now=NOW,
        )
    with pytest.raises(Forbidden):
        meetings.edit_details(meetup_id, title="Mine", description="", now=NOW)
    with pytest.raises(Forbidden):
        meetings.check_in(meetup_id, uuid4(), now=DURING)
    assert names_of_events(meetings, meetup_id) == SCHEDULED


def test_the_role_asked_about_is_the_one_in_the_meetups_own_tribe(meetings, roles):
    meetup_id = schedule(meetings)
    tribe_id = meetings.get(meetup_id).tribe_id
    roles.asked.clear()

    meetings.cancel(meetup_id, message="Rain.", now=NOW)

    assert roles.asked == [tribe_id]


def test_people_outside_the_tribe_cannot_answer(meetings, roles):
    meetup_id = schedule(meetings)
    roles.strangers.add(as_member(uuid4()))

    with pytest.raises(Forbidden):
        meetings.answer(meetup_id, "going", now=NOW)

    assert names_of_events(meetings, meetup_id) == SCHEDULED


def test_a_member_is_asked_about_in_the_tribe_the_meetup_was_scheduled_in_before_answering(meetings, roles):
    meetup_id = schedule(meetings)
    tribe_id = meetings.get(meetup_id).tribe_id
    as_member(uuid4())
    roles.asked.clear()

    meetings.answer(meetup_id, "maybe", now=NOW)

    assert roles.asked == [tribe_id]


def test_an_unknown_meetup_is_not_found(meetings):
    with pytest.raises(NotFound):
        meetings.cancel(uuid4(), now=NOW)


def test_an_answer_to_an_unknown_meetup_is_not_found(meetings):
    as_member(uuid4())

    with pytest.raises(NotFound):
        meetings.answer(uuid4(), "going", now=NOW)


def test_a_bad_reschedule_saves_nothing(meetings):
    meetup_id = schedule(meetings)

    with pytest.raises(InvalidInput) as error:
        meetings.reschedule(
            meetup_id, starts_at="2030-03-31T02:30", ends_at="2030-03-31T04:00",
            timezone="Europe/Berlin", now=NOW,
        )

    assert error.value.field == "starts_at"
    assert names_of_events(meetings, meetup_id) == SCHEDULED


def test_an_answer_after_cancellation_saves_nothing(meetings):
    meetup_id = schedule(meetings)
    meetings.cancel(meetup_id, message="Rain all day.", now=NOW)
    as_member(uuid4())

    with pytest.raises(NotAllowedNow):
        meetings.answer(meetup_id, "going", now=NOW)

    assert names_of_events(meetings, meetup_id) == [*SCHEDULED, "Cancelled"]


def test_a_withdrawal_and_the_promotion_it_causes_are_saved_together(meetings, roles):
    meetup_id = schedule(meetings, capacity=2)  # the host's seat and one more
    first, second = uuid4(), uuid4()
    as_member(first)
    assert meetings.answer(meetup_id, "going", now=NOW) == "going"
    as_member(second)
    assert meetings.answer(meetup_id, "going", now=NOW) == "waitlisted"

    as_member(first)
    meetings.answer(meetup_id, "not_going", now=NOW)

    assert meetings.get(meetup_id).going == [roles.organiser, second]
    assert names_of_events(meetings, meetup_id)[-2:] == [
        "MemberWithdrew",
        "WaitlistedMemberPromoted",
    ]


def test_an_organiser_invites_members_and_learns_who_was_new(meetings, roles):
    meetup_id = schedule(meetings)
    ada, bo = uuid4(), uuid4()
    meetings.invite(meetup_id, [ada], now=NOW)

    assert meetings.invite(meetup_id, [ada, bo], now=NOW) == [bo]
    assert set(meetings.get(meetup_id).calendar_holders()) == {roles.organiser, ada, bo}


def test_a_member_checks_in_with_the_code_the_organiser_shows(meetings, roles):
    meetup_id = schedule(meetings)
    code = meetings.get(meetup_id).check_in_code
    ada, bo = uuid4(), uuid4()
    for person in (ada, bo):
        as_member(person)
        meetings.answer(meetup_id, "going", now=NOW)
    as_member(roles.organiser)
    meetings.check_in(meetup_id, ada, now=DURING)
    as_member(bo)

    meetings.check_in_with_code(meetup_id, code, now=DURING)

    assert meetings.get(meetup_id).met_pairs() == [(ada, bo)]


def test_the_organiser_who_schedules_a_meetup_is_going_to_it_and_can_be_checked_in(meetings, roles):
    meetup_id = schedule(meetings, capacity=2)

    meetup = meetings.get(meetup_id)
    assert meetup.state_of(roles.organiser) == "going"
    assert meetup.seats_left == 1
    meetings.check_in(meetup_id, roles.organiser, now=DURING)
    assert meetings.get(meetup_id).checked_in == [roles.organiser]


def test_the_host_is_going_even_when_the_rsvp_deadline_they_set_has_passed(meetings, roles):
    meetup_id = schedule(meetings, rsvp_deadline="2030-05-01T12:00")

    assert meetings.get(meetup_id).state_of(roles.organiser) == "going"
    as_member(uuid4())
    with pytest.raises(NotAllowedNow):
        meetings.answer(meetup_id, "going", now=NOW)


def test_an_organiser_who_answers_going_again_after_scheduling_changes_nothing(meetings, roles):
    meetup_id = schedule(meetings)

    assert meetings.answer(meetup_id, "going", now=NOW) == "going"

    assert names_of_events(meetings, meetup_id) == SCHEDULED


def test_members_choose_sessions_of_a_conference(meetings):
    meetup_id = schedule(meetings)
    talk = meetings.add_session(
        meetup_id, title="Keynote", starts_at="2030-07-01T18:00",
        ends_at="2030-07-01T18:45", room="Main hall", speaker="Ada", now=NOW,
    )
    ada = as_member(uuid4())
    meetings.answer(meetup_id, "going", now=NOW)

    meetings.choose_session(meetup_id, talk, now=NOW)

    assert meetings.get(meetup_id).session_attendees(talk) == [ada]


@pytest.fixture
def threads_switch_often():
    # Without this the GIL runs each short command to completion and no save ever collides.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


class EveryoneAtOnce:
    """A turnstile that lets every command through: the saves race, as commands from several processes do."""

    @contextmanager
    def one_at_a_time(self, key):
        yield


def race_for_ten_seats(meetings, *others):
    """A hundred members answer going at once, spread over `meetings` and `others` (services on the same
    store, as web processes are); the results and how many saves lost a race."""
    meetup_id = schedule(meetings, capacity=11)  # the host's seat and ten more
    members = [uuid4() for _ in range(100)]
    services = [meetings, *others]
    start_together = Barrier(len(members))
    collisions = []
    insert_events = meetings.recorder.insert_events

    def insert_or_note_collision(*args, **kwargs):
        try:
            return insert_events(*args, **kwargs)
        except IntegrityError:
            collisions.append(1)
            raise

    meetings.recorder.insert_events = insert_or_note_collision

    def go(member_id):
        as_member(member_id)
        start_together.wait()
        return services[member_id.int % len(services)].answer(meetup_id, "going", now=NOW)

    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        results = list(pool.map(lambda m: copy_context().run(go, m), members))
    return meetup_id, members, results, collisions


def check_ten_going_and_ninety_waiting_in_order(meetings, meetup_id, members, results):
    meetup = meetings.get(meetup_id)
    assert results.count("going") == 10
    assert results.count("waitlisted") == 90
    assert set(meetup.attendance) - set(members) == {meetup.going[0]}  # the host, going from the start
    assert len(meetup.going) == 11
    assert len(meetup.waitlist) == 90
    waitlisted = [e.member_id for e in meetings.events.get(meetup_id) if hasattr(e, "position")]
    assert meetup.waitlist == waitlisted
    positions = [e.position for e in meetings.events.get(meetup_id) if hasattr(e, "position")]
    assert positions == list(range(1, 91))


def test_a_hundred_members_racing_for_ten_seats_end_with_ten_going_and_ninety_waiting(
    roles, threads_switch_often
):
    meetings = Meetings(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, roles=roles, turnstile=EveryoneAtOnce())
    # Each service queues its own answers; across services, nothing stops their saves from racing.
    others = [Meetings(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, roles=roles, turnstile=EveryoneAtOnce(),
                       recorder=meetings.recorder) for _ in range(3)]
    as_member(roles.organiser)
    meetup_id, members, results, collisions = race_for_ten_seats(meetings, *others)

    check_ten_going_and_ninety_waiting_in_order(meetings, meetup_id, members, results)
    assert collisions, "the saves never raced, so the retry went untested"


def test_a_hundred_members_answering_at_once_queue_for_the_meetup_instead_of_racing(
    meetings, threads_switch_often
):
    meetup_id, members, results, collisions = race_for_ten_seats(meetings)

    check_ten_going_and_ninety_waiting_in_order(meetings, meetup_id, members, results)
    assert not collisions


def test_an_organiser_cannot_check_in_someone_outside_the_tribe(meetings, roles):
    meetup_id = schedule(meetings)
    former = as_member(uuid4())
    meetings.answer(meetup_id, "going", now=NOW)
    roles.strangers.add(former)
    as_member(roles.organiser)

    with pytest.raises(NotAllowedNow) as error:
        meetings.check_in(meetup_id, former, now=DURING)

    assert error.value.message == "Only members of this tribe can be checked in."
    assert meetings.get(meetup_id).checked_in == []


def test_an_answer_that_keeps_losing_the_race_gives_up_with_a_clear_conflict_and_saves_nothing(
    meetings, monkeypatch
):
    meetup_id = schedule(meetings)
    as_member(uuid4())
    monkeypatch.setattr(service, "RETRY_SECONDS", 0.05)

    def another_save_always_wins(*args, **kwargs):
        raise IntegrityError("another save got there first")

    monkeypatch.setattr(meetings.recorder, "insert_events", another_save_always_wins)

    with pytest.raises(Conflict) as busy:
        meetings.answer(meetup_id, "going", now=NOW)

    assert busy.value.message == "Too many people are changing this at once. Please try again."
    assert names_of_events(meetings, meetup_id) == SCHEDULED
