"""The conversation services as a whole: likes, flags, atomic saves, and the events they record."""

from uuid import UUID, uuid4

import pytest

from cookout.domain.base import SYSTEM, IntegrityError, current_actor
from tests.unit.conversation_fixtures import Community, act_as, liked
from cookout.domain.errors import Conflict, Forbidden, NotAllowedNow, NotFound
from cookout.domain.reactions import Like
from cookout.domain.tribes import slug_key


def a_post(app: Community, organiser: UUID, visibility: str = "public") -> UUID:
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("The Crazies", "crazies", "", "crazies", visibility)
    return app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")


def test_likes_of_comments_are_counted_apart_from_the_post(app):
    post_id = a_post(app, uuid4())
    comment_id = app.threads.post_comment(post_id, "See you there")
    act_as(fan := uuid4())

    app.reactions.toggle_like(comment_id)

    assert liked(app, fan, comment_id) and not liked(app, fan, post_id)
    like = app.tribes.repository.get(Like.create_id(fan, comment_id))
    assert (like.member_id, like.target_id, like.target_kind) == (fan, comment_id, "comment")


def test_two_toggles_at_once_conflict_rather_than_double_count(app):
    post_id = a_post(app, uuid4())
    act_as(fan := uuid4())
    app.reactions.save(Like(member_id=fan, target_id=post_id, target_kind="post"))

    first = app.tribes.repository.get(Like.create_id(fan, post_id))
    second = app.tribes.repository.get(Like.create_id(fan, post_id))
    first.unlike()
    second.unlike()
    app.reactions.save(first)

    with pytest.raises(IntegrityError):
        app.reactions.save(second)
    with pytest.raises(IntegrityError):
        app.reactions.save(Like(member_id=fan, target_id=post_id, target_kind="post"))


def let_a_competitor_save_first(service, monkeypatch, competitor) -> None:
    """Makes the service's next save lose a race: `competitor` is saved just before it."""
    save = service.save

    def competitor_first(*aggregates):
        monkeypatch.setattr(service, "save", save)
        competitor()
        return save(*aggregates)

    monkeypatch.setattr(service, "save", competitor_first)


def test_a_slug_claimed_by_a_concurrent_founding_is_reported_as_taken(app, monkeypatch):
    act_as(uuid4())
    let_a_competitor_save_first(app.tribes, monkeypatch, lambda: app.tribes.found_tribe("Rivals", "crazies"))

    with pytest.raises(Conflict) as taken:
        app.tribes.found_tribe("The Crazies", "crazies")
    assert taken.value.field == "slug"
    assert app.tribes.get_tribe(app.tribes._index_ref(slug_key("crazies"))).name == "Rivals"


def test_nobody_likes_what_is_gone_or_out_of_sight(app):
    organiser = uuid4()
    post_id = a_post(app, organiser, visibility="members")
    app.threads.retract_post(post_id)

    with pytest.raises(NotAllowedNow):
        app.reactions.toggle_like(post_id)
    act_as(uuid4())
    with pytest.raises(NotFound):
        app.reactions.toggle_like(post_id)
    with pytest.raises(NotFound):
        app.reactions.toggle_like(uuid4())
    current_actor.set(SYSTEM)
    with pytest.raises(Forbidden):
        app.reactions.toggle_like(post_id)


def test_members_flag_a_comment_once(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    comment_id = app.threads.post_comment(post_id, "Slowcoaches")
    act_as(uuid4())

    flag = app.tribes.repository.get(app.moderation.flag_comment(comment_id, "Unkind"))

    assert (flag.comment_id, flag.post_id, flag.reason) == (comment_id, post_id, "Unkind")
    with pytest.raises(Conflict):
        app.moderation.flag_comment(comment_id, "Really unkind")
    act_as(uuid4())
    app.moderation.flag_comment(comment_id)


def test_guests_and_held_comments_cannot_be_flagged(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    comment_id = app.threads.post_comment(post_id, "Slowcoaches")
    current_actor.set(SYSTEM)
    held = app.threads.post_comment(post_id, "Buy shoes", name="Spam", email="spam@example.org")

    with pytest.raises(Forbidden):
        app.moderation.flag_comment(comment_id)
    act_as(uuid4())
    with pytest.raises(NotAllowedNow):
        app.moderation.flag_comment(held)


def test_a_command_that_fails_saves_nothing(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    current_actor.set(SYSTEM)
    held = app.threads.post_comment(post_id, "Hello", name="Ann", email="ann@example.org")
    before = app.tribes.recorder.max_notification_id()

    act_as(uuid4())
    for command in (
        lambda: app.moderation.approve_comment(held),
        lambda: app.threads.edit_post(post_id, "Mine", "Now"),
        lambda: app.tribes.found_tribe("Again", "crazies"),
        lambda: app.threads.post_comment(post_id, "Reply", held),
    ):
        with pytest.raises((Forbidden, Conflict, NotAllowedNow)):
            command()

    assert app.tribes.recorder.max_notification_id() == before


def test_approving_a_guest_saves_the_comment_and_the_email_together(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    current_actor.set(SYSTEM)
    held = app.threads.post_comment(post_id, "Hello", name="Ann", email="ann@example.org")
    act_as(organiser)
    before = app.tribes.recorder.max_notification_id()

    app.moderation.approve_comment(held)

    recorded = app.tribes.recorder.select_notifications(start=before + 1, limit=10)
    assert [n.topic.rsplit(":", 1)[-1] for n in recorded] == [
        "Comment.CommentApproved",
        "Index.Claimed",
    ]


def test_a_whole_conversation_records_events_in_the_tribes_words(app):
    organiser, member = uuid4(), uuid4()
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("The Crazies", "crazies", "", "crazies")
    act_as(member)
    app.tribes.join_tribe(tribe_id)
    post_id = app.threads.publish_post(tribe_id, "Dawn run", "Six.")
    app.threads.edit_post(post_id, "Dawn run", "Seven.")
    comment_id = app.threads.post_comment(post_id, "Early!")
    app.threads.edit_comment(comment_id, "Too early!")
    app.reactions.toggle_like(post_id)
    app.reactions.toggle_like(post_id)
    act_as(organiser)
    app.tribes.grant_role(tribe_id, member, "moderator")
    app.moderation.flag_comment(comment_id)
    app.moderation.hide_comment(comment_id, "Grumpy")
    app.moderation.mark_comment_spam(comment_id)
    act_as(member)
    app.threads.retract_comment(comment_id)
    app.threads.retract_post(post_id)

    recorded = app.tribes.recorder.select_notifications(start=1, limit=100)
    names = [n.topic.rsplit(".", 1)[-1] for n in recorded]
    assert names == [
        "TribeFounded",
        "Claimed",
        "TribeAccessRecorded",
        "MembershipRecorded",
        "MemberJoined",
        "MembershipRecorded",
        "PostPublished",
        "PostEdited",
        "CommentPosted",
        "CommentEdited",
        "Liked",
        "Unliked",
        "RoleGranted",
        "MembershipChanged",
        "CommentFlagged",
        "CommentHidden",
        "CommentMarkedSpam",
        "CommentRetracted",
        "PostRetracted",
    ]
