"""Download my data: one JSON file of what a member wrote and answered, for them alone."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from tests.conversation_helpers import found_tribe, publish, reply, comment_id_of, settle, signed_up
from tests.helpers import post_form
from tests.meetup_helpers import schedule


def test_the_export_needs_you_to_sign_in(client: TestClient[Any]) -> None:
    response = client.get("/settings/export.json", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_settings_page_offers_the_download(client: TestClient[Any]) -> None:
    signed_up(client)
    page = client.get("/settings").text
    assert page.index("<main") < page.index('href="/settings/export.json"') < page.index("</main>")


def test_the_export_holds_what_the_member_wrote_and_answered(client: TestClient[Any], container: Container) -> None:
    handle = signed_up(client, display_name="Ada Export")
    slug = found_tribe(client)
    post_id = publish(client, slug, title="Lanterns tonight", body="Who brings the matches?")
    comment_id = comment_id_of(reply(client, post_id, "I will"))
    assert post_form(client, f"/c/{comment_id}/edit", {"body": "I will, and candles"}).status_code == 303
    assert post_form(client, f"/likes/{post_id}", {}).status_code in (200, 303)
    meetup_id = schedule(client, container, slug)
    assert post_form(client, f"/m/{meetup_id}/rsvp", {"answer": "going"}).status_code == 303
    settle(container)

    response = client.get("/settings/export.json")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith("attachment")
    assert "no-store" in response.headers["cache-control"]
    data = json.loads(response.text)
    assert data["profile"]["handle"] == handle
    assert data["profile"]["display_name"] == "Ada Export"
    assert data["profile"]["email"] == f"{handle}@example.org"
    assert data["settings"]["reply_emails"] is True
    assert [t["slug"] for t in data["tribes"]] == [slug]
    assert [p["title"] for p in data["posts"]] == ["Lanterns tonight"]
    assert [v["body"] for v in data["comments"][0]["versions"]] == ["I will", "I will, and candles"]
    assert data["likes"] == [{"target_id": post_id, "kind": "post"}]
    assert [(r["meetup_id"], r["state"]) for r in data["rsvps"]] == [(str(meetup_id), "going")]
    assert data["check_ins"] == [] and data["sessions"] == []


def test_the_export_holds_nobody_elses_words(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client)
    publish(client, slug, title="Not yours")
    post_form(client, "/logout", {})
    signed_up(client)
    settle(container)
    data = json.loads(client.get("/settings/export.json").text)
    assert data["posts"] == [] and data["comments"] == [] and data["tribes"] == []
