"""Subscriptions to a post's comments, toggled likes and dismissed flags, in the conversation services."""

from uuid import UUID, uuid4

import pytest

from cookout.domain.base import SYSTEM, current_actor
from tests.unit.conversation_fixtures import Community, act_as, liked
from cookout.domain.errors import InvalidInput, NotAllowedNow
from cookout.domain.subscriptions import Subscription


def a_post(app: Community, organiser: UUID) -> UUID:
    act_as(organiser)
    tribe_id = app.tribes.found_tribe("The Crazies", "crazies", "", "crazies", "public")
    return app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")


def events(app: Community, post_id: UUID, email: str) -> list[str]:
    return [type(e).__name__ for e in app.tribes.events.get(Subscription.create_id(post_id, email))]


def test_a_guest_ticking_notify_asks_for_confirmation_in_the_same_save_as_the_comment(app):
    post_id = a_post(app, uuid4())
    current_actor.set(SYSTEM)
    app.threads.post_comment(post_id, "Keep me posted", name="Ann", email="Ann@Example.org", notify=True)
    assert not app.threads.is_subscribed(post_id, "ann@example.org")

    app.threads.confirm_subscription(post_id, "ann@example.org")
    app.threads.confirm_subscription(post_id, "ann@example.org")

    assert app.threads.is_subscribed(post_id, "ann@example.org")
    assert events(app, post_id, "ann@example.org") == ["Subscribed", "SubscriptionConfirmed"]


def test_a_guest_starting_again_after_unsubscribing_must_confirm_again(app):
    post_id = a_post(app, uuid4())
    current_actor.set(SYSTEM)
    app.threads.subscribe(post_id, "ann@example.org")
    app.threads.confirm_subscription(post_id, "ann@example.org")
    app.threads.unsubscribe(post_id, "ann@example.org")
    with pytest.raises(NotAllowedNow):
        app.threads.confirm_subscription(post_id, "ann@example.org")

    app.threads.subscribe(post_id, "ann@example.org")

    assert not app.threads.is_subscribed(post_id, "ann@example.org")


def test_a_member_subscribes_with_the_address_given_and_a_bad_address_saves_nothing(app):
    post_id = a_post(app, uuid4())
    act_as(uuid4())
    before = app.tribes.recorder.max_notification_id()
    with pytest.raises(InvalidInput):
        app.threads.post_comment(post_id, "Hello", email="not an address", notify=True)
    assert app.tribes.recorder.max_notification_id() == before
    app.threads.post_comment(post_id, "Hello", email="me@example.org", notify=True)
    assert app.threads.is_subscribed(post_id, "me@example.org")


def test_subscribing_twice_changes_nothing_and_unsubscribing_is_harmless_to_repeat(app):
    post_id = a_post(app, uuid4())
    app.threads.subscribe(post_id, "fan@example.org")
    app.threads.subscribe(post_id, "FAN@example.org")
    assert events(app, post_id, "fan@example.org") == ["Subscribed"]

    assert app.threads.unsubscribe(post_id, "fan@example.org") is True
    assert app.threads.unsubscribe(post_id, "fan@example.org") is False
    assert app.threads.unsubscribe(post_id, "never@example.org") is False
    app.threads.subscribe(post_id, "fan@example.org")
    assert events(app, post_id, "fan@example.org") == ["Subscribed", "Unsubscribed", "Resubscribed"]


def test_toggling_a_like_likes_then_unlikes(app):
    post_id = a_post(app, uuid4())
    act_as(fan := uuid4())
    assert app.reactions.toggle_like(post_id) is True
    assert app.reactions.toggle_like(post_id) is False
    assert app.reactions.toggle_like(post_id) is True
    assert liked(app, fan, post_id)


def test_a_moderator_dismisses_the_flags_of_a_visible_comment_only(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    comment_id = app.threads.post_comment(post_id, "Hot take")
    act_as(uuid4())
    app.moderation.flag_comment(comment_id, "Rude")
    act_as(organiser)
    app.moderation.dismiss_flags(comment_id)
    assert type(list(app.tribes.events.get(comment_id))[-1]).__name__ == "CommentFlagsDismissed"
    app.moderation.hide_comment(comment_id, "On reflection")
    with pytest.raises(NotAllowedNow):
        app.moderation.dismiss_flags(comment_id)
