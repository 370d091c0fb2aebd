"""A busy meetup is reloaded from a snapshot and the events after it, and comes back as it was."""

from datetime import UTC, datetime
from uuid import uuid4

from cookout.domain.base import current_actor
from cookout.domain.meetings import SNAPSHOT_INTERVAL, Meetings
from cookout.domain.meetups import Meetup

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
DURING = datetime(2030, 7, 1, 16, 30, tzinfo=UTC)


class EveryoneOrganises:
    def role_of(self, tribe_id, member_id):
        return "organiser"


def replayed(meetings: Meetings, meetup_id) -> Meetup:
    """The meetup rebuilt from every one of its events, as it would be without snapshots."""
    meetup = None
    for domain_event in meetings.events.get(meetup_id):
        meetup = domain_event.mutate(meetup)
    return meetup


def test_a_meetup_with_more_events_than_the_snapshot_interval_is_reconstructed_identically_from_a_snapshot():
    meetings = Meetings(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, roles=EveryoneOrganises())
    current_actor.set(str(uuid4()))
    meetup_id = meetings.schedule(
        uuid4(), title="Picnic conference", description="Two rooms.", starts_at="2030-07-01T18:00",
        ends_at="2030-07-01T23:00", timezone="Europe/Berlin", venue="Volkspark", address="Berlin",
        online_url="https://example.org/live", capacity=21, rsvp_deadline="2030-06-30T12:00", now=NOW,
    )
    keynote = meetings.add_session(meetup_id, title="Keynote", starts_at="2030-07-01T18:00",
                                   ends_at="2030-07-01T19:00", room="Hall A", speaker="Amara", now=NOW)
    lightning = meetings.add_session(meetup_id, title="Lightning", starts_at="2030-07-01T19:00",
                                     ends_at="2030-07-01T20:00", now=NOW)
    people = [uuid4() for _ in range(30)]
    meetings.invite(meetup_id, people[:10], now=NOW)
    for n, person in enumerate(people):
        current_actor.set(str(person))
        meetings.answer(meetup_id, "going" if n % 5 else "maybe", now=NOW)
        meetings.choose_session(meetup_id, keynote if n % 2 else lightning, now=NOW)
    current_actor.set(str(people[1]))
    meetings.answer(meetup_id, "not_going", now=NOW)
    meetings.drop_session(meetup_id, keynote, now=NOW)
    current_actor.set(str(uuid4()))
    meetings.edit_session(meetup_id, keynote, title="Opening keynote", starts_at="2030-07-01T18:30",
                          ends_at="2030-07-01T19:30", room="Hall B", speaker="Amara", now=NOW)
    meetings.relocate(meetup_id, venue="Tempelhof", address="Berlin", now=NOW)
    meetings.check_in(meetup_id, people[2], now=DURING)
    meetings.check_in(meetup_id, people[3], now=DURING)

    meetup = meetings.get(meetup_id)
    assert meetup.version > SNAPSHOT_INTERVAL
    [snapshot] = list(meetings.snapshots.get(meetup_id, desc=True, limit=1))
    assert SNAPSHOT_INTERVAL <= snapshot.originator_version < meetup.version
    assert vars(meetup) == vars(replayed(meetings, meetup_id))
    assert len(meetup.going) == 21 and len(meetup.waitlist) == 3  # the host and 20 of the people
    assert meetup.sessions[keynote].room == "Hall B" and meetup.place.venue == "Tempelhof"
    assert meetup.checked_in == [people[2], people[3]]
