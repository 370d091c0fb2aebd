"""Forgot password: a reset link by email that works once, for an hour, and says nothing about who has an account."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.platform.web.passwords import ANSWER_SECONDS
from tests.conftest import Clock
from tests.e2e.test_sessions_end_http import copy_of_session, signed_in
from tests.helpers import PASSWORD, client_of_app_with, letters_to, link_in_letter, post_form, sign_up, unique

NEW_PASSWORD = "a fresh and long secret"


def reset_link(container: Container, address: str) -> str:
    return link_in_letter(container, address, "password_reset", r"http\S+/password/reset/\S+")


def member_with_reset_link(client: TestClient[Any], container: Container) -> tuple[str, str, str]:
    handle = unique()
    email = f"{handle}@example.org"
    sign_up(client, handle, email)
    post_form(client, "/logout", {})
    assert post_form(client, "/password/forgot", {"email": email}).status_code == 200
    return handle, email, reset_link(container, email)


def can_sign_in(client: TestClient[Any], handle: str, password: str) -> bool:
    post_form(client, "/logout", {})
    return post_form(client, "/login", {"login": handle, "password": password}).status_code == 303


def test_the_sign_in_page_links_to_forgot_password(client: TestClient[Any]) -> None:
    assert 'href="/password/forgot"' in client.get("/login").text
    form = client.get("/password/forgot")
    assert form.status_code == 200 and 'name="email"' in form.text


def test_a_reset_link_sets_a_new_password_signs_in_and_ends_other_sessions(
    app: Litestar, client: TestClient[Any], container: Container
) -> None:
    handle = unique()
    email = f"{handle}@example.org"
    sign_up(client, handle, email)
    with copy_of_session(app, client) as elsewhere:
        assert signed_in(elsewhere)
        with TestClient(app=app, base_url="http://testserver.local") as browser:
            assert post_form(browser, "/password/forgot", {"email": email}).status_code == 200
            link = reset_link(container, email)
            form = browser.get(link)
            assert form.status_code == 200 and 'name="password"' in form.text
            done = post_form(browser, link, {"password": NEW_PASSWORD})
            assert done.status_code == 303 and done.headers["location"] == f"/members/{handle}"
            assert signed_in(browser)
        assert not signed_in(elsewhere)
    assert not can_sign_in(client, handle, PASSWORD)
    assert can_sign_in(client, handle, NEW_PASSWORD)


def test_a_reset_link_works_only_once(client: TestClient[Any], container: Container) -> None:
    handle, _, link = member_with_reset_link(client, container)
    assert post_form(client, link, {"password": NEW_PASSWORD}).status_code == 303
    post_form(client, "/logout", {})
    again = post_form(client, link, {"password": "yet another long secret"})
    assert again.status_code == 410 and "already used" in again.text
    assert client.get(link).status_code == 410
    assert can_sign_in(client, handle, NEW_PASSWORD)


def test_a_reset_link_expires_after_an_hour(
    client: TestClient[Any], clocked_client: TestClient[Any], container: Container, clock: Clock
) -> None:
    handle, _, link = member_with_reset_link(client, container)
    clock.ahead = timedelta(hours=1, minutes=1)
    late = post_form(clocked_client, link, {"password": NEW_PASSWORD})
    assert late.status_code == 410 and "expired" in late.text
    assert can_sign_in(client, handle, PASSWORD)


def test_an_altered_reset_link_is_refused_and_changes_nothing(client: TestClient[Any], container: Container) -> None:
    handle, _, link = member_with_reset_link(client, container)
    altered = link[:-6] + ("AAAAAA" if not link.endswith("AAAAAA") else "BBBBBB")
    for path in (altered, "/password/reset/nonsense", "/password/reset/" + "x" * 300):
        page = post_form(client, path, {"password": NEW_PASSWORD})
        assert page.status_code == 404 and "not one we sent" in page.text
    assert can_sign_in(client, handle, PASSWORD)


def test_a_weak_new_password_is_refused_and_the_link_still_works(client: TestClient[Any], container: Container) -> None:
    handle, _, link = member_with_reset_link(client, container)
    weak = post_form(client, link, {"password": "short"})
    assert weak.status_code == 422 and "at least 10 characters" in weak.text
    assert post_form(client, link, {"password": NEW_PASSWORD}).status_code == 303


def test_an_unknown_address_gets_the_same_answer_and_no_email(client: TestClient[Any], container: Container) -> None:
    handle = unique()
    known = f"{handle}@example.org"
    sign_up(client, handle, known)
    post_form(client, "/logout", {})
    client.get("/")  # the sign-out message, shown once
    nobody = f"{unique()}@example.org"
    for_member = post_form(client, "/password/forgot", {"email": known})
    for_nobody = post_form(client, "/password/forgot", {"email": nobody})
    assert for_member.status_code == for_nobody.status_code == 200
    assert for_member.text.replace(known, "ADDRESS") == for_nobody.text.replace(nobody, "ADDRESS")
    assert letters_to(container, nobody) == []


def test_known_and_unknown_addresses_are_answered_no_sooner_than_the_same_moment(client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle, f"{handle}@example.org")
    post_form(client, "/logout", {})
    for address in (f"{handle}@example.org", f"{unique()}@example.org"):
        started = time.monotonic()
        assert post_form(client, "/password/forgot", {"email": address}).status_code == 200
        assert time.monotonic() - started >= ANSWER_SECONDS


def test_reset_requests_are_limited_per_address(container: Container) -> None:
    with client_of_app_with(container, password_reset_rate_limit_address="2/hour") as client:
        email = f"{unique()}@example.org"
        answers = [post_form(client, "/password/forgot", {"email": email}).status_code for _ in range(3)]
        assert answers == [200, 200, 429]
        assert post_form(client, "/password/forgot", {"email": f"{unique()}@example.org"}).status_code == 200


def test_reset_requests_are_limited_per_client_address(container: Container) -> None:
    with client_of_app_with(container, password_reset_rate_limit_ip="2/hour") as client:
        answers = [post_form(client, "/password/forgot", {"email": f"{unique()}@example.org"}).status_code
                   for _ in range(3)]
        assert answers == [200, 200, 429]
        assert "Too many reset links" in post_form(client, "/password/forgot", {"email": "a@example.org"}).text
