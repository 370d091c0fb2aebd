"""Subscriptions to a post's comments, toggled likes and dismissed flags, in the conversation service."""

from uuid import UUID, uuid4

import pytest

from cookout.domain.base import SYSTEM, current_actor
from cookout.domain.conversation import Conversation
from tests.unit.conversation_fixtures import act_as
from cookout.domain.errors import InvalidInput, NotAllowedNow
from cookout.domain.subscriptions import Subscription


def a_post(app: Conversation, organiser: UUID) -> UUID:
    act_as(organiser)
    tribe_id = app.found_tribe("The Crazies", "crazies", "", "crazies", "public")
    return app.publish_post(tribe_id, "Dawn run", "Meet at six.")


def events(app: Conversation, post_id: UUID, email: str) -> list[str]:
    return [type(e).__name__ for e in app.events.get(Subscription.create_id(post_id, email))]


def test_a_guest_ticking_notify_asks_for_confirmation_in_the_same_save_as_the_comment(app):
    post_id = a_post(app, uuid4())
    current_actor.set(SYSTEM)
    app.post_comment(post_id, "Keep me posted", name="Ann", email="Ann@Example.org", notify=True)
    assert not app.is_subscribed(post_id, "ann@example.org")

    app.confirm_subscription(post_id, "ann@example.org")
    app.confirm_subscription(post_id, "ann@example.org")

    assert app.is_subscribed(post_id, "ann@example.org")
    assert events(app, post_id, "ann@example.org") == ["Subscribed", "SubscriptionConfirmed"]


def test_a_guest_starting_again_after_unsubscribing_must_confirm_again(app):
    post_id = a_post(app, uuid4())
    current_actor.set(SYSTEM)
    app.subscribe(post_id, "ann@example.org")
    app.confirm_subscription(post_id, "ann@example.org")
    app.unsubscribe(post_id, "ann@example.org")
    with pytest.raises(NotAllowedNow):
        app.confirm_subscription(post_id, "ann@example.org")

    app.subscribe(post_id, "ann@example.org")

    assert not app.is_subscribed(post_id, "ann@example.org")


def test_a_member_subscribes_with_the_address_given_and_a_bad_address_saves_nothing(app):
    post_id = a_post(app, uuid4())
    act_as(uuid4())
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidInput):
        app.post_comment(post_id, "Hello", email="not an address", notify=True)
    assert app.recorder.max_notification_id() == before
    app.post_comment(post_id, "Hello", email="me@example.org", notify=True)
    assert app.is_subscribed(post_id, "me@example.org")


def test_subscribing_twice_changes_nothing_and_unsubscribing_is_harmless_to_repeat(app):
    post_id = a_post(app, uuid4())
    app.subscribe(post_id, "fan@example.org")
    app.subscribe(post_id, "FAN@example.org")
    assert events(app, post_id, "fan@example.org") == ["Subscribed"]

    assert app.unsubscribe(post_id, "fan@example.org") is True
    assert app.unsubscribe(post_id, "fan@example.org") is False
    assert app.unsubscribe(post_id, "never@example.org") is False
    app.subscribe(post_id, "fan@example.org")
    assert events(app, post_id, "fan@example.org") == ["Subscribed", "Unsubscribed", "Resubscribed"]


def test_toggling_a_like_likes_then_unlikes(app):
    post_id = a_post(app, uuid4())
    act_as(uuid4())
    assert app.toggle_like(post_id) is True
    assert app.toggle_like(post_id) is False
    assert app.toggle_like(post_id) is True
    assert app.liked(post_id)


def test_a_moderator_dismisses_the_flags_of_a_visible_comment_only(app):
    organiser = uuid4()
    post_id = a_post(app, organiser)
    comment_id = app.post_comment(post_id, "Hot take")
    act_as(uuid4())
    app.flag_comment(comment_id, "Rude")
    act_as(organiser)
    app.dismiss_flags(comment_id)
    assert type(list(app.events.get(comment_id))[-1]).__name__ == "CommentFlagsDismissed"
    app.hide_comment(comment_id, "On reflection")
    with pytest.raises(NotAllowedNow):
        app.dismiss_flags(comment_id)
