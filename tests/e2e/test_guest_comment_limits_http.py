"""Guest comments are limited per client address and per post as well as per email, so rotating emails
does not make a guest unlimited."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from tests.conversation_helpers import found_tribe, publish, reply, signed_up
from tests.helpers import client_of_app_with, unique


def guest_comment(client: TestClient[Any], post_id: str, body: str = "Lovely idea") -> Any:
    handle = unique("guest")
    return reply(client, post_id, body, name="Passer By", email=f"{handle}@example.org")


def test_a_guest_rotating_emails_is_limited_per_address(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id, other_post_id = publish(client, slug), publish(client, slug, title="Another")
    with client_of_app_with(container, guest_comment_rate_limit_ip="3 per 1 minute") as guest:
        assert [guest_comment(guest, post_id).status_code for _ in range(3)] == [303] * 3
        before = container.log_position()
        refused = guest_comment(guest, other_post_id, body="And one more thing")
        assert refused.status_code == 429
        assert "commenting faster than Cookout allows" in refused.text and "And one more thing" in refused.text
        assert container.log_position() == before


def test_guests_together_are_limited_per_post_and_other_posts_stay_open(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id, other_post_id = publish(client, slug), publish(client, slug, title="Another")
    with client_of_app_with(container, guest_comment_rate_limit_post="3 per 1 minute") as guests:
        assert [guest_comment(guests, post_id).status_code for _ in range(3)] == [303] * 3
        assert guest_comment(guests, post_id).status_code == 429
        assert guest_comment(guests, other_post_id).status_code == 303
