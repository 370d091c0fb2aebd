"""Answering, waiting, choosing sessions and checking in update the meetup page in place in Chromium."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from cookout.domain.base import current_actor
from cookout.domain.meetings import Meetings
from cookout.platform.container import Container
from tests.helpers import PASSWORD
from tests.meetup_helpers import Tribe, acting, local, meetup_fields, settle

pytestmark = pytest.mark.browser


def schedule(container: Container, tribe: Tribe, capacity: int | None = None, **changes: str) -> UUID:
    token = acting(tribe.organiser["id"])
    try:
        fields = {**meetup_fields(**changes), "capacity": capacity}
        meetup_id = container.service(Meetings).schedule(tribe.id, **fields)
    finally:
        current_actor.reset(token)
    settle(container)
    return meetup_id


def sign_in(page: Any, member: dict[str, Any]) -> None:
    page.goto("/login")
    page.get_by_label("Handle or email").fill(member["handle"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/members/{member['handle']}")


def open_meetup(page: Any, meetup_id: UUID) -> None:
    page.goto(f"/m/{meetup_id}")
    page.evaluate("window.marker = 1")


def not_reloaded(page: Any) -> bool:
    return page.evaluate("window.marker") == 1


def test_answering_and_the_waitlist_position_update_in_place(page: Any, container: Container) -> None:
    tribe = Tribe(container, members=2)
    meetup_id = schedule(container, tribe, capacity=2)  # the host's seat and one more
    token = acting(tribe.members[0]["id"])
    try:
        container.service(Meetings).answer(meetup_id, "going")
    finally:
        current_actor.reset(token)
    settle(container)

    sign_in(page, tribe.members[1])
    open_meetup(page, meetup_id)
    page.get_by_role("button", name="Going", exact=True).click()
    page.get_by_text("You're on the waitlist").wait_for()
    assert page.locator(".position").inner_text() == "number 1"
    assert page.get_by_role("button", name="Going", exact=True).get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="Maybe").click()
    page.get_by_text("You might come.").wait_for()
    assert "1 maybe" in page.locator(".count").inner_text()
    assert not_reloaded(page)


def test_choosing_a_session_updates_in_place(page: Any, container: Container) -> None:
    tribe = Tribe(container, members=1)
    meetup_id = schedule(container, tribe, starts_at=local(timedelta(days=5)), ends_at=local(timedelta(days=6)))
    token = acting(tribe.organiser["id"])
    try:
        container.service(Meetings).add_session(
            meetup_id, title="Opening keynote", starts_at=local(timedelta(days=5, hours=1)),
            ends_at=local(timedelta(days=5, hours=2)), room="Hall A", speaker="Amara")
    finally:
        current_actor.reset(token)
    settle(container)
    sign_in(page, tribe.members[0])
    open_meetup(page, meetup_id)
    page.get_by_role("button", name="Going", exact=True).click()
    page.get_by_text("You're going.").wait_for()
    page.reload()  # the agenda's choose buttons appear once you're coming
    page.evaluate("window.marker = 1")
    page.get_by_role("button", name="Attend", exact=True).click()
    page.get_by_role("button", name="✓ Attending", exact=True).wait_for()
    # htmx settles the swapped element's class a moment after its content.
    page.locator(".session.chosen").wait_for()
    assert page.locator(".session.chosen").count() == 1
    page.get_by_role("button", name="✓ Attending", exact=True).click()
    page.get_by_role("button", name="Attend", exact=True).wait_for()
    page.locator(".session.chosen").wait_for(state="detached")
    assert page.locator(".session").count() == 1
    assert not_reloaded(page)


def test_checking_in_by_organiser_and_by_code_update_in_place(page: Any, container: Container) -> None:
    tribe = Tribe(container, members=2)
    meetup_id = schedule(container, tribe, starts_at=local(timedelta(minutes=30)), ends_at=local(timedelta(hours=3)))
    for member in tribe.members:
        token = acting(member["id"])
        try:
            container.service(Meetings).answer(meetup_id, "going")
        finally:
            current_actor.reset(token)
    settle(container)

    sign_in(page, tribe.organiser)
    open_meetup(page, meetup_id)
    code = page.locator(".check-in .code").inner_text()
    page.get_by_role("button", name=f"Check in {tribe.members[0]['display_name']}").click()
    page.locator(".roll .pill", has_text="Here").wait_for()
    assert not_reloaded(page)

    sign_in(page, tribe.members[1])
    open_meetup(page, meetup_id)
    page.get_by_label("At the venue? Enter the code the organiser shows").fill("WRONG1")
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("That code is not the one the organiser shows.").wait_for()
    page.get_by_label("At the venue? Enter the code the organiser shows").fill(code.lower())
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("You're checked in.").wait_for()
    assert not_reloaded(page)
    page.goto(f"/members/{tribe.members[1]['handle']}")
    assert tribe.members[0]["display_name"] in page.locator("#met").inner_text()
