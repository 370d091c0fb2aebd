"""Joining, signing in and out, and profiles, through HTTP as a browser without JavaScript does."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.platform.web.assets import static_url
from tests.conftest import HEALTH_TOKEN
from tests.helpers import PASSWORD, post_form, sign_up, unique


def test_sign_up_signs_you_in_and_shows_your_profile(client: TestClient[Any]) -> None:
    handle = unique()
    response = sign_up(client, handle, display_name="Amara Okafor")
    assert response.status_code == 303
    assert response.headers["location"] == f"/members/{handle}"
    profile = client.get(f"/members/{handle}")
    assert profile.status_code == 200
    assert "Amara Okafor" in profile.text
    assert f"@{handle}" in profile.text
    assert 'action="/logout"' in profile.text


def test_sign_out_then_sign_in_by_handle_and_by_email(client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle)
    assert post_form(client, "/logout", {}).status_code == 303
    assert 'action="/logout"' not in client.get("/").text

    by_handle = post_form(client, "/login", {"login": handle, "password": PASSWORD})
    assert by_handle.status_code == 303
    assert by_handle.headers["location"] == f"/members/{handle}"
    post_form(client, "/logout", {})
    by_email = post_form(client, "/login", {"login": f"{handle.upper()}@EXAMPLE.ORG", "password": PASSWORD})
    assert by_email.status_code == 303
    assert 'action="/logout"' in client.get("/").text


def test_duplicate_email_in_another_case_is_refused_and_keeps_what_you_typed(client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle)
    post_form(client, "/logout", {})
    again = sign_up(client, unique(), email=f"{handle.upper()}@Example.ORG", display_name="Second Me",
                    password="another long secret")
    assert again.status_code == 422
    assert "already exists" in again.text
    assert 'value="Second Me"' in again.text
    assert "another long secret" not in again.text


def test_bad_sign_up_fields_each_get_their_message(client: TestClient[Any], container: Container) -> None:
    before = container.log_position()
    response = post_form(
        client, "/signup",
        {"handle": "has spaces", "display_name": "Someone", "email": "not-an-email", "password": "short"},
    )
    assert response.status_code == 422
    assert "3 to 30" in response.text
    assert "not an email address" in response.text
    assert "at least 10 characters" in response.text
    assert 'value="has spaces"' in response.text
    assert 'value="not-an-email"' in response.text
    long_handle = post_form(client, "/signup", {"handle": "x" * 200, "display_name": "S",
                                                "email": "ok@example.org", "password": PASSWORD})
    assert long_handle.status_code == 422
    assert container.log_position() == before


def test_a_post_without_the_csrf_token_is_refused_and_records_nothing(
    client: TestClient[Any], container: Container
) -> None:
    client.get("/signup")
    before = container.log_position()
    handle = unique()
    response = client.post(
        "/signup",
        data={"handle": handle, "display_name": "N", "email": f"{handle}@example.org", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "permission" in response.text
    assert container.log_position() == before
    assert client.get(f"/members/{handle}").status_code == 404


def test_a_five_megabyte_form_is_refused_with_413(client: TestClient[Any], container: Container) -> None:
    before = container.log_position()
    response = post_form(client, "/signup", {"handle": unique(), "display_name": "x" * 5_000_000,
                                             "email": "big@example.org", "password": PASSWORD})
    assert response.status_code == 413
    assert "larger than Cookout accepts" in response.text
    assert container.log_position() == before


def test_ten_wrong_passwords_are_slowed_down_and_the_right_one_works_after_the_window(
    client: TestClient[Any],
) -> None:
    handle = unique()
    sign_up(client, handle)
    post_form(client, "/logout", {})
    statuses = [post_form(client, "/login", {"login": handle, "password": "wrong password!"}).status_code
                for _ in range(10)]
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429
    blocked = post_form(client, "/login", {"login": handle, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text
    time.sleep(3.2)  # the test settings' window is 3 seconds
    assert post_form(client, "/login", {"login": handle, "password": PASSWORD}).status_code == 303


def test_wrong_password_says_so_and_keeps_the_login(client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle)
    post_form(client, "/logout", {})
    response = post_form(client, "/login", {"login": handle, "password": "not the password"})
    assert response.status_code == 401
    assert "do not match" in response.text
    assert f'value="{handle}"' in response.text


def test_an_unknown_member_gets_a_friendly_404_page(client: TestClient[Any]) -> None:
    response = client.get("/members/nobody_here_at_all")
    assert response.status_code == 404
    assert "Nobody here goes by @nobody_here_at_all" in response.text
    assert "Traceback" not in response.text
    assert client.get("/no/such/page").status_code == 404


def test_sign_in_only_returns_to_local_pages(client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle)
    post_form(client, "/logout", {})
    response = post_form(client, "/login", {"login": handle, "password": PASSWORD, "next": "//evil.example"})
    assert response.headers["location"] == f"/members/{handle}"


def test_session_cookie_is_httponly_and_lax(client: TestClient[Any]) -> None:
    response = sign_up(client)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "cookout_session" in v)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie


def test_readyz_reports_database_and_projection_lag(client: TestClient[Any], live_server: str) -> None:
    sign_up(client)
    with_token = client.get("/readyz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}).json()
    with urllib.request.urlopen(f"{live_server}/readyz", timeout=5) as response:
        from_loopback = json.load(response)
    for health in (with_token, from_loopback):
        assert health["status"] == "ready"
        assert health["database"] == "ok"
        assert set(health["projections"]) >= {"member_directory", "welcomes"}
        assert all(p["lag"] >= 0 and p["parked"] >= 0 for p in health["projections"].values())


def test_healthz_tells_an_anonymous_outside_caller_only_that_it_is_up(client: TestClient[Any]) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    wrong = client.get("/healthz", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.json() == {"status": "ok"}
    forged = client.get("/healthz", headers={"X-Forwarded-For": "127.0.0.1"})
    assert forged.json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.get("/readyz", headers={"X-Forwarded-For": "127.0.0.1"}).json() == {"status": "ready"}


def test_home_page_lists_new_members(client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle, display_name="Newest Person")
    home = client.get("/")
    assert "Newest Person" in home.text
    assert static_url("htmx-2.0.8.min.js") in home.text
    assert client.get(static_url("htmx-2.0.8.min.js")).status_code == 200


def test_home_and_directory_hide_members_only_tribes_from_outsiders(client: TestClient[Any]) -> None:
    sign_up(client)
    open_slug, closed_slug = unique("open-"), unique("closed-")
    for slug, visibility in ((open_slug, "public"), (closed_slug, "members")):
        response = post_form(client, "/tribes", {"name": f"Tribe {slug}", "slug": slug, "nickname": "friends",
                                                 "description": "", "visibility": visibility})
        assert response.status_code == 303
    # The home page shows the six biggest tribes, and other tests' tribes may outnumber these new
    # one-member tribes there; the directory lists every tribe its reader may see.
    assert f"/t/{closed_slug}" in client.get("/tribes").text  # its founder sees it
    post_form(client, "/logout", {})
    assert f"/t/{open_slug}" in client.get("/tribes").text
    assert f"/t/{closed_slug}" not in client.get("/tribes").text
    assert f"/t/{closed_slug}" not in client.get("/").text
