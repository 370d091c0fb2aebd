"""Members are checked against their membership, not by replaying the tribe; tribes from before that still work."""

from typing import Any
from uuid import UUID, uuid4

import pytest

from cookout.domain.errors import Forbidden, NotFound
from cookout.domain.meetings import Meetings
from cookout.domain.service import TribeRoles
from cookout.domain.tribes import MEMBERS_ONLY, Membership, Tribe, TribeAccess
from tests.unit.conversation_fixtures import IN_MEMORY, Community, act_as


def tribe_from_before_memberships(app: Community, organiser: UUID, *members: UUID) -> UUID:
    """A members-only tribe recorded as Cookout recorded tribes before memberships were indexed: its
    own events only."""
    act_as(organiser)
    tribe = Tribe("Old Timers", "old-timers", "", "old timers", MEMBERS_ONLY, organiser)
    for member in members:
        tribe.join(member)
    app.tribes.save(tribe)
    return tribe.id


def loads(app: Community, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """The ids the conversation services load from now on."""
    loaded: list[UUID] = []
    for service in (app.threads, app.moderation, app.reactions):
        get = service.repository.get

        def recording(aggregate_id: UUID, *args: Any, get: Any = get, **kwargs: Any) -> Any:
            loaded.append(aggregate_id)
            return get(aggregate_id, *args, **kwargs)

        monkeypatch.setattr(service.repository, "get", recording)
    return loaded


def test_a_comment_checks_the_members_membership_without_loading_the_tribe(app, monkeypatch):
    organiser, member = uuid4(), uuid4()
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("Big", "big", "", "", MEMBERS_ONLY)
    app.tribes.admit_member(tribe_id, member)
    act_as(member)
    post_id = app.threads.publish_post(tribe_id, "Hello", "All of you.")
    loaded = loads(app, monkeypatch)

    app.threads.post_comment(post_id, "Hi!")
    act_as(organiser)
    app.moderation.hide_post(post_id, "Off topic")

    assert loaded and tribe_id not in loaded


def test_a_members_comment_reads_their_membership_alone_and_an_outsiders_the_tribes_access(app, monkeypatch):
    organiser, member, outsider = uuid4(), uuid4(), uuid4()
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("Open", "open", "", "")
    app.tribes.admit_member(tribe_id, member)
    post_id = app.threads.publish_post(tribe_id, "Hello", "All of you.")
    loaded = loads(app, monkeypatch)

    act_as(member)
    app.threads.post_comment(post_id, "Hi!")
    assert loaded == [post_id, Membership.create_id(tribe_id, member)]

    loaded.clear()
    act_as(outsider)
    with pytest.raises(Forbidden):
        app.threads.publish_post(tribe_id, "Me too", "Can I?")
    assert loaded == [Membership.create_id(tribe_id, outsider), TribeAccess.create_id(tribe_id)]


def test_a_member_who_left_a_members_only_tribe_can_no_longer_comment(app):
    organiser, member = uuid4(), uuid4()
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("Big", "big", "", "", MEMBERS_ONLY)
    app.tribes.admit_member(tribe_id, member)
    act_as(member)
    post_id = app.threads.publish_post(tribe_id, "Hello", "All of you.")
    app.tribes.leave_tribe(tribe_id)

    with pytest.raises(NotFound):
        app.threads.post_comment(post_id, "Still here?")
    with pytest.raises(NotFound):
        app.threads.publish_post(tribe_id, "Me again", "Hello?")


def test_a_revoked_moderator_can_no_longer_moderate(app):
    organiser, member = uuid4(), uuid4()
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("Big", "big", "", "")
    post_id = app.threads.publish_post(tribe_id, "Hello", "All of you.")
    act_as(member)
    app.tribes.join_tribe(tribe_id)
    act_as(organiser)
    app.tribes.grant_role(tribe_id, member, "moderator")
    act_as(member)
    app.moderation.hide_post(post_id, "Testing")
    act_as(organiser)
    app.tribes.revoke_role(tribe_id, member)

    act_as(member)
    with pytest.raises(Forbidden):
        app.moderation.unhide_post(post_id)


def test_a_public_tribe_turned_members_only_shuts_outsiders_out(app):
    organiser, outsider = uuid4(), uuid4()
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("Big", "big", "", "")
    post_id = app.threads.publish_post(tribe_id, "Hello", "All of you.")
    act_as(outsider)
    app.threads.post_comment(post_id, "Passing by")
    act_as(organiser)
    app.tribes.revise_tribe(tribe_id, "Big", "", "", MEMBERS_ONLY)

    act_as(outsider)
    with pytest.raises(NotFound):
        app.threads.post_comment(post_id, "Passing by again")


def test_a_tribe_from_before_memberships_keeps_its_members_and_gets_their_memberships_at_its_next_change(app):
    organiser, old_member, newcomer, outsider = uuid4(), uuid4(), uuid4(), uuid4()
    tribe_id = tribe_from_before_memberships(app, organiser, old_member)
    roles = TribeRoles(app.tribes.repository)
    meetings = Meetings(env=IN_MEMORY, recorder=app.tribes.recorder)
    act_as(old_member)
    post_id = app.threads.publish_post(tribe_id, "Still here", "Yes.")
    act_as(outsider)
    with pytest.raises(NotFound):
        app.threads.post_comment(post_id, "Let me in")
    assert roles.role_of(tribe_id, old_member) == "member"

    act_as(organiser)
    app.tribes.admit_member(tribe_id, newcomer)

    assert {m: roles.role_of(tribe_id, m) for m in (organiser, old_member, newcomer, outsider)} == {
        organiser: "organiser", old_member: "member", newcomer: "member", outsider: None}
    act_as(old_member)
    app.threads.post_comment(post_id, "Welcome!")
    act_as(outsider)
    with pytest.raises(NotFound):
        app.threads.post_comment(post_id, "Let me in")
    act_as(organiser)
    meetup_id = meetings.schedule(tribe_id, title="Picnic", description="", starts_at="2099-06-01T12:00",
                                  ends_at="2099-06-01T15:00", timezone="UTC", venue="Park", address="Main St")
    act_as(newcomer)
    assert meetings.answer(meetup_id, "going") == "going"
