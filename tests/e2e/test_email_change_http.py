"""Change email: asked for in /settings with the current password, taking effect when the link sent to the new
address is followed; the old address is told, and reply mail and invitations follow the change."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from tests.conversation_helpers import found_tribe, publish, reply, sign_out, signed_up
from tests.e2e.test_email_confirmation_http import confirmation_link, letters_to
from tests.helpers import PASSWORD, post_form, sign_up, unique
from tests.integration.test_meetup_mail import command, schedule
from tests.meetup_helpers import Tribe as MeetupTribe


def member(client: TestClient[Any]) -> tuple[str, str]:
    handle = unique()
    email = f"{handle}@example.org"
    assert sign_up(client, handle, email).status_code == 303
    return handle, email


def current_email(client: TestClient[Any]) -> str:
    return client.get("/settings").text


def test_the_settings_offer_an_email_change_form(client: TestClient[Any]) -> None:
    member(client)
    page = client.get("/settings").text
    assert 'action="/settings/email"' in page and 'name="email"' in page and 'name="password"' in page


def test_the_new_address_takes_effect_when_its_link_is_followed_and_the_old_one_is_told(
    client: TestClient[Any], container: Container
) -> None:
    handle, old = member(client)
    new = f"{unique()}@example.org"
    asked = post_form(client, "/settings/email", {"email": new, "password": PASSWORD})
    assert asked.status_code == 303
    assert f"We sent a link to {new}" in client.get("/settings").text
    assert f"<strong>{old}</strong>" in client.get("/settings").text  # not yet changed
    link = confirmation_link(container, new)
    assert "confirm" in link
    assert client.get(link, follow_redirects=False).status_code == 303
    assert f"<strong>{new}</strong>" in client.get("/settings").text
    told = [row for row in letters_to(container, old) if row["kind"] == "email_changed"]
    assert len(told) == 1 and told[0]["payload"]["email"] == new
    post_form(client, "/logout", {})
    assert post_form(client, "/login", {"login": new, "password": PASSWORD}).status_code == 303
    again = client.get(link)
    assert again.status_code == 410


def test_a_wrong_password_changes_nothing_and_keeps_the_typed_address(
    client: TestClient[Any], container: Container
) -> None:
    _, old = member(client)
    new = f"{unique()}@example.org"
    refused = post_form(client, "/settings/email", {"email": new, "password": "not my password at all"})
    assert refused.status_code == 422 and "not your current password" in refused.text
    assert f'value="{new}"' in refused.text
    assert letters_to(container, new) == []


def test_an_address_another_member_has_is_refused(client: TestClient[Any], container: Container) -> None:
    with TestClient(app=client.app, base_url="http://testserver.local") as other:
        _, taken = member(other)
    member(client)
    refused = post_form(client, "/settings/email", {"email": taken.upper(), "password": PASSWORD})
    assert refused.status_code == 422 and "Another account already uses that email address" in refused.text
    assert [row for row in letters_to(container, taken.upper())] == []


def test_an_address_someone_took_before_the_link_was_followed_is_refused(
    client: TestClient[Any], container: Container
) -> None:
    handle, old = member(client)
    new = f"{unique()}@example.org"
    post_form(client, "/settings/email", {"email": new, "password": PASSWORD})
    link = confirmation_link(container, new)
    with TestClient(app=client.app, base_url="http://testserver.local") as other:
        sign_up(other, unique(), new)
    refused = client.get(link)
    assert refused.status_code == 409 and "Another account already uses" in refused.text
    assert f"<strong>{old}</strong>" in client.get("/settings").text


def test_the_old_address_is_free_for_others_after_a_change(client: TestClient[Any], container: Container) -> None:
    _, old = member(client)
    new = f"{unique()}@example.org"
    post_form(client, "/settings/email", {"email": new, "password": PASSWORD})
    client.get(confirmation_link(container, new))
    with TestClient(app=client.app, base_url="http://testserver.local") as other:
        assert sign_up(other, unique(), old).status_code == 303


def test_reply_mail_and_invitations_follow_the_change(client: TestClient[Any], container: Container) -> None:
    author, old = member(client)
    post_id = publish(client, found_tribe(client))
    new = f"{unique()}@example.org"
    post_form(client, "/settings/email", {"email": new, "password": PASSWORD})
    client.get(confirmation_link(container, new))
    sign_out(client)
    signed_up(client, "Replier")
    reply(client, post_id, "Written after the change")
    to_new = [row for row in letters_to(container, new) if "Written after the change" in json.dumps(row["payload"])]
    assert len(to_new) == 1
    assert not [row for row in letters_to(container, old) if "Written after the change" in json.dumps(row["payload"])]

    tribe = MeetupTribe(container, members=0)
    meetup_id = schedule(container, tribe)
    member_id = container.accounts.member_id_for_handle(author)
    command(container, tribe.organiser["id"], "invite", meetup_id, [member_id])
    recipients = {row["recipient"] for row in tribe.letters(meetup_id)}
    assert new in recipients and old not in recipients
