"""The conversation service as a whole: likes, flags, atomic saves, and the events it records."""

from uuid import UUID, uuid4

import pytest

from cookout.domain.base import SYSTEM, IntegrityError, current_actor
from cookout.domain.conversation import Conversation
from tests.unit.conversation_fixtures import act_as
from cookout.domain.errors import Conflict, Forbidden, NotAllowedNow, NotFound
from cookout.domain.reactions import Like


def a_post(app: Conversation, organiser: UUID, visibility: str = "public") -> UUID:
    act_as(organiser)
    tribe_id = app.found_tribe("The Crazies", "crazies", "", "crazies", visibility)
    return app.publish_post(tribe_id, "Dawn run", "Meet at six.")


def test_a_member_likes_a_post_once_however_often_they_click(app):
    post_id = a_post(app, uuid4())
    act_as(fan := uuid4())

    app.like(post_id)
    app.like(post_id)
    assert app.liked(post_id)

    app.unlike(post_id)
    app.unlike(post_id)
    assert not app.liked(post_id)

    app.like(post_id)
    like_id = Like.create_id(fan, post_id)
    assert [type(e).__name__ for e in app.events.get(like_id)] == ["Liked", "Unliked", "LikedAgain"]


def test_likes_of_comments_are_counted_apart_from_the_post(app):
    post_id = a_post(app, uuid4())
    comment_id = app.post_comment(post_id, "See you there")
    act_as(fan := uuid4())

    app.like(comment_id)

    assert app.liked(comment_id) and not app.liked(post_id)
    like = app.repository.get(Like.create_id(fan, comment_id))
    assert (like.member_id, like.target_id, like.target_kind) == (fan, comment_id, "comment")


def test_two_toggles_at_once_conflict_rather_than_double_count(app):
    post_id = a_post(app, uuid4())
    act_as(fan := uuid4())
    app.save(Like(member_id=fan, target_id=post_id, target_kind="post"))

    first = app.repository.get(Like.create_id(fan, post_id))
    second = app.repository.get(Like.create_id(fan, post_id))
    first.unlike()
    second.unlike()
    app.save(first)

    with pytest.raises(IntegrityError):
        app.save(second)
    with pytest.raises(IntegrityError):
        app.save(Like(member_id=fan, target_id=post_id, target_kind="post"))


def let_a_competitor_save_first(app, monkeypatch, competitor) -> None:
    """Makes the next save lose a race: `competitor` is saved just before it."""
    save = app.save

    def competitor_first(*aggregates):
        monkeypatch.setattr(app, "save", save)
        competitor()
        return save(*aggregates)

    monkeypatch.setattr(app, "save", competitor_first)


def test_a_like_that_loses_a_race_with_the_same_like_is_recorded_once(app, monkeypatch):
    post_id = a_post(app, uuid4())
    act_as(fan := uuid4())
    same_like = Like(member_id=fan, target_id=post_id, target_kind="post")
    let_a_competitor_save_first(app, monkeypatch, lambda: app.save(same_like))

    app.like(post_id)

    assert app.liked(post_id)
    assert [type(e).__name__ for e in app.events.get(Like.create_id(fan, post_id))] == ["Liked"]


def test_a_slug_claimed_by_a_concurrent_founding_is_reported_as_taken(app, monkeypatch):
    act_as(uuid4())
    let_a_competitor_save_first(app, monkeypatch, lambda: app.found_tribe("Rivals", "crazies"))

    with pytest.raises(Conflict) as taken:
        app.found_tribe("The Crazies", "crazies")
    assert taken.value.field == "slug"
    assert app.get_tribe(app.tribe_id_for_slug("crazies")).name == "Rivals"


def test_nobody_likes_what_is_gone_or_out_of_sight(app):
    organiser = uuid4()
    post_id = a_post(app, organiser, visibility="members")
    app.retract_post(post_id)

    with pytest.raises(NotAllowedNow):
        app.like(post_id)
    act_as(uuid4())
    with pytest.raises(NotFound):
        app.like(post_id)
    with pytest.raises(NotFound):
        app.like(uuid4())
    current_actor.set(SYSTEM)
    with pytest.raises(Forbidden):
        app.like(post_id)


def test_members_flag_a_comment_once(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    comment_id = app.post_comment(post_id, "Slowcoaches")
    act_as(uuid4())

    flag = app.repository.get(app.flag_comment(comment_id, "Unkind"))

    assert (flag.comment_id, flag.post_id, flag.reason) == (comment_id, post_id, "Unkind")
    with pytest.raises(Conflict):
        app.flag_comment(comment_id, "Really unkind")
    act_as(uuid4())
    app.flag_comment(comment_id)


def test_guests_and_held_comments_cannot_be_flagged(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    comment_id = app.post_comment(post_id, "Slowcoaches")
    current_actor.set(SYSTEM)
    held = app.post_comment(post_id, "Buy shoes", name="Spam", email="spam@example.org")

    with pytest.raises(Forbidden):
        app.flag_comment(comment_id)
    act_as(uuid4())
    with pytest.raises(NotAllowedNow):
        app.flag_comment(held)


def test_a_command_that_fails_saves_nothing(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    current_actor.set(SYSTEM)
    held = app.post_comment(post_id, "Hello", name="Ann", email="ann@example.org")
    before = app.recorder.max_notification_id()

    act_as(uuid4())
    for command in (
        lambda: app.approve_comment(held),
        lambda: app.edit_post(post_id, "Mine", "Now"),
        lambda: app.found_tribe("Again", "crazies"),
        lambda: app.post_comment(post_id, "Reply", held),
    ):
        with pytest.raises((Forbidden, Conflict, NotAllowedNow)):
            command()

    assert app.recorder.max_notification_id() == before


def test_approving_a_guest_saves_the_comment_and_the_email_together(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    current_actor.set(SYSTEM)
    held = app.post_comment(post_id, "Hello", name="Ann", email="ann@example.org")
    act_as(organiser)
    before = app.recorder.max_notification_id()

    app.approve_comment(held)

    recorded = app.recorder.select_notifications(start=before + 1, limit=10)
    assert [n.topic.rsplit(":", 1)[-1] for n in recorded] == [
        "Comment.CommentApproved",
        "Index.Claimed",
    ]


def test_a_whole_conversation_records_events_in_the_tribes_words(app):
    organiser, member = uuid4(), uuid4()
    act_as(organiser)
    tribe_id = app.found_tribe("The Crazies", "crazies", "", "crazies")
    act_as(member)
    app.join_tribe(tribe_id)
    post_id = app.publish_post(tribe_id, "Dawn run", "Six.")
    app.edit_post(post_id, "Dawn run", "Seven.")
    comment_id = app.post_comment(post_id, "Early!")
    app.edit_comment(comment_id, "Too early!")
    app.like(post_id)
    app.unlike(post_id)
    act_as(organiser)
    app.grant_role(tribe_id, member, "moderator")
    app.flag_comment(comment_id)
    app.hide_comment(comment_id, "Grumpy")
    app.mark_comment_spam(comment_id)
    act_as(member)
    app.retract_comment(comment_id)
    app.retract_post(post_id)

    recorded = app.recorder.select_notifications(start=1, limit=100)
    names = [n.topic.rsplit(".", 1)[-1] for n in recorded]
    assert names == [
        "TribeFounded",
        "Claimed",
        "MemberJoined",
        "PostPublished",
        "PostEdited",
        "CommentPosted",
        "CommentEdited",
        "Liked",
        "Unliked",
        "RoleGranted",
        "CommentFlagged",
        "CommentHidden",
        "CommentMarkedSpam",
        "CommentRetracted",
        "PostRetracted",
    ]
