"""The mail preview at /dev/outbox lists every letter, with working links: it is served only on a machine
that is all Cookout's own (embedded database and mail), only to a browser on that machine, page by page.
A real deployment that says nothing about mail refuses to start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import TestClient

from cookout.platform.web.app import create_app
from cookout.platform.container import Container, bootstrap
from cookout.projections.outbox import Welcomes
from tests.helpers import PASSWORD, unique

CLI = [sys.executable, "-m", "cookout.platform.cli"]


@pytest.fixture(scope="module")
def embedded_app(container: Container) -> Iterator[Litestar]:
    """The app as `cookout serve` runs it with no configuration: embedded database, mail kept here."""
    settings = container.settings.model_copy(update={"database_is_embedded": True, "smtp_url": None})
    own = bootstrap(settings, url=container.url, hasher=container.passwords.hasher)
    yield create_app(settings, own)
    own.close()


def serve_on_loopback(app: Litestar) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the test web server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def embedded_site(embedded_app: Litestar) -> Iterator[str]:
    yield from serve_on_loopback(embedded_app)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sign_up_people(container: Container, count: int) -> list[str]:
    emails = []
    for _ in range(count):
        handle = unique()
        container.accounts.sign_up(handle, "Preview Person", f"{handle}@example.org", PASSWORD, confirmed=True)
        emails.append(f"{handle}@example.org")
    assert container.wait_for(container.log_position(), (Welcomes,), timeout=20)
    return emails


def test_mail_preview_shows_letters_to_a_browser_on_this_machine_fifty_a_page(
    container: Container, embedded_site: str
) -> None:
    emails = sign_up_people(container, 51)
    status, first = fetch(f"{embedded_site}/dev/outbox")
    assert status == 200
    assert first.count('<article class="letter"') == 50
    assert emails[-1] in first and emails[0] not in first  # newest first
    assert 'href="/dev/outbox?page=2"' in first
    status, second = fetch(f"{embedded_site}/dev/outbox?page=2")
    assert status == 200 and emails[0] in second and emails[-1] not in second
    for bad in ("0", "10001", "99999999999999999999", "x"):
        assert fetch(f"{embedded_site}/dev/outbox?page={bad}")[0] == 400


def test_mail_preview_is_not_found_for_a_client_that_is_not_on_this_machine(embedded_app: Litestar) -> None:
    with TestClient(app=embedded_app, base_url="http://testserver.local") as outsider:
        assert outsider.get("/dev/outbox").status_code == 404
        assert outsider.get("/dev/outbox", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404


def test_mail_preview_is_not_found_with_a_real_database(container: Container, live_server: str) -> None:
    sign_up_people(container, 1)
    assert fetch(f"{live_server}/dev/outbox")[0] == 404


@pytest.mark.parametrize("command", [["web", "--port", "9"], ["worker"], ["serve", "--port", "9"]])
def test_a_real_database_without_a_mail_server_refuses_to_start(
    command: list[str], container: Container, tmp_path: Path
) -> None:
    env = {**os.environ, "COOKOUT_DATABASE_URL": container.url}
    env.pop("COOKOUT_SMTP_URL", None)
    result = subprocess.run([*CLI, *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "cookout: COOKOUT_SMTP_URL is not set: with a real database Cookout needs a mail server (smtp://host:port),"
        " or COOKOUT_SMTP_URL=off to keep letters as .eml files in DATA_DIR/outbox without sending them"
    ]
