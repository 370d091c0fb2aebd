"""Posting a comment as a plain form: what the 303 and the page after it carry."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from cookout.domain.threads import Threads
from cookout.platform.web.comments import HELD
from cookout.platform.container import Container
from tests.conversation_helpers import comment_id_of, found_tribe, publish, reply, sign_out, signed_up
from tests.helpers import post_form, unique


def flash_messages(html: str) -> int:
    return html.count('class="flash ')


def test_a_members_comment_opens_the_page_at_it_with_no_message_and_no_new_cookie(client: TestClient[Any]) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    client.get(f"/p/{post_id}")  # shows the messages left so far
    posted = reply(client, post_id, "Straight up")
    assert posted.status_code == 303
    comment_id = comment_id_of(posted)
    assert posted.headers["location"] == f"/p/{post_id}#c-{comment_id}"
    assert not [v for k, v in posted.headers.multi_items() if k == "set-cookie" and v.startswith("cookout_session")]
    page = client.get(f"/p/{post_id}").text
    assert f'id="c-{comment_id}"' in page and "Straight up" in page
    assert flash_messages(page) == 0


def test_a_held_guest_comment_still_says_it_awaits_moderation(client: TestClient[Any]) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    sign_out(client)
    client.get(f"/p/{post_id}")
    posted = reply(client, post_id, "Hello from a guest", name="Gus Guest", email=f"{unique()}@example.org")
    assert posted.status_code == 303
    page = client.get(f"/p/{post_id}").text
    assert HELD.split(";")[0] in page and flash_messages(page) == 1


def test_a_member_who_asks_to_be_notified_follows_with_their_accounts_email(client: TestClient[Any],
                                                                           container: Container) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    handle = signed_up(client)
    posted = post_form(client, f"/p/{post_id}/comments",
                       {"body": "Tell me more", "parent_id": "", "notify": "on", "email": "someone@else.example"})
    assert posted.status_code == 303
    threads = container.service(Threads)
    assert threads.is_subscribed(UUID(post_id), f"{handle}@example.org")
    assert not threads.is_subscribed(UUID(post_id), "someone@else.example")


def test_the_page_after_a_members_comment_waits_for_the_views_instead_of_the_post(
    client: TestClient[Any], container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    waits: list[int | None] = []
    real_wait = container.wait_for
    monkeypatch.setattr(container, "wait_for", lambda position, *args, **kwargs: (
        waits.append(position), real_wait(position, *args, **kwargs))[1])
    monkeypatch.setattr(container, "has_reached", lambda position, *args: False)

    posted = reply(client, post_id, "Answered at once")
    assert posted.status_code == 303
    assert waits == []  # the POST did not wait for the views
    seen = int(client.cookies["cookout_seen"])
    assert seen >= container.log_position() - 1
    page = client.get(f"/p/{post_id}").text
    assert waits == [seen]  # the page did, before reading them
    assert "Answered at once" in page


def test_a_second_comment_does_not_wait_for_the_first_to_show(
    client: TestClient[Any], container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    reply(client, post_id, "One")
    client.cookies.set("cookout_seen", str(container.log_position() + 10**9))  # as if the views were far behind
    waits: list[int] = []
    monkeypatch.setattr(container, "wait_for", lambda position, *args, **kwargs: waits.append(position) or True)
    assert reply(client, post_id, "Two").status_code == 303
    assert waits == []


def test_a_nonsense_position_cookie_is_ignored(client: TestClient[Any]) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    client.cookies.set("cookout_seen", "not-a-number")
    assert client.get(f"/p/{post_id}").status_code == 200


def test_static_files_never_wait_for_the_views(client: TestClient[Any], container: Container,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[int] = []
    monkeypatch.setattr(container, "wait_for", lambda position, *args, **kwargs: waits.append(position) or True)
    client.cookies.set("cookout_seen", str(container.log_position() + 10**9))
    assert client.get("/static/cookout.css").status_code == 200
    assert waits == []
