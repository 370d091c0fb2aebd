"""The Meetup aggregate: details, changes calendars must hear about, answers, check-in."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from cookout.domain.errors import Conflict, InvalidInput, NotAllowedNow
from cookout.domain.meetups import (
    GOING,
    INVITED,
    MAYBE,
    NOT_GOING,
    WAITLISTED,
    Meetup,
    Place,
    calendar_change,
)
from cookout.domain.schedule import parse_window

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
PARK = Place("Volkspark", "Friedrichshain, Berlin")


def a_meetup(**changes):
    fields = dict(
        tribe_id=uuid4(),
        title="Picnic",
        description="Bring *food*.",
        window=parse_window("2030-07-01T18:00", "2030-07-01T21:00", "Europe/Berlin"),
        place=PARK,
        capacity=None,
        rsvp_deadline=None,
        now=NOW,
    )
    fields.update(changes)
    return Meetup.schedule(**fields)


def events_of(meetup):
    return [type(e).__name__ for e in meetup.collect_events()]


def test_a_scheduled_meetup_has_a_stable_uid_and_starts_at_sequence_zero():
    meetup = a_meetup()

    assert meetup.uid.endswith("@cookout")
    assert meetup.sequence == 0
    assert len(meetup.check_in_code) == 6
    assert events_of(meetup) == ["Scheduled"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Picnic\r\nBcc: evil@example.org"}, "title"),
        ({"description": "x" * 10_001}, "description"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -3}, "capacity"),
        ({"place": Place()}, "venue"),
        ({"place": Place("Volkspark", "")}, "address"),
        ({"place": Place(online_url="ftp://example.org/room")}, "online_url"),
        ({"place": Place(online_url="javascript:alert(1)")}, "online_url"),
        ({"window": parse_window("2030-05-01T18:00", "2030-05-01T19:00", "UTC")}, "starts_at"),
        ({"rsvp_deadline": datetime(2030, 7, 2, tzinfo=UTC)}, "rsvp_deadline"),
    ],
)
def test_bad_details_are_refused_with_the_field_to_fix(changes, field):
    with pytest.raises(InvalidInput) as error:
        a_meetup(**changes)

    assert error.value.field == field
    assert error.value.message


def test_an_online_meetup_needs_only_a_link():
    meetup = a_meetup(place=Place(online_url="https://meet.example.org/cookout"))

    assert meetup.place.online_url == "https://meet.example.org/cookout"


def test_editing_the_description_does_not_raise_the_sequence():
    meetup = a_meetup()

    meetup.edit_details(
        title="Picnic", description="Bring drinks.", capacity=None, rsvp_deadline=None, now=NOW
    )

    assert meetup.description == "Bring drinks."
    assert meetup.sequence == 0


def test_rescheduling_raises_the_sequence_and_records_old_and_new_times():
    meetup = a_meetup()
    meetup.collect_events()

    meetup.reschedule(parse_window("2030-07-02T18:00", "2030-07-02T21:00", "Europe/Berlin"), NOW)

    [rescheduled] = meetup.collect_events()
    assert meetup.sequence == 1
    assert rescheduled.old_starts_at == datetime(2030, 7, 1, 16, tzinfo=UTC)
    assert rescheduled.starts_at == datetime(2030, 7, 2, 16, tzinfo=UTC)
    assert rescheduled.sequence == 1


def test_relocating_raises_the_sequence_and_records_old_and_new_place():
    meetup = a_meetup()
    meetup.collect_events()

    meetup.relocate(Place("Café Anna", "Boxhagener Str. 1, Berlin"), NOW)

    [relocated] = meetup.collect_events()
    assert (relocated.old_venue, relocated.venue) == ("Volkspark", "Café Anna")
    assert meetup.sequence == 1


def test_asking_for_the_same_time_or_place_changes_nothing():
    meetup = a_meetup()
    meetup.collect_events()

    meetup.reschedule(parse_window("2030-07-01T18:00", "2030-07-01T21:00", "Europe/Berlin"), NOW)
    meetup.relocate(PARK, NOW)

    assert meetup.collect_events() == []
    assert meetup.sequence == 0


def test_a_cancelled_meetup_takes_no_more_answers_or_changes():
    meetup = a_meetup()
    meetup.cancel("Rain all day, sorry.", NOW)

    assert meetup.cancelled and meetup.sequence == 1
    with pytest.raises(NotAllowedNow):
        meetup.answer(uuid4(), GOING, NOW)
    with pytest.raises(NotAllowedNow):
        meetup.relocate(Place("Café", "Street 1"), NOW)


def test_answers_close_at_the_deadline_and_when_the_meetup_is_over():
    deadline = datetime(2030, 6, 30, tzinfo=UTC)
    meetup = a_meetup(rsvp_deadline=deadline)

    with pytest.raises(NotAllowedNow, match="deadline"):
        meetup.answer(uuid4(), GOING, deadline + timedelta(minutes=1))
    with pytest.raises(NotAllowedNow, match="over"):
        meetup.answer(uuid4(), MAYBE, datetime(2030, 7, 2, tzinfo=UTC))


def test_an_unknown_answer_is_refused():
    with pytest.raises(InvalidInput) as error:
        a_meetup().answer(uuid4(), "yes please", NOW)

    assert error.value.field == "answer"


def test_members_going_beyond_capacity_join_a_waitlist_in_order():
    meetup = a_meetup(capacity=2)
    members = [uuid4() for _ in range(4)]

    for member in members:
        meetup.answer(member, GOING, NOW)

    assert meetup.going == members[:2]
    assert meetup.waitlist == members[2:]
    assert meetup.waitlist_position(members[3]) == 2
    assert [e.position for e in meetup.collect_events() if hasattr(e, "position")] == [1, 2]


def test_waitlisted_member_is_promoted_when_someone_withdraws():
    meetup = a_meetup(capacity=1)
    first, second, third = uuid4(), uuid4(), uuid4()
    for member in (first, second, third):
        meetup.answer(member, GOING, NOW)
    meetup.collect_events()

    meetup.answer(first, NOT_GOING, NOW)

    assert events_of(meetup) == ["MemberWithdrew", "WaitlistedMemberPromoted"]
    assert meetup.going == [second]
    assert meetup.waitlist == [third]


def test_leaving_the_waitlist_promotes_nobody_and_moves_the_rest_up():
    meetup = a_meetup(capacity=1)
    first, second, third = uuid4(), uuid4(), uuid4()
    for member in (first, second, third):
        meetup.answer(member, GOING, NOW)

    meetup.answer(second, MAYBE, NOW)

    assert meetup.going == [first]
    assert meetup.waitlist_position(third) == 1


def test_raising_the_capacity_promotes_the_waitlisted():
    meetup = a_meetup(capacity=1)
    first, second = uuid4(), uuid4()
    meetup.answer(first, GOING, NOW)
    meetup.answer(second, GOING, NOW)

    meetup.edit_details(
        title="Picnic", description="Bring *food*.", capacity=2, rsvp_deadline=None, now=NOW
    )

    assert meetup.going == [first, second]


def test_the_capacity_cannot_drop_below_those_already_going():
    meetup = a_meetup(capacity=3)
    meetup.answer(uuid4(), GOING, NOW)
    meetup.answer(uuid4(), GOING, NOW)

    with pytest.raises(Conflict) as error:
        meetup.edit_details(
            title="Picnic", description="", capacity=1, rsvp_deadline=None, now=NOW
        )

    assert error.value.field == "capacity"


def test_invitations_skip_members_already_invited_or_who_answered():
    meetup = a_meetup()
    answered, invited, new = uuid4(), uuid4(), uuid4()
    meetup.answer(answered, NOT_GOING, NOW)
    meetup.invite([invited], NOW)
    meetup.collect_events()

    newly = meetup.invite([answered, invited, new, new], NOW)

    [event] = meetup.collect_events()
    assert newly == event.member_ids == [new]
    assert meetup.state_of(new) == INVITED


def test_calendar_holders_are_those_invited_going_or_maybe():
    meetup = a_meetup(capacity=1)
    invited, going, maybe, declined, waiting = (uuid4() for _ in range(5))
    meetup.invite([invited], NOW)
    meetup.answer(going, GOING, NOW)
    meetup.answer(maybe, MAYBE, NOW)
    meetup.answer(declined, NOT_GOING, NOW)
    meetup.answer(waiting, GOING, NOW)

    assert set(meetup.calendar_holders()) == {invited, going, maybe}
    assert meetup.state_of(waiting) == WAITLISTED


def test_a_member_who_stops_coming_must_have_their_calendar_entry_cancelled():
    assert calendar_change(None, INVITED) == "request"
    assert calendar_change(INVITED, GOING) == "request"
    assert calendar_change(GOING, NOT_GOING) == "cancel"
    assert calendar_change(GOING, WAITLISTED) == "cancel"
    assert calendar_change(WAITLISTED, NOT_GOING) is None
    assert calendar_change(GOING, GOING) is None


def test_answering_again_the_same_records_nothing():
    meetup = a_meetup()
    member = uuid4()
    meetup.answer(member, GOING, NOW)
    meetup.collect_events()

    meetup.answer(member, GOING, NOW)

    assert meetup.collect_events() == []


def test_sessions_have_their_own_uid_and_sequence():
    meetup = a_meetup()
    talk = meetup.add_session(
        title="Lightning talks",
        window=parse_window("2030-07-01T18:30", "2030-07-01T19:00", "Europe/Berlin"),
        room="Tent",
        speaker="Ada",
        now=NOW,
    )
    session = meetup.sessions[talk]

    meetup.edit_session(
        talk,
        title="Lightning talks",
        window=parse_window("2030-07-01T19:00", "2030-07-01T19:30", "Europe/Berlin"),
        room="Tent",
        speaker="Ada",
        now=NOW,
    )

    assert session.uid != meetup.uid
    assert meetup.sessions[talk].uid == session.uid
    assert meetup.sessions[talk].sequence == 1
    assert meetup.sequence == 0


def test_renaming_a_session_keeps_its_sequence():
    meetup = a_meetup()
    window = parse_window("2030-07-01T18:30", "2030-07-01T19:00", "Europe/Berlin")
    talk = meetup.add_session(title="Talks", window=window, room="", speaker="", now=NOW)

    meetup.edit_session(talk, title="Short talks", window=window, room="", speaker="Bo", now=NOW)

    assert meetup.sessions[talk].sequence == 0
    assert meetup.sessions[talk].title == "Short talks"


def test_rescheduling_a_conference_moves_its_sessions_by_the_same_offset_in_the_same_save():
    meetup = a_meetup()
    talk = meetup.add_session(title="Talks", window=parse_window("2030-07-01T19:00", "2030-07-01T20:00",
                                                                 "Europe/Berlin"), room="", speaker="", now=NOW)
    meetup.collect_events()

    meetup.reschedule(parse_window("2030-07-08T17:00", "2030-07-08T20:00", "Europe/Berlin"), NOW)

    assert events_of(meetup) == ["Rescheduled", "SessionShifted"]
    session = meetup.sessions[talk]
    assert (session.starts_at, session.ends_at) == (datetime(2030, 7, 8, 16, tzinfo=UTC),
                                                   datetime(2030, 7, 8, 17, tzinfo=UTC))
    assert session.sequence == 1


def test_a_reschedule_that_would_leave_a_session_outside_the_meetup_is_refused():
    meetup = a_meetup()
    meetup.add_session(title="Closing", window=parse_window("2030-07-01T20:00", "2030-07-01T21:00",
                                                            "Europe/Berlin"), room="", speaker="", now=NOW)
    meetup.collect_events()

    with pytest.raises(InvalidInput) as error:
        meetup.reschedule(parse_window("2030-07-08T18:00", "2030-07-08T20:00", "Europe/Berlin"), NOW)

    assert "Closing" in str(error.value)
    assert meetup.collect_events() == []


def test_a_session_must_happen_during_the_meetup():
    meetup = a_meetup()

    with pytest.raises(InvalidInput) as error:
        meetup.add_session(
            title="Afterparty",
            window=parse_window("2030-07-01T22:00", "2030-07-01T23:00", "Europe/Berlin"),
            room="",
            speaker="",
            now=NOW,
        )

    assert error.value.field == "starts_at"


def test_members_who_are_coming_choose_sessions():
    meetup = a_meetup()
    window = parse_window("2030-07-01T18:30", "2030-07-01T19:00", "Europe/Berlin")
    talk = meetup.add_session(title="Talks", window=window, room="", speaker="", now=NOW)
    going, stranger = uuid4(), uuid4()
    meetup.answer(going, GOING, NOW)

    meetup.choose_session(going, talk, NOW)

    assert meetup.session_attendees(talk) == [going]
    with pytest.raises(NotAllowedNow):
        meetup.choose_session(stranger, talk, NOW)


def test_members_checked_in_have_met_each_other():
    meetup = a_meetup()
    at_the_park = datetime(2030, 7, 1, 16, 30, tzinfo=UTC)
    ada, bo, cy = uuid4(), uuid4(), uuid4()
    for person, answer in ((ada, GOING), (bo, MAYBE), (cy, GOING)):
        meetup.answer(person, answer, NOW)

    meetup.check_in(ada, at_the_park)
    meetup.check_in_with_code(bo, meetup.check_in_code.lower(), at_the_park)
    meetup.check_in_with_code(cy, f" {meetup.check_in_code} ", at_the_park)
    meetup.check_in(ada, at_the_park)

    assert meetup.checked_in == [ada, bo, cy]
    assert meetup.met_pairs() == [(ada, bo), (ada, cy), (bo, cy)]


def test_a_wrong_check_in_code_is_refused():
    meetup = a_meetup()
    ada = uuid4()
    meetup.answer(ada, GOING, NOW)

    with pytest.raises(InvalidInput) as error:
        meetup.check_in_with_code(ada, "WRONG1", datetime(2030, 7, 1, 16, 30, tzinfo=UTC))

    assert error.value.field == "code"
    assert meetup.checked_in == []


def test_check_in_opens_an_hour_before_the_start():
    meetup = a_meetup()

    with pytest.raises(NotAllowedNow):
        meetup.check_in(uuid4(), datetime(2030, 7, 1, 14, 59, tzinfo=UTC))


def test_only_someone_who_answered_going_or_maybe_or_is_waitlisted_can_be_checked_in():
    meetup = a_meetup(capacity=1)
    at_the_park = datetime(2030, 7, 1, 16, 30, tzinfo=UTC)
    going, maybe, waitlisted, invited, declined, stranger = (uuid4() for _ in range(6))
    meetup.answer(going, GOING, NOW)
    meetup.answer(maybe, MAYBE, NOW)
    meetup.answer(waitlisted, GOING, NOW)
    meetup.invite([invited], NOW)
    meetup.answer(declined, NOT_GOING, NOW)

    for person in (invited, declined, stranger):
        with pytest.raises(NotAllowedNow) as error:
            meetup.check_in(person, at_the_park)
        assert "answered going or maybe" in error.value.message
        with pytest.raises(NotAllowedNow):
            meetup.check_in_with_code(person, meetup.check_in_code, at_the_park)
    for person in (going, maybe, waitlisted):
        meetup.check_in(person, at_the_park)

    assert meetup.checked_in == [going, maybe, waitlisted]
