"""Confirmed email: sign-up sends a confirmation link, the layout asks until it is followed, and until then
Cookout sends the address nothing else."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from tests.conversation_helpers import found_tribe, publish, reply, sign_out, signed_up
from tests.helpers import PASSWORD, confirm_email, letters_to, link_in_letter, sign_up, unique
from tests.integration.test_meetup_mail import command, schedule
from tests.meetup_helpers import Tribe as MeetupTribe

ASK = "Please confirm your email"


def confirmation_link(container: Container, address: str) -> str:
    return link_in_letter(container, address, "confirm_email")


def test_sign_up_asks_to_confirm_the_email_until_the_link_is_followed(
    client: TestClient[Any], container: Container
) -> None:
    handle = unique()
    email = f"{handle}@example.org"
    joined = sign_up(client, handle, email, confirm=False)
    next_page = client.get(joined.headers["location"])
    assert "confirm your email" in next_page.text
    assert ASK in client.get("/settings").text
    link = confirmation_link(container, email)
    assert "confirm" in link
    confirmed = client.get(link, follow_redirects=False)
    assert confirmed.status_code == 303
    assert "your email is confirmed" in client.get("/").text
    assert ASK not in client.get("/settings").text


def test_a_confirmation_link_works_once_and_an_altered_one_not_at_all(
    client: TestClient[Any], container: Container
) -> None:
    handle = unique()
    email = f"{handle}@example.org"
    sign_up(client, handle, email, confirm=False)
    link = confirmation_link(container, email)
    altered = client.get(link[:-5] + ("AAAAA" if not link.endswith("AAAAA") else "BBBBB"))
    assert altered.status_code == 404 and "not one we sent" in altered.text
    assert ASK in client.get("/settings").text
    assert client.get(link, follow_redirects=False).status_code == 303
    again = client.get(link)
    assert again.status_code == 410 and "already used" in again.text


def test_an_unconfirmed_address_gets_no_reply_mail_until_confirmed(
    client: TestClient[Any], container: Container
) -> None:
    author = unique()
    author_email = f"{author}@example.org"
    sign_up(client, author, author_email, confirm=False)
    post_id = publish(client, found_tribe(client))
    sign_out(client)
    signed_up(client, "Replier")
    reply(client, post_id, "Before you confirmed")
    assert [row for row in letters_to(container, author_email) if row["kind"] != "confirm_email"
            and row["kind"] != "welcome"] == []
    sign_out(client)
    assert client.get(confirmation_link(container, author_email), follow_redirects=False).status_code == 303
    signed_up(client, "Second Replier")
    reply(client, post_id, "After you confirmed")
    replies = [row for row in letters_to(container, author_email) if row["kind"] not in ("confirm_email", "welcome")]
    assert len(replies) == 1 and "After you confirmed" in json.dumps(replies[0]["payload"])


def test_an_unconfirmed_address_gets_no_invitation(container: Container) -> None:
    tribe = MeetupTribe(container, members=0)
    meetup_id = schedule(container, tribe)
    handle = unique()
    unconfirmed = container.accounts.sign_up(handle, "Not Yet", f"{handle}@example.org", PASSWORD)
    confirmed = confirm_email(container, container.accounts.sign_up(
        f"{handle}c", "Confirmed", f"{handle}c@example.org", PASSWORD))
    command(container, tribe.organiser["id"], "invite", meetup_id, [unconfirmed, confirmed])
    recipients = {row["recipient"] for row in tribe.letters(meetup_id)}
    assert f"{handle}c@example.org" in recipients
    assert f"{handle}@example.org" not in recipients
