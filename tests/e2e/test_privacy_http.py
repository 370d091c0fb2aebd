"""Privacy of people: members are listed to members, email addresses to nobody but their owner, and an
online meeting's link to those going and to the organisers, on the page, in .ics files and in feeds."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.platform.letters import compose
from tests.helpers import post_form, sign_up, unique
from tests.meetup_helpers import Tribe, schedule, settle, sign_in

ROOM = "https://meet.example.net/cookout-secret-room"
HIDDEN = "The link is shown to people who are going."


def unfolded(response: Any) -> str:
    assert response.status_code == 200
    return response.text.replace("\r\n ", "")


def private_feed(client: TestClient[Any]) -> str:
    post_form(client, "/settings/calendar-feed", {})
    path = re.search(r"/feeds/[A-Za-z0-9_-]+\.ics", client.get("/settings").text).group(0)
    return unfolded(client.get(path))


def test_visitors_see_how_many_members_there_are_but_only_members_see_who(client: TestClient[Any]) -> None:
    name = f"Zelda {unique('Privatewood')}"
    sign_up(client, display_name=name)
    assert name in client.get("/").text
    post_form(client, "/logout", {})
    home = client.get("/").text
    assert name not in home
    assert re.search(r"\d+ members?</h2>", home)
    assert "Members see who is here" in home


def test_the_organisers_list_of_letters_names_people_by_handle_and_shows_no_address(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=2)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    post_form(client, f"/m/{meetup_id}/invite", {"everyone": "on", "members": ""})
    settle(container)
    page = client.get(f"/m/{meetup_id}").text
    assert "Invitations sent" in page
    for member in tribe.members:
        assert f"@{member['handle']}" in page
        assert member["email"] not in page
    assert "@example.org" not in page


def test_an_online_link_is_shown_only_to_people_going_and_to_the_organisers(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=2)
    going, maybe = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, venue="", address="", online_url=ROOM)

    def sees(path: str) -> bool:
        response = client.get(path)
        return ROOM in (unfolded(response) if path.endswith(".ics") else response.text)

    # The organiser
    assert sees(f"/m/{meetup_id}") and sees(f"/m/{meetup_id}.ics")
    # A visitor
    post_form(client, "/logout", {})
    assert not sees(f"/m/{meetup_id}") and not sees(f"/m/{meetup_id}.ics")
    assert HIDDEN in client.get(f"/m/{meetup_id}").text
    assert not sees(f"/t/{tribe.slug}/meetups")
    # A member who has not answered, then says maybe
    sign_in(client, maybe)
    assert not sees(f"/m/{meetup_id}") and not sees(f"/m/{meetup_id}.ics")
    post_form(client, f"/m/{meetup_id}/rsvp", {"answer": "maybe"})
    settle(container)
    assert not sees(f"/m/{meetup_id}") and HIDDEN in client.get(f"/m/{meetup_id}").text
    assert ROOM not in private_feed(client)
    # A member who is going
    sign_in(client, going)
    post_form(client, f"/m/{meetup_id}/rsvp", {"answer": "going"})
    settle(container)
    assert sees(f"/m/{meetup_id}") and sees(f"/m/{meetup_id}.ics")
    assert HIDDEN not in client.get(f"/m/{meetup_id}").text
    assert ROOM in private_feed(client)
    # The tribe's public feed, which anyone may subscribe to, never carries it
    public = unfolded(client.get(f"/t/{tribe.slug}/calendar.ics"))
    assert f"/m/{meetup_id}" in public and ROOM not in public
    assert "LOCATION:Online" in public


def test_an_invitation_names_the_online_link_only_once_the_member_is_going(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    [member] = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, venue="", address="", online_url=ROOM)
    post_form(client, f"/m/{meetup_id}/invite", {"everyone": "on", "members": ""})

    def newest_letter() -> str:
        letter = [l for l in tribe.letters(meetup_id) if l["recipient"] == member["email"]][-1]
        message = compose({"message_id": "<privacy@cookout>", **letter}, container.settings)
        calendar = next(part for part in message.walk() if part.get_content_type() == "text/calendar")
        return message.get_body(("plain",)).get_content() + calendar.get_content().replace("\r\n ", "")

    invitation = newest_letter()
    assert "Where: Online" in invitation and ROOM not in invitation
    sign_in(client, member)
    post_form(client, f"/m/{meetup_id}/rsvp", {"answer": "going"})
    settle(container)
    assert ROOM in newest_letter()
