"""Posts: publishing, editing with history, retracting, and hiding by moderators."""

from uuid import UUID, uuid4

import pytest

from tests.unit.conversation_fixtures import Community, act_as
from cookout.domain.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound


def found(app: Community, organiser: UUID, visibility: str = "public") -> UUID:
    act_as(organiser)
    return app.tribes.found_tribe("The Crazies", "crazies", "", "crazies", visibility)


def member_of(app: Community, tribe_id: UUID) -> UUID:
    member = uuid4()
    act_as(member)
    app.tribes.join_tribe(tribe_id)
    return member


def test_a_member_publishes_a_post_in_their_tribe(app):
    tribe_id = found(app, uuid4())
    author = member_of(app, tribe_id)

    post = app.threads.get_post(app.threads.publish_post(tribe_id, "  Dawn run  ", "Meet at the *gate*."))

    assert (post.title, post.body, post.author_id, post.tribe_id) == (
        "Dawn run",
        "Meet at the *gate*.",
        author,
        tribe_id,
    )
    assert not post.edited and not post.retracted and not post.hidden


def test_outsiders_join_a_public_tribe_before_posting(app):
    tribe_id = found(app, uuid4())

    act_as(uuid4())
    with pytest.raises(Forbidden):
        app.threads.publish_post(tribe_id, "Hello", "Can I come?")


def test_outsiders_cannot_find_posts_of_a_members_only_tribe(app):
    organiser = uuid4()
    tribe_id = found(app, organiser, visibility="members")
    post_id = app.threads.publish_post(tribe_id, "Secret run", "Shh.")

    act_as(uuid4())
    with pytest.raises(NotFound):
        app.threads.publish_post(tribe_id, "Hello", "Let me in")
    with pytest.raises(NotFound):
        app.threads.get_post(post_id)


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [
        ("", "Body", "title"),
        ("x" * 201, "Body", "title"),
        ("Two\nlines", "Body", "title"),
        ("Title", "   \n ", "body"),
        ("Title", "x" * 10_001, "body"),
    ],
)
def test_a_post_needs_a_one_line_title_and_a_body_of_sensible_length(app, title, body, field):
    tribe_id = found(app, uuid4())

    with pytest.raises(InvalidInput) as error:
        app.threads.publish_post(tribe_id, title, body)
    assert error.value.field == field


def test_the_author_edits_and_every_version_is_kept(app):
    author = uuid4()
    tribe_id = found(app, author)
    post_id = app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")

    app.threads.edit_post(post_id, "Dawn run (moved)", "Meet at seven.")

    post = app.threads.get_post(post_id)
    assert (post.title, post.body) == ("Dawn run (moved)", "Meet at seven.")
    assert [(v.title, v.body) for v in post.versions] == [
        ("Dawn run", "Meet at six."),
        ("Dawn run (moved)", "Meet at seven."),
    ]
    assert post.versions[0].edited_at < post.versions[1].edited_at
    assert [type(e).__name__ for e in app.tribes.events.get(post_id)] == ["PostPublished", "PostEdited"]


def test_saving_a_post_unchanged_adds_no_version(app):
    author = uuid4()
    tribe_id = found(app, author)
    post_id = app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")

    changed = app.threads.edit_post(post_id, "Dawn run ", "Meet at six.\r\n")

    post = app.threads.get_post(post_id)
    assert not changed and not post.edited
    assert post.version == 1 and len(post.versions) == 1


def test_changing_only_the_title_of_a_post_is_a_new_version(app):
    author = uuid4()
    tribe_id = found(app, author)
    post_id = app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")

    assert app.threads.edit_post(post_id, "Dawn run (moved)", "Meet at six.")

    assert app.threads.get_post(post_id).edited


def test_only_the_author_edits_or_retracts_a_post(app):
    author = uuid4()
    tribe_id = found(app, author)
    post_id = app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")

    member_of(app, tribe_id)
    with pytest.raises(Forbidden):
        app.threads.edit_post(post_id, "Mine now", "Ha.")
    with pytest.raises(Forbidden):
        app.threads.retract_post(post_id)
    assert app.threads.get_post(post_id).version == 1


def test_a_retracted_post_stays_as_a_tombstone(app):
    author = uuid4()
    tribe_id = found(app, author)
    post_id = app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")

    app.threads.retract_post(post_id)

    post = app.threads.get_post(post_id)
    assert post.retracted and post.title == "Dawn run"
    with pytest.raises(NotAllowedNow):
        app.threads.edit_post(post_id, "Back", "Again")
    with pytest.raises(NotAllowedNow):
        app.threads.retract_post(post_id)
    with pytest.raises(NotAllowedNow):
        app.threads.post_comment(post_id, "Where did it go?")


def test_moderators_hide_a_post_with_a_reason_and_can_show_it_again(app):
    organiser = uuid4()
    tribe_id = found(app, organiser)
    author = member_of(app, tribe_id)
    post_id = app.threads.publish_post(tribe_id, "Buy my shoes", "Cheap!")

    with pytest.raises(Forbidden):
        app.moderation.hide_post(post_id, "Advertising")
    act_as(organiser)
    with pytest.raises(InvalidInput) as no_reason:
        app.moderation.hide_post(post_id, " ")
    assert no_reason.value.field == "reason"

    app.moderation.hide_post(post_id, "Advertising")
    assert app.threads.get_post(post_id).hidden_reason == "Advertising"
    act_as(author)
    with pytest.raises(NotAllowedNow):
        app.threads.post_comment(post_id, "But they are good shoes")

    act_as(organiser)
    app.moderation.unhide_post(post_id)
    assert not app.threads.get_post(post_id).hidden
