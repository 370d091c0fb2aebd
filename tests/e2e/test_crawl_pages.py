"""Every page a visitor, a member, a moderator and an organiser reach from the home page by following
links on the demo site: none fails, no link the site offers leads nowhere, and no form greets anyone
with the word "None" in a field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cookout.platform.settings import Settings
from tests.site_helpers import ROLES, Site, crawl, demo_site, signed_in_client


@pytest.fixture(scope="module")
def site(server_url: str, settings: Settings) -> Iterator[Site]:
    with demo_site(server_url, settings) as built:
        yield built


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reached_by_following_links_opens_with_empty_fields_empty(site: Site, role: str) -> None:
    client = signed_in_client(site.app, ROLES[role])
    try:
        visit = crawl(client)
    finally:
        client.__exit__(None, None, None)

    assert visit.problems == []
    # The crawl really went round the site, forms included, for this role.
    expected = {"/", "/tribes", "/t/crazies", "/login" if role == "visitor" else "/settings",
                f"/p/{site.ids['post']}", f"/m/{site.ids['conference']}"}
    assert expected <= set(visit.pages)
    assert len(visit.with_forms) >= 5
    if role == "organiser":
        forms = {"/tribes/new", "/t/crazies/posts/new", "/t/crazies/meetups/new", "/t/crazies/edit",
                 f"/m/{site.ids['conference']}/invite", f"/m/{site.ids['conference']}/sessions/new",
                 "/t/crazies/members", "/t/crazies/moderation"}
        assert forms <= visit.with_forms
    if role == "visitor":
        assert {"/signup", "/login"} <= visit.with_forms
