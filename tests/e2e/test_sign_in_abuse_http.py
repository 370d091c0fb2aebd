"""Sign-in and sign-up abuse: timing that tells who has an account, buckets an attacker can multiply,
parallel guesses, forged proxy headers, lock-outs of the owner, sign-up floods and common passwords."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient

from cookout.platform.web.app import create_app
from cookout.platform.cli import SERVER_OPTIONS
from cookout.platform.container import Container, bootstrap
from cookout.platform.settings import ConfigurationError, load_settings
from tests.helpers import PASSWORD, client_of_app_with, csrf_token, post_form, sign_up, unique

WRONG = "not the right password"
TOO_MANY = "Too many failed attempts"


def log_in(client: TestClient[Any], login: str, password: str = WRONG) -> Any:
    return post_form(client, "/login", {"login": login, "password": password})


def timed_login(client: TestClient[Any], login: str) -> float:
    started = time.perf_counter()
    assert log_in(client, login).status_code == 401
    return time.perf_counter() - started


def test_a_wrong_password_for_nobody_takes_as_long_as_for_a_real_account(container: Container) -> None:
    # Stronger than the suite's hasher, so a hash check stands out from the rest of the request.
    strong = bootstrap(container.settings, url=container.url,
                       hasher=PasswordHasher(time_cost=3, memory_cost=32768, parallelism=1))
    try:
        with TestClient(app=create_app(container=strong), base_url="http://testserver.local") as client:
            handle = unique()
            sign_up(client, handle)
            post_form(client, "/logout", {})
            real = min(timed_login(client, handle) for _ in range(3))
            nobody = min(timed_login(client, unique("nobody")) for _ in range(3))
    finally:
        strong.close()
    assert nobody > real * 0.5, f"unknown login answered in {nobody:.3f}s, a real one in {real:.3f}s"


def test_handle_and_email_of_one_member_count_in_one_limit(app: Litestar, client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle)
    with TestClient(app=app, base_url="http://testserver.local") as attacker:
        statuses = [log_in(attacker, login).status_code
                    for login in (handle, f"{handle}@example.org", handle.upper(), f"{handle}@EXAMPLE.org", handle)]
        assert statuses == [401] * 5
        refused = log_in(attacker, f"{handle}@example.org")
        assert refused.status_code == 429 and TOO_MANY in refused.text


def test_twelve_parallel_guesses_get_at_most_the_five_the_limit_allows(app: Litestar, client: TestClient[Any]) -> None:
    handle = unique()
    sign_up(client, handle)
    start = threading.Barrier(12)
    statuses: list[int] = []
    with TestClient(app=app, base_url="http://testserver.local") as attacker:
        csrf_token(attacker)

        def guess() -> None:
            start.wait(timeout=30)
            statuses.append(log_in(attacker, handle).status_code)

        threads = [threading.Thread(target=guess) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [401] * 5 + [429] * 7


def test_the_owner_signs_in_from_their_own_browser_while_guesses_from_elsewhere_are_refused(
    app: Litestar, client: TestClient[Any]
) -> None:
    handle = unique()
    sign_up(client, handle)  # this browser has signed in as the member: a known device
    post_form(client, "/logout", {})
    with TestClient(app=app, base_url="http://testserver.local") as attacker:
        assert [log_in(attacker, handle).status_code for _ in range(5)] == [401] * 5
        assert log_in(attacker, handle).status_code == 429
        owner = log_in(client, handle, PASSWORD)
        assert owner.status_code == 303 and owner.headers["location"] == f"/members/{handle}"
        assert log_in(attacker, handle, PASSWORD).status_code == 429


@contextmanager
def served(app: Litestar) -> Iterator[str]:
    """The app behind uvicorn as `cookout web` runs it, on a free local port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def guesses_from(base_url: str, forwarded_for: list[str]) -> list[int]:
    """Wrong passwords for made-up logins, each claiming to come from the next address."""
    with httpx.Client(base_url=base_url) as browser:
        browser.get("/login")
        token = browser.cookies["csrftoken"]
        return [browser.post("/login", data={"login": unique(), "password": WRONG, "_csrf_token": token},
                             headers={"X-Forwarded-For": address}).status_code
                for address in forwarded_for]


def test_forged_forwarded_for_headers_do_not_buy_fresh_attempts(container: Container) -> None:
    settings = load_settings(database_url=container.settings.database_url, broker_url=None,
                             login_rate_limit_ip="3 per 1 minute")
    with served(create_app(settings, container)) as base_url:
        statuses = guesses_from(base_url, [f"203.0.113.{n}" for n in range(5)])
    assert statuses == [401, 401, 401, 429, 429]


def test_forwarded_for_through_listed_proxies_names_the_client(container: Container) -> None:
    settings = load_settings(database_url=container.settings.database_url, broker_url=None,
                             login_rate_limit_ip="3 per 1 minute", trusted_proxies="127.0.0.1, 10.0.0.0/8")
    with served(create_app(settings, container)) as base_url:
        # Each proxy appends the address it saw; read from the right through the listed proxies, the first
        # other address is the client. What the client wrote itself (the leftmost entry) is not believed.
        each_their_own = guesses_from(base_url, [f"198.51.100.7, 203.0.113.{n}, 10.0.0.2" for n in range(5)])
        one_client = guesses_from(base_url, [f"198.51.100.{n}, 203.0.113.200, 10.0.0.2" for n in range(5)])
    assert each_their_own == [401] * 5
    assert one_client == [401, 401, 401, 429, 429]


def test_trusted_proxies_that_are_not_addresses_stop_the_start_with_a_message() -> None:
    with pytest.raises(ConfigurationError, match="COOKOUT_TRUSTED_PROXIES .*'proxy.example'"):
        load_settings(trusted_proxies="10.0.0.0/8, proxy.example")


def test_sign_ups_from_one_address_are_limited_and_the_form_is_kept(client: TestClient[Any], container: Container) -> None:
    with client_of_app_with(container, signup_rate_limit_ip="2 per 1 minute") as browser:
        assert [sign_up(browser).status_code for _ in range(2)] == [303, 303]
        before = container.log_position()
        handle = unique()
        refused = sign_up(browser, handle, display_name="Third Account")
        assert refused.status_code == 429
        assert "Too many accounts were created from your network" in refused.text
        assert f'value="{handle}"' in refused.text and 'value="Third Account"' in refused.text
        assert container.log_position() == before
    assert log_in(client, handle, PASSWORD).status_code == 401  # no such account was made


def test_one_of_the_most_common_passwords_is_refused_at_sign_up_and_on_a_change(
    client: TestClient[Any], container: Container
) -> None:
    before = container.log_position()
    refused = sign_up(client, password="qwertyuiop")
    assert refused.status_code == 422 and "one of the most common" in refused.text
    assert container.log_position() == before
    handle = unique()
    sign_up(client, handle)
    change = post_form(client, "/settings/password", {"current_password": PASSWORD, "new_password": "Password123"})
    assert change.status_code == 422 and "one of the most common" in change.text
    post_form(client, "/logout", {})
    assert log_in(client, handle, PASSWORD).status_code == 303
