"""Organisers are people too: the sole organiser is told why they can't leave, the host is going to the
meetup they schedule and can be checked in, and saving an edit that changes nothing records nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.projections.meetups import Meetups
from tests.conversation_helpers import comment_id_of, found_tribe, publish, reply, settle, sign_in, signed_up
from tests.helpers import post_form
from tests.meetup_helpers import Tribe, local, meetup_fields, schedule
from tests.meetup_helpers import settle as settle_meetups
from tests.meetup_helpers import sign_in as sign_in_member

SOLE_ORGANISER = "make someone else an organiser"


def leave_buttons(html: str) -> list[str]:
    return re.findall(r'action="/t/[^"]+/leave"', html)


def test_a_sole_organiser_is_not_offered_leave_and_is_told_to_make_someone_else_organiser_first(
    client: TestClient[Any], container: Container
) -> None:
    signed_up(client)
    slug = found_tribe(client)

    page = client.get(f"/t/{slug}")

    assert leave_buttons(page.text) == []
    assert "You are the only organiser" in page.text and SOLE_ORGANISER in page.text
    assert f'href="/t/{slug}/members"' in page.text


def test_a_sole_organiser_posting_leave_anyway_gets_a_4xx_page_that_explains_and_stays(
    client: TestClient[Any], container: Container
) -> None:
    signed_up(client)
    slug = found_tribe(client)
    before = container.log_position()

    refused = post_form(client, f"/t/{slug}/leave", {})

    assert refused.status_code == 409
    assert "You are the only organiser" in refused.text
    assert "Make someone else an organiser first" in refused.text
    assert "That clashes with what is already there" not in refused.text
    assert container.log_position() == before
    assert "New post" in client.get(f"/t/{slug}").text


def test_an_organiser_with_a_fellow_organiser_and_a_member_are_offered_leave(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    member = tribe.members[0]
    sign_in_member(client, tribe.organiser)
    assert post_form(client, f"/t/{tribe.slug}/roles",
                     {"member_id": str(member["id"]), "role": "organiser"}).status_code == 303
    settle(container)

    assert len(leave_buttons(client.get(f"/t/{tribe.slug}").text)) == 1
    sign_in_member(client, member)
    page = client.get(f"/t/{tribe.slug}").text
    assert len(leave_buttons(page)) == 1 and SOLE_ORGANISER not in page


def test_the_organiser_who_schedules_a_meetup_is_shown_going_and_can_be_checked_in(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=0)
    sign_in_member(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, capacity="3", starts_at=local(timedelta(minutes=30)),
                         ends_at=local(timedelta(hours=3)))

    [host] = container.view(Meetups).attendance(meetup_id)
    assert (host["member_id"], host["state"]) == (tribe.organiser["id"], "going")
    page = client.get(f"/m/{meetup_id}").text
    assert f'aria-label="Check in {tribe.organiser["display_name"]}"' in page
    checked = post_form(client, f"/m/{meetup_id}/check-in", {"member_id": str(tribe.organiser["id"])})
    assert checked.status_code == 303
    settle_meetups(container)
    [host] = container.view(Meetups).attendance(meetup_id)
    assert host["checked_in"]


def test_saving_a_post_unchanged_adds_no_version_and_records_nothing(
    client: TestClient[Any], container: Container
) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client), "First light", "Who is up?")
    settle(container)
    before = container.log_position()

    saved = post_form(client, f"/p/{post_id}/edit", {"title": "First light", "body": "Who is up?"})

    assert saved.status_code == 303
    assert container.log_position() == before
    page = client.get(f"/p/{post_id}").text
    assert "Nothing changed, so there is no new version." in page
    assert 'class="edited"' not in page


def test_saving_a_comment_unchanged_does_not_mark_it_edited_or_record_anything(
    client: TestClient[Any], container: Container
) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    comment_id = comment_id_of(reply(client, post_id, "Count me in"))
    settle(container)
    before = container.log_position()

    plain = post_form(client, f"/c/{comment_id}/edit", {"body": "Count me in"})
    through_htmx = post_form(client, f"/c/{comment_id}/edit", {"body": "Count me in\r\n"},
                             headers={"HX-Request": "true"})

    assert plain.status_code == 303 and through_htmx.status_code == 200
    assert 'class="edited"' not in through_htmx.text
    assert container.log_position() == before
    assert client.get(f"/c/{comment_id}/history").text.count("Version ") == 1


def test_saving_the_meetup_edit_form_as_it_came_records_nothing(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=0)
    sign_in_member(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, capacity="12", rsvp_deadline=local(timedelta(days=9)))
    form = client.get(f"/m/{meetup_id}/edit").text
    shown = {name: value_of(form, name) for name in meetup_fields()}
    before = container.log_position()

    assert post_form(client, f"/m/{meetup_id}/edit", shown).status_code == 303

    assert container.log_position() == before


def value_of(form: str, name: str) -> str:
    """What an input, textarea or select of the form shows for `name`."""
    textarea = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', form, re.S)
    if textarea:
        return textarea.group(1).replace("&#34;", '"').replace("&amp;", "&").strip("\n")
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', form, re.S)
    if select:
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', select.group(0))
        return chosen.group(1) if chosen else ""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', form)
    assert found, f"no field {name}"
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else ""
