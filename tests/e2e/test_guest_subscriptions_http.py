"""A guest's "notify me" through HTTP: one confirmation letter, and comment emails only after the click."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.projections.reply_mail import ReplyMail
from cookout.platform.letters import compose
from tests.conversation_helpers import comment_id_of, found_tribe, publish, reply, sign_out, signed_up
from tests.helpers import post_form, unique


def letters_to(container: Container, email: str) -> list[dict[str, Any]]:
    assert container.wait_for(container.log_position(), (ReplyMail,), timeout=20)
    return container.outbox.rows("SELECT * FROM outbox WHERE recipient = %(to)s ORDER BY created_at, key", {"to": email})


def confirmation_path(container: Container, letter: dict[str, Any]) -> str:
    text = compose(letter, container.settings).get_body(("plain",)).get_content()
    [path] = re.findall(r"https?://\S+?(/subscriptions/confirm/\S+)", text)
    return path


def test_a_guests_notify_me_sends_one_confirmation_letter_and_comment_mail_only_after_the_click(
    client: TestClient[Any], container: Container
) -> None:
    signed_up(client, "Post Author")
    post_id = publish(client, found_tribe(client), title="Dawn run")
    sign_out(client)
    guest = f"{unique()}@example.org"
    assert reply(client, post_id, "Keep me posted", name="Gus Guest", email=guest, notify="on").status_code == 303
    reply(client, post_id, "Me again", name="Gus Guest", email=guest, notify="on")
    signed_up(client, "Talker")
    before_click = comment_id_of(reply(client, post_id, "Some news"))

    [letter] = letters_to(container, guest)
    assert letter["kind"] == "confirm_subscription"
    assert "Dawn run" in compose(letter, container.settings)["Subject"]
    path = confirmation_path(container, letter)
    sign_out(client)
    shown = client.get(path)
    assert shown.status_code == 200 and "Yes, email me" in shown.text
    confirmed = post_form(client, path, {})
    assert confirmed.status_code == 200 and "You're subscribed" in confirmed.text
    signed_up(client, "Other Talker")
    after_click = comment_id_of(reply(client, post_id, "More news"))

    kinds = {row["key"]: row["kind"] for row in letters_to(container, guest)}
    assert f"conversation:{before_click}:{guest}" not in kinds
    assert kinds[f"conversation:{after_click}:{guest}"] == "new_comment"
    assert list(kinds.values()).count("confirm_subscription") == 1


def test_a_forged_or_altered_confirmation_link_changes_nothing(client: TestClient[Any], container: Container) -> None:
    signed_up(client, "Post Author")
    post_id = publish(client, found_tribe(client))
    sign_out(client)
    guest = f"{unique()}@example.org"
    reply(client, post_id, "Keep me posted", name="Gus Guest", email=guest, notify="on")
    [letter] = letters_to(container, guest)
    path = confirmation_path(container, letter)
    token = path.rsplit("/", 1)[1]
    payload, signature = token.rsplit(".", 1)
    altered = f"/subscriptions/confirm/{payload}.{signature[::-1]}"
    before = container.log_position()

    for forged in (altered, f"/subscriptions/confirm/{payload}", "/subscriptions/confirm/not-a-token"):
        answered = post_form(client, forged, {})
        assert answered.status_code == 404
        assert "This confirmation link is not valid." in answered.text
    assert container.log_position() == before
    signed_up(client, "Talker")
    news = comment_id_of(reply(client, post_id, "Some news"))
    assert f"conversation:{news}:{guest}" not in {row["key"] for row in letters_to(container, guest)}
