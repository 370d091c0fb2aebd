"""The session cookie is sent again only when the session changed, or once it is a day old."""

from __future__ import annotations

from base64 import b64encode
from datetime import timedelta
from typing import Any

from litestar.middleware.session.client_side import AAD
from litestar.testing import TestClient

from cookout.platform.web import auth
from tests.conftest import Clock
from tests.helpers import sign_up


def session_cookies(response: Any) -> list[str]:
    return [value for key, value in response.headers.multi_items()
            if key == "set-cookie" and value.startswith("cookout_session")]


def test_an_unchanged_session_is_not_sent_again(client: TestClient[Any]) -> None:
    sign_up(client)
    client.get("/")  # shows (and so clears) the welcome message
    response = client.get("/settings")
    assert response.status_code == 200 and "Sign out" in response.text
    assert session_cookies(response) == []


def test_a_changed_session_is_sent_with_the_same_attributes(client: TestClient[Any]) -> None:
    [signed_in] = session_cookies(sign_up(client))
    [signed_out] = session_cookies(client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]},
                                               follow_redirects=False))
    for cookie in (signed_in, signed_out):
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Max-Age=" in cookie
    assert "Sign out" not in client.get("/").text


def test_a_day_old_session_cookie_is_renewed_so_it_keeps_sliding(clocked_client: TestClient[Any],
                                                                  clock: Clock) -> None:
    client = clocked_client
    sign_up(client)
    client.get("/")
    clock.ahead = timedelta(seconds=auth.RENEW_AFTER + 60)
    [cookie] = session_cookies(client.get("/settings"))
    assert "HttpOnly" in cookie


def test_a_mangled_session_cookie_is_no_session_and_is_cleared(client: TestClient[Any]) -> None:
    client.cookies.set("cookout_session", b64encode(b"\0" * 12 + b"junk" + AAD + b"{not json").decode())
    response = client.get("/")
    assert response.status_code == 200 and "Sign out" not in response.text
    [cleared] = session_cookies(response)
    assert "null" in cleared
