"""Lists that grow, in pages with plain links: the tribe directory and a tribe's roster."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from cookout.domain.base import acting_as
from cookout.domain.community import Tribes
from cookout.platform.container import Container
from cookout.platform.web.tribes import ROSTER_PAGE, TRIBES_PAGE
from tests.conversation_helpers import new_member, new_tribe, settle


def roster_handles(html: str) -> list[str]:
    return re.findall(r'<td><a href="/members/([^"]+)">', html)


def test_a_big_tribes_roster_comes_in_pages_with_plain_links(client: TestClient[Any], container: Container) -> None:
    founder = new_member(container, "Founder")
    tribe_id, slug = new_tribe(container, founder)
    for _ in range(ROSTER_PAGE):
        with acting_as(joiner := new_member(container, "Joiner")):
            container.service(Tribes).join_tribe(tribe_id)
    settle(container)
    first = client.get(f"/t/{slug}/members")
    assert first.status_code == 200
    assert len(roster_handles(first.text)) == ROSTER_PAGE
    assert f'href="/t/{slug}/members?page=2"' in first.text
    second = client.get(f"/t/{slug}/members?page=2")
    last = container.accounts.get_member(joiner).handle
    assert roster_handles(second.text) == [last]  # the one who joined last, on the last page
    assert f'href="/t/{slug}/members"' in second.text and "?page=3" not in second.text
    assert client.get(f"/t/{slug}/members?page=3").status_code == 404


def test_the_tribe_directory_comes_in_pages_with_plain_links(client: TestClient[Any], container: Container) -> None:
    founder = new_member(container, "Founder")
    for _ in range(TRIBES_PAGE + 1):
        new_tribe(container, founder)
    settle(container)
    first = client.get("/tribes")
    assert first.status_code == 200
    shown = re.findall(r'<h2><a href="/t/([^"]+)">', first.text)
    assert len(shown) == TRIBES_PAGE and 'href="/tribes?page=2"' in first.text
    second = client.get("/tribes?page=2")
    assert second.status_code == 200 and 'href="/tribes"' in second.text
    assert not set(shown) & set(re.findall(r'<h2><a href="/t/([^"]+)">', second.text))


def test_the_home_page_counts_every_member_who_joined(client: TestClient[Any], container: Container) -> None:
    settle(container)
    before = int(re.search(r"(\d+) members?</h2>", client.get("/").text).group(1))
    new_member(container)
    new_member(container)
    settle(container)
    assert f"{before + 2} members</h2>" in client.get("/").text
