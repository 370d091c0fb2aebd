"""Small helpers the tests share: fresh names, and forms posted the way a browser posts them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from cookout.platform.web.app import create_app
from cookout.platform.container import Container, bootstrap
from cookout.platform.letters import compose
from cookout.platform.settings import load_settings
from cookout.projections.registry import PROJECTIONS

PASSWORD = "correct horse battery"


@contextmanager
def rebuilding(container: Container) -> Iterator[Container]:
    """A second container, as `cookout projections rebuild` opens, with this one's projections stopped
    meanwhile: a projection runs in one process at a time."""
    container.stop_projections()
    other = bootstrap(container.settings, url=container.url, hasher=container.passwords.hasher)
    try:
        yield other
    finally:
        other.close()
        container.start_projections()


def unique(prefix: str = "m") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def csrf_token(client: TestClient[Any]) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/")
    return client.cookies["csrftoken"]


def post_form(client: TestClient[Any], path: str, data: dict[str, str], **kwargs: Any) -> Any:
    """POST as a browser without JavaScript: the form's hidden CSRF field, no redirect following."""
    return client.post(path, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False, **kwargs)


def sign_up(client: TestClient[Any], handle: str | None = None, email: str | None = None,
            password: str = PASSWORD, display_name: str = "Test Person", confirm: bool = True) -> Any:
    """Join through the form; unless `confirm` is False, the new member then confirms their address."""
    handle = handle or unique()
    joined = post_form(
        client,
        "/signup",
        {"handle": handle, "display_name": display_name, "email": email or f"{handle}@example.org",
         "password": password},
    )
    if confirm and joined.status_code == 303:
        container: Container = client.app.state.container
        confirm_email(container, container.accounts.member_id_for_handle(handle))
    return joined


def confirm_email(container: Container, member_id: Any) -> Any:
    """The member follows the link of their confirmation letter (the one the letter names)."""
    container.accounts.confirm_email(member_id, container.accounts.get_member(member_id).confirmation_asked_at)
    return member_id


@contextmanager
def client_of_app_with(container: Container, **settings: Any) -> Iterator[TestClient[Any]]:
    """A client of an app of its own over the same data, with these settings (rate limits counted in its
    own memory, so a test's low limit is not shared with any other test)."""
    own = load_settings(database_url=container.settings.database_url, broker_url=None, **settings)
    with TestClient(app=create_app(own, container), base_url="http://testserver.local") as client:
        yield client


def letters_to(container: Container, address: str) -> list[dict[str, Any]]:
    """Every letter to `address`, newest first, once every dispatcher has caught up with the log."""
    container.wait_for(container.log_position(), PROJECTIONS)
    return container.outbox.rows("SELECT * FROM outbox WHERE recipient = %(to)s ORDER BY created_at DESC, key",
                                 {"to": address})


def link_in_letter(container: Container, address: str, kind: str, pattern: str = r"http\S+") -> str:
    """The path of the first link matching `pattern` in the newest `kind` letter to `address`, as its
    reader would follow it on this site."""
    rows = [row for row in letters_to(container, address) if row["kind"] == kind]
    text = compose(rows[0], container.settings).get_body(("plain",)).get_content()
    found = re.search(pattern, text)
    assert found, text
    return found.group(0).split("testserver.local", 1)[-1].replace(container.settings.base_url, "")
