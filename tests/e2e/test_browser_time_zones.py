"""Times in Chromium: with JavaScript they follow the browser's zone for anyone who chose none, a member's
own choice stays as the server wrote it, and without JavaScript the text says it is UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cookout.domain.base import acting_as
from cookout.platform.container import Container
from cookout.projections.thread import ThreadTree
from tests.conversation_helpers import comment, new_member, new_post, new_tribe, settle
from tests.e2e.test_browser_meetups import schedule, sign_in
from tests.meetup_helpers import Tribe

pytestmark = pytest.mark.browser
TOKYO = "Asia/Tokyo"


@pytest.fixture
def in_tokyo(browser: Any, live_server: str) -> Iterator[Any]:
    """A Chromium page whose clock is in Tokyo, far from the server's UTC and from Berlin."""
    context = browser.new_context(base_url=live_server, timezone_id=TOKYO)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


@pytest.fixture
def without_javascript(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, timezone_id=TOKYO, java_script_enabled=False)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def a_thread(container: Container) -> tuple[Any, datetime]:
    author = new_member(container)
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id)
    comment(container, author, post_id, "Count me in")
    settle(container)
    return post_id, container.view(ThreadTree).post(post_id)["published_at"]


def test_a_visitors_browser_shows_post_times_in_its_own_zone(in_tokyo: Any, container: Container) -> None:
    post_id, published = a_thread(container)

    in_tokyo.goto(f"/p/{post_id}")

    shown = in_tokyo.locator(".post time").first
    tokyo = published.astimezone(ZoneInfo(TOKYO))
    assert shown.get_attribute("datetime") == published.isoformat()
    assert shown.inner_text() == f"{tokyo.day} {tokyo.strftime('%b %Y, %H:%M')} UTC+9"
    assert in_tokyo.locator("time[data-local]").count() == 0  # every one was rewritten, comments too


def test_without_javascript_a_time_says_it_is_utc(without_javascript: Any, container: Container) -> None:
    post_id, published = a_thread(container)

    without_javascript.goto(f"/p/{post_id}")

    assert without_javascript.locator(".post time").first.inner_text() == (
        f"{published.day} {published.strftime('%b %Y, %H:%M')} UTC")


def test_a_members_chosen_zone_wins_over_the_browsers(in_tokyo: Any, container: Container) -> None:
    tribe = Tribe(container, members=1)
    member = tribe.members[0]
    with acting_as(member["id"]):
        container.accounts.update_profile(member["display_name"], True, "America/New_York")
    post_id = new_post(container, member["id"], tribe.id)
    settle(container)
    sign_in(in_tokyo, member)

    in_tokyo.goto(f"/p/{post_id}")

    assert in_tokyo.locator(".post time").first.inner_text().endswith((" EST", " EDT"))


def test_an_in_person_meetup_adds_the_browsers_zone_below_the_venues(in_tokyo: Any, container: Container) -> None:
    tribe = Tribe(container, members=0)
    meetup_id = schedule(container, tribe)  # in Europe/Berlin

    in_tokyo.goto(f"/m/{meetup_id}")

    when = in_tokyo.locator("dd", has=in_tokyo.locator("time")).first
    lines = when.inner_text().splitlines()
    assert lines[0].endswith("(Europe/Berlin)") and lines[1].endswith(f"({TOKYO})")


def test_an_online_meetup_leads_with_the_browsers_zone(in_tokyo: Any, container: Container) -> None:
    tribe = Tribe(container, members=0)
    meetup_id = schedule(container, tribe, venue="", address="", online_url="https://meet.example/x")

    in_tokyo.goto(f"/m/{meetup_id}")

    lines = in_tokyo.locator("dd", has=in_tokyo.locator("time")).first.inner_text().splitlines()
    assert lines[0].endswith(f"({TOKYO})") and lines[1].endswith("(Europe/Berlin)")


def test_a_new_meetup_starts_in_the_browsers_zone_for_an_organiser_who_chose_none(
    in_tokyo: Any, container: Container
) -> None:
    tribe = Tribe(container, members=0)
    sign_in(in_tokyo, tribe.organiser)

    in_tokyo.goto(f"/t/{tribe.slug}/meetups/new")

    assert in_tokyo.get_by_label("Time zone").input_value() == TOKYO
    assert in_tokyo.get_by_label("Title").input_value() == ""


def test_the_settings_name_the_browsers_zone_as_the_default_choice(in_tokyo: Any, container: Container) -> None:
    tribe = Tribe(container, members=0)
    sign_in(in_tokyo, tribe.organiser)

    in_tokyo.goto("/settings")

    chosen = in_tokyo.get_by_label("Time zone")
    assert chosen.input_value() == ""
    assert chosen.locator("option").first.inner_text() == f"My browser's ({TOKYO})"
