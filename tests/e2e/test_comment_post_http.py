"""Posting a comment as a plain form: what the 303 and the page after it carry."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.testing import TestClient

from cookout.domain.conversation import Conversation
from cookout.platform.comments import HELD
from cookout.platform.runtime import Runtime
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
                                                                           runtime: Runtime) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    handle = signed_up(client)
    posted = post_form(client, f"/p/{post_id}/comments",
                       {"body": "Tell me more", "parent_id": "", "notify": "on", "email": "someone@else.example"})
    assert posted.status_code == 303
    service = runtime.service(Conversation)
    assert service.is_subscribed(UUID(post_id), f"{handle}@example.org")
    assert not service.is_subscribed(UUID(post_id), "someone@else.example")
