"""Comments: threads, guests held for moderation, editing, retracting and moderating."""

from uuid import UUID, uuid4

import pytest

from cookout.domain.base import SYSTEM, current_actor
from tests.unit.conversation_fixtures import Community, act_as
from cookout.domain.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound


def sign_out() -> None:
    current_actor.set(SYSTEM)


def a_post(app: Community, organiser: UUID, visibility: str = "public") -> UUID:
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("The Crazies", "crazies", "", "crazies", visibility)
    return app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")


def guest_comment(app: Community, post_id: UUID, email: str, body: str = "Can I come?") -> UUID:
    sign_out()
    return app.threads.post_comment(post_id, body, name="Ann", email=email, website="https://ann.example")


def test_a_member_comment_is_visible_at_once(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)

    act_as(member := uuid4())
    comment = app.threads.get_comment(app.threads.post_comment(post_id, "  See you there!  "))

    assert (comment.status, comment.body, comment.author_id, comment.depth) == (
        "visible",
        "See you there!",
        member,
        1,
    )
    assert comment.guest is None and comment.parent_id is None


def test_guest_comment_is_held_until_the_email_has_an_approved_comment(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)

    first = guest_comment(app, post_id, "ann@example.org")
    second = guest_comment(app, post_id, "ann@example.org", "Hello?")
    assert app.threads.get_comment(first).status == "pending"
    assert app.threads.get_comment(second).status == "pending"

    act_as(organiser)
    app.moderation.approve_comment(first)
    assert app.threads.get_comment(first).status == "visible"
    assert app.threads.get_comment(second).status == "pending"

    third = guest_comment(app, post_id, "ANN@Example.org", "Thanks!")
    assert app.threads.get_comment(third).status == "visible"
    assert app.threads.get_comment(third).guest.name == "Ann"


def test_marking_a_guest_comment_spam_holds_their_next_comment_again(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    first = guest_comment(app, post_id, "ann@example.org")
    act_as(organiser)
    app.moderation.approve_comment(first)

    later = guest_comment(app, post_id, "ann@example.org", "Buy cheap shoes")
    act_as(organiser)
    app.moderation.mark_comment_spam(later)

    assert app.threads.get_comment(later).status == "spam"
    assert app.threads.get_comment(guest_comment(app, post_id, "ann@example.org")).status == "pending"


@pytest.mark.parametrize(
    ("name", "email", "website", "field"),
    [
        ("", "ann@example.org", "", "name"),
        ("x" * 81, "ann@example.org", "", "name"),
        ("Ann", "not an email", "", "email"),
        ("Ann", "ann@example.org", "javascript:alert(1)", "website"),
        ("Ann", "ann@example.org", "ftp://ann.example", "website"),
        ("Ann", "ann@example.org", "https://", "website"),
        ("Ann", "ann@example.org", "http://[::1", "website"),
    ],
)
def test_a_guest_gives_a_name_a_valid_email_and_maybe_a_web_address(
    app, name, email, website, field
):
    post_id = a_post(app, uuid4())
    sign_out()

    with pytest.raises(InvalidInput) as error:
        app.threads.post_comment(post_id, "Hi", name=name, email=email, website=website)
    assert error.value.field == field


def test_a_comment_body_must_not_be_blank(app):
    post_id = a_post(app, uuid4())

    with pytest.raises(InvalidInput) as error:
        app.threads.post_comment(post_id, " \n\t ")
    assert error.value.field == "body"


def test_replies_nest_down_to_depth_five_and_then_stay_there(app):
    post_id = a_post(app, uuid4())
    parent_id = None
    depths = []
    for _ in range(7):
        parent_id = app.threads.post_comment(post_id, "And another thing", parent_id)
        depths.append(app.threads.get_comment(parent_id).depth)

    assert depths == [1, 2, 3, 4, 5, 5, 5]


@pytest.mark.parametrize("make_unrepliable", ["retract", "hide", "spam", "hold"])
def test_nobody_can_reply_to_a_comment_that_is_not_showing(app, make_unrepliable):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    if make_unrepliable == "hold":
        comment_id = guest_comment(app, post_id, "ann@example.org")
    else:
        comment_id = app.threads.post_comment(post_id, "Six is early")
        {
            "retract": lambda: app.threads.retract_comment(comment_id),
            "hide": lambda: app.moderation.hide_comment(comment_id, "Rude"),
            "spam": lambda: app.moderation.mark_comment_spam(comment_id),
        }[make_unrepliable]()

    act_as(organiser)
    before = app.tribes.recorder.max_notification_id()
    with pytest.raises(NotAllowedNow):
        app.threads.post_comment(post_id, "What?", comment_id)
    assert app.tribes.recorder.max_notification_id() == before


def test_a_reply_needs_a_parent_on_the_same_post(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    tribe_id = app.threads.get_post(post_id).tribe_id
    other_post = app.threads.publish_post(tribe_id, "Dusk run", "Meet at nine.")
    elsewhere = app.threads.post_comment(other_post, "Too late for me")

    with pytest.raises(NotFound):
        app.threads.post_comment(post_id, "Reply", uuid4())
    with pytest.raises(NotFound):
        app.threads.post_comment(post_id, "Reply", elsewhere)


def test_outsiders_get_not_found_when_commenting_in_a_members_only_tribe(app):
    organiser = uuid4()
    post_id = a_post(app, organiser, visibility="members")
    comment_id = app.threads.post_comment(post_id, "Members only, folks")

    act_as(uuid4())
    with pytest.raises(NotFound):
        app.threads.post_comment(post_id, "Hi", comment_id)
    sign_out()
    with pytest.raises(NotFound):
        app.threads.post_comment(post_id, "Hi", name="Ann", email="ann@example.org")


def test_the_author_edits_a_comment_and_every_version_is_kept(app):
    post_id = a_post(app, uuid4())
    act_as(uuid4())
    comment_id = app.threads.post_comment(post_id, "See you at six")

    app.threads.edit_comment(comment_id, "See you at seven")

    comment = app.threads.get_comment(comment_id)
    assert comment.body == "See you at seven" and comment.edited
    assert [v.body for v in comment.versions] == ["See you at six", "See you at seven"]


def test_saving_a_comment_unchanged_adds_no_version_and_does_not_mark_it_edited(app):
    post_id = a_post(app, uuid4())
    act_as(uuid4())
    comment_id = app.threads.post_comment(post_id, "See you at six")

    changed = app.threads.edit_comment(comment_id, "  See you at six\n")

    comment = app.threads.get_comment(comment_id)
    assert not changed and not comment.edited
    assert comment.version == 1 and len(comment.versions) == 1


def test_only_the_author_edits_or_retracts_a_comment(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    act_as(uuid4())
    comment_id = app.threads.post_comment(post_id, "Mine")
    guests = guest_comment(app, post_id, "ann@example.org")

    act_as(organiser)
    with pytest.raises(Forbidden):
        app.threads.edit_comment(comment_id, "Yours")
    with pytest.raises(Forbidden):
        app.threads.retract_comment(comment_id)
    with pytest.raises(Forbidden):
        app.threads.edit_comment(guests, "Nobody can edit a guest's words")
    sign_out()
    with pytest.raises(Forbidden):
        app.threads.retract_comment(guests)


def test_a_retracted_comment_stays_but_cannot_be_edited(app):
    post_id = a_post(app, uuid4())
    comment_id = app.threads.post_comment(post_id, "Oops")

    app.threads.retract_comment(comment_id)

    assert app.threads.get_comment(comment_id).retracted
    with pytest.raises(NotAllowedNow):
        app.threads.edit_comment(comment_id, "Better")
    with pytest.raises(NotAllowedNow):
        app.threads.retract_comment(comment_id)


def test_moderators_hide_a_comment_with_a_reason_and_members_cannot(app):
    organiser, moderator = uuid4(), uuid4()
    post_id = a_post(app, organiser)
    tribe_id = app.threads.get_post(post_id).tribe_id
    act_as(moderator)
    app.tribes.join_tribe(tribe_id)
    act_as(organiser)
    app.tribes.grant_role(tribe_id, moderator, "moderator")
    act_as(author := uuid4())
    comment_id = app.threads.post_comment(post_id, "You are all slow")

    with pytest.raises(Forbidden):
        app.moderation.hide_comment(comment_id, "Rude")
    act_as(moderator)
    app.moderation.hide_comment(comment_id, "Rude")

    act_as(author)
    comment = app.threads.get_comment(comment_id)
    assert (comment.status, comment.hidden_reason) == ("hidden", "Rude")
    act_as(moderator)
    with pytest.raises(NotAllowedNow):
        app.moderation.hide_comment(comment_id, "Still rude")
    app.moderation.approve_comment(comment_id)
    assert app.threads.get_comment(comment_id).status == "visible"
    with pytest.raises(NotAllowedNow):
        app.moderation.approve_comment(comment_id)


def test_outsiders_cannot_moderate_a_members_only_tribe(app):
    post_id = a_post(app, uuid4(), visibility="members")
    comment_id = app.threads.post_comment(post_id, "Inside talk")

    act_as(uuid4())
    with pytest.raises(NotFound):
        app.moderation.hide_comment(comment_id, "Rude")
