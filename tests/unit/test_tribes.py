"""Tribes: founding, slugs, joining and leaving, roles, and who may read them."""

from uuid import UUID, uuid4

import pytest

from cookout.domain.service import TribeRoles
from tests.unit.conversation_fixtures import Community, act_as
from cookout.domain.errors import Conflict, Forbidden, InvalidInput, NotAllowedNow, NotFound


def found(app: Community, organiser: UUID, slug="crazies", visibility="public") -> UUID:
    act_as(organiser)
    return app.tribes.found_tribe("The Crazies", slug, "We run at dawn.", "crazies", visibility)


def test_founder_is_the_organiser_of_a_new_tribe(app):
    founder = uuid4()
    tribe_id = found(app, founder)

    tribe = app.tribes.get_tribe(tribe_id)
    assert (tribe.name, tribe.slug, tribe.nickname) == ("The Crazies", "crazies", "crazies")
    assert tribe.role_of(founder) == "organiser"
    assert tribe.can_moderate(founder)


def test_a_slug_is_tidied_and_claimed_only_once(app):
    tribe_id = found(app, uuid4(), slug="Crazies ")

    assert app.tribes.get_tribe(tribe_id).slug == "crazies"
    with pytest.raises(Conflict) as taken:
        found(app, uuid4(), slug="crazies")
    assert taken.value.field == "slug"


@pytest.mark.parametrize("slug", ["ab", "x" * 41, "no spaces", "no_underscore", "émigrés"])
def test_a_slug_is_3_to_40_lowercase_letters_digits_or_hyphens(app, slug):
    with pytest.raises(InvalidInput) as error:
        found(app, uuid4(), slug=slug)
    assert error.value.field == "slug"


def test_a_tribe_needs_a_name_and_a_known_visibility(app):
    act_as(uuid4())
    with pytest.raises(InvalidInput) as no_name:
        app.tribes.found_tribe("  ", "crazies")
    with pytest.raises(InvalidInput) as odd_visibility:
        app.tribes.found_tribe("Crazies", "crazies", visibility="secret")

    assert (no_name.value.field, odd_visibility.value.field) == ("name", "visibility")


def test_someone_signed_out_cannot_found_a_tribe(app):
    with pytest.raises(Forbidden):
        app.tribes.found_tribe("Crazies", "crazies")


def test_members_join_and_leave_a_public_tribe(app):
    tribe_id = found(app, uuid4())
    runner = uuid4()

    act_as(runner)
    app.tribes.join_tribe(tribe_id)
    assert app.tribes.get_tribe(tribe_id).role_of(runner) == "member"
    with pytest.raises(Conflict):
        app.tribes.join_tribe(tribe_id)

    app.tribes.leave_tribe(tribe_id)
    assert not app.tribes.get_tribe(tribe_id).is_member(runner)


def test_outsiders_cannot_find_a_members_only_tribe_until_admitted(app):
    organiser, outsider = uuid4(), uuid4()
    tribe_id = found(app, organiser, visibility="members")

    act_as(outsider)
    with pytest.raises(NotFound):
        app.tribes.get_tribe(tribe_id)
    with pytest.raises(NotFound):
        app.tribes.join_tribe(tribe_id)

    act_as(organiser)
    app.tribes.admit_member(tribe_id, outsider)
    act_as(outsider)
    assert app.tribes.get_tribe(tribe_id).is_member(outsider)


def test_organisers_grant_and_revoke_roles(app):
    organiser, runner = uuid4(), uuid4()
    tribe_id = found(app, organiser)
    act_as(runner)
    app.tribes.join_tribe(tribe_id)

    act_as(organiser)
    app.tribes.grant_role(tribe_id, runner, "moderator")
    assert app.tribes.get_tribe(tribe_id).can_moderate(runner)

    app.tribes.revoke_role(tribe_id, runner)
    assert app.tribes.get_tribe(tribe_id).role_of(runner) == "member"
    assert TribeRoles(app.tribes.repository).role_of(tribe_id, runner) == "member"


def test_only_organisers_grant_roles(app):
    organiser, moderator, runner = uuid4(), uuid4(), uuid4()
    tribe_id = found(app, organiser)
    for member in (moderator, runner):
        act_as(member)
        app.tribes.join_tribe(tribe_id)
    act_as(organiser)
    app.tribes.grant_role(tribe_id, moderator, "moderator")

    act_as(moderator)
    with pytest.raises(Forbidden):
        app.tribes.grant_role(tribe_id, runner, "moderator")
    act_as(organiser)
    with pytest.raises(InvalidInput) as error:
        app.tribes.grant_role(tribe_id, runner, "king")
    assert error.value.field == "role"


def test_the_last_organiser_can_neither_step_down_nor_leave(app):
    organiser, runner = uuid4(), uuid4()
    tribe_id = found(app, organiser)
    version = app.tribes.get_tribe(tribe_id).version

    with pytest.raises(NotAllowedNow):
        app.tribes.grant_role(tribe_id, organiser, "member")
    with pytest.raises(NotAllowedNow):
        app.tribes.leave_tribe(tribe_id)
    assert app.tribes.get_tribe(tribe_id).version == version

    act_as(runner)
    app.tribes.join_tribe(tribe_id)
    act_as(organiser)
    app.tribes.grant_role(tribe_id, runner, "organiser")
    app.tribes.leave_tribe(tribe_id)
    assert app.tribes.get_tribe(tribe_id).organisers == [runner]


def test_organisers_revise_the_tribe_but_keep_its_slug(app):
    organiser, runner = uuid4(), uuid4()
    tribe_id = found(app, organiser)

    app.tribes.revise_tribe(tribe_id, "Dawn Runners", "Still at dawn.", "runners", "members")
    act_as(runner)
    with pytest.raises(NotFound):
        app.tribes.revise_tribe(tribe_id, "Mine", "", "", "public")

    act_as(organiser)
    tribe = app.tribes.get_tribe(tribe_id)
    assert (tribe.name, tribe.nickname, tribe.visibility, tribe.slug) == (
        "Dawn Runners",
        "runners",
        "members",
        "crazies",
    )


def test_every_tribe_event_records_who_acted(app):
    organiser, runner = uuid4(), uuid4()
    tribe_id = found(app, organiser)
    act_as(runner)
    app.tribes.join_tribe(tribe_id)
    act_as(organiser)
    app.tribes.grant_role(tribe_id, runner, "moderator")

    events = list(app.tribes.events.get(tribe_id))
    assert [type(e).__name__ for e in events] == ["TribeFounded", "MemberJoined", "RoleGranted"]
    assert [e.actor for e in events] == [str(organiser), str(runner), str(organiser)]
