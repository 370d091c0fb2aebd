"""Sessions that can end: signing out, changing the password and "Sign out everywhere" end every copy of
a session, and no session outlives its absolute lifetime, however often its cookie was renewed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from cookout.platform.web import auth
from tests.conftest import Clock
from tests.helpers import PASSWORD, post_form, sign_up, unique

NEW_PASSWORD = "a brand new long secret"


@contextmanager
def copy_of_session(app: Litestar, client: TestClient[Any]) -> Iterator[TestClient[Any]]:
    """Another browser holding a copy of this one's session cookie, as a thief with it would."""
    with TestClient(app=app, base_url="http://testserver.local") as other:
        for name, value in client.cookies.items():
            if name.startswith("cookout_session"):
                other.cookies.set(name, value)
        yield other


def signed_in(client: TestClient[Any]) -> bool:
    return client.get("/settings", follow_redirects=False).status_code == 200


def test_a_copied_session_stops_working_when_its_member_signs_out(app: Litestar, client: TestClient[Any]) -> None:
    sign_up(client)
    with copy_of_session(app, client) as copy:
        assert signed_in(copy)
        assert post_form(client, "/logout", {}).status_code == 303
        assert not signed_in(copy)
        assert 'action="/logout"' not in copy.get("/").text
    assert not signed_in(client)


def test_changing_the_password_ends_every_other_copy_but_this_browser_stays_signed_in(
    app: Litestar, client: TestClient[Any]
) -> None:
    handle = unique()
    sign_up(client, handle)
    with copy_of_session(app, client) as copy:
        assert signed_in(copy)
        changed = post_form(client, "/settings/password",
                            {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert changed.status_code == 303
        settings = client.get("/settings")
        assert settings.status_code == 200 and "signed out everywhere else" in settings.text
        assert not signed_in(copy)
    assert signed_in(client)
    post_form(client, "/logout", {})
    assert post_form(client, "/login", {"login": handle, "password": NEW_PASSWORD}).status_code == 303


def test_sign_out_everywhere_in_settings_ends_every_session_this_one_too(app: Litestar, client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle)
    page = client.get("/settings").text
    assert 'action="/settings/sessions/end"' in page and "Sign out everywhere" in page
    with copy_of_session(app, client) as copy:
        ended = post_form(client, "/settings/sessions/end", {})
        assert ended.status_code == 303 and ended.headers["location"] == "/login"
        assert "signed out everywhere" in client.get("/login").text
        assert not signed_in(copy)
    assert not signed_in(client)
    assert post_form(client, "/login", {"login": handle, "password": PASSWORD}).status_code == 303
    assert signed_in(client)


def test_a_session_older_than_its_absolute_lifetime_is_signed_out_though_its_cookie_kept_sliding(
    clocked_client: TestClient[Any], clock: Clock
) -> None:
    client = clocked_client
    sign_up(client)
    client.get("/")
    for days in (10, 20, 29):  # in use every ten days, so its cookie is renewed each time
        clock.ahead = timedelta(days=days)
        assert signed_in(client)
    clock.ahead = timedelta(hours=auth.SESSION_DAYS * 24 + 1)
    assert not signed_in(client)
    assert 'action="/logout"' not in client.get("/").text
