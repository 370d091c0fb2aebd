"""A member's settings page: name, reply emails, password and the private calendar link."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.projections.members import MemberDirectory
from tests.helpers import PASSWORD, post_form, sign_up, unique


def test_settings_need_you_to_sign_in(client: TestClient[Any]) -> None:
    response = client.get("/settings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings"


def test_renaming_and_turning_reply_emails_off_is_one_save(client: TestClient[Any], container: Container) -> None:
    handle = unique()
    sign_up(client, handle)
    before = container.log_position()
    response = post_form(client, "/settings", {"display_name": "  New   Name "})
    assert response.status_code == 303
    member = container.view(MemberDirectory).by_handle(handle)
    assert member["display_name"] == "New Name"
    assert member["reply_emails"] is False
    assert container.log_position() == before + 2  # Renamed and ReplyEmailsChosen, one save
    page = client.get("/settings").text
    assert 'value="New Name"' in page
    assert 'name="reply_emails" checked' not in page


def test_an_empty_name_is_refused_and_keeps_the_form(client: TestClient[Any], container: Container) -> None:
    sign_up(client)
    before = container.log_position()
    response = post_form(client, "/settings", {"display_name": "   ", "reply_emails": "on"})
    assert response.status_code == 422
    assert "the name people know you by" in response.text
    assert container.log_position() == before


def test_changing_the_password_needs_the_current_one(client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle)
    wrong = post_form(client, "/settings/password", {"current_password": "nope", "new_password": "a brand new secret"})
    assert wrong.status_code == 422
    assert "not your current password" in wrong.text
    short = post_form(client, "/settings/password", {"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422
    assert post_form(client, "/settings/password",
                     {"current_password": PASSWORD, "new_password": "a brand new secret"}).status_code == 303
    post_form(client, "/logout", {})
    assert post_form(client, "/login", {"login": handle, "password": PASSWORD}).status_code == 401
    assert post_form(client, "/login", {"login": handle, "password": "a brand new secret"}).status_code == 303


def test_the_private_calendar_link_can_be_made_replaced_and_switched_off(
    client: TestClient[Any], container: Container
) -> None:
    handle = unique()
    sign_up(client, handle)
    assert "Create my private calendar link" in client.get("/settings").text
    post_form(client, "/settings/calendar-feed", {})
    first = re.search(r"/feeds/([A-Za-z0-9_-]+)\.ics", client.get("/settings").text).group(1)
    assert container.view(MemberDirectory).by_calendar_token(first)["handle"] == handle

    post_form(client, "/settings/calendar-feed", {})
    second = re.search(r"/feeds/([A-Za-z0-9_-]+)\.ics", client.get("/settings").text).group(1)
    assert second != first
    assert container.view(MemberDirectory).by_calendar_token(first) is None

    post_form(client, "/settings/calendar-feed/revoke", {})
    assert container.view(MemberDirectory).by_calendar_token(second) is None
    assert "Create my private calendar link" in client.get("/settings").text
