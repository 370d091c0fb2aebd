"""Helpers the conversation tests share: people, tribes, posts and comments made through the same
commands the pages call, either straight through the service or through HTTP forms."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from litestar.testing import TestClient

from cookout.domain.base import acting_as
from cookout.domain.community import Tribes
from cookout.domain.threads import Threads
from cookout.platform.container import Container
from cookout.projections.registry import PROJECTIONS
from tests.helpers import PASSWORD, confirm_email, post_form, sign_up, unique


def settle(container: Container) -> None:
    assert container.wait_for(container.log_position(), PROJECTIONS, timeout=10)


def new_member(container: Container, name: str = "Member") -> UUID:
    handle = unique()
    return confirm_email(container, container.accounts.sign_up(handle, name, f"{handle}@example.org", PASSWORD))


def new_tribe(container: Container, founder: UUID, visibility: str = "public", name: str = "Dawn Runners") -> tuple[UUID, str]:
    slug = unique("t")
    with acting_as(founder):
        tribe_id = container.service(Tribes).found_tribe(name, slug, "We run at dawn.", "runners", visibility)
    return tribe_id, slug


def new_post(container: Container, author: UUID, tribe_id: UUID, title: str = "Saturday run", body: str = "Meet at six.") -> UUID:
    with acting_as(author):
        return container.service(Threads).publish_post(tribe_id, title, body)


def comment(container: Container, author: UUID | None, post_id: UUID, body: str = "Count me in", parent_id: UUID | None = None,
            **guest: Any) -> UUID:
    with acting_as(author):
        return container.service(Threads).post_comment(post_id, body, parent_id, **guest)


# Through HTTP, as a browser without JavaScript.

def signed_up(client: TestClient[Any], display_name: str = "Test Person") -> str:
    handle = unique()
    assert sign_up(client, handle, display_name=display_name).status_code == 303
    return handle


def sign_out(client: TestClient[Any]) -> None:
    post_form(client, "/logout", {})


def sign_in(client: TestClient[Any], handle: str) -> None:
    assert post_form(client, "/login", {"login": handle, "password": PASSWORD}).status_code == 303


def found_tribe(client: TestClient[Any], visibility: str = "public", name: str = "Night Owls") -> str:
    slug = unique("t")
    response = post_form(client, "/tribes", {"name": name, "slug": slug, "nickname": "owls",
                                             "description": "We talk after dark.", "visibility": visibility})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/t/{slug}"
    return slug


def publish(client: TestClient[Any], slug: str, title: str = "First light", body: str = "Who is up?") -> str:
    response = post_form(client, f"/t/{slug}/posts", {"title": title, "body": body})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/p/")
    return location.removeprefix("/p/")


def reply(client: TestClient[Any], post_id: str, body: str, parent_id: str = "", **guest: str) -> Any:
    return post_form(client, f"/p/{post_id}/comments", {"body": body, "parent_id": parent_id, **guest})


def comment_id_of(response: Any) -> str:
    """The new comment's id from the 303 after posting it (`/p/{post}#c-{comment}`)."""
    found = re.search(r"#c-([0-9a-f-]{36})$", response.headers["location"])
    assert found, response.headers.get("location")
    return found.group(1)


def heading(html: str) -> str:
    found = re.search(r'<h2[^>]*id="thread-count"[^>]*>(.*?)</h2>', html, re.S)
    assert found, "no thread heading"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()
