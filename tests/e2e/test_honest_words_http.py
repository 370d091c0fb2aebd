"""What Cookout says is what happened: a waitlisted member hears their place, a seat goes to someone
only when someone waits, a cancelled meetup offers nothing to add or check in to, one member is
"1 member", an empty thread says so, and the home page is simply "Cookout"."""

from __future__ import annotations

import html
import re
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.platform.letters import compose
from tests.conversation_helpers import found_tribe, publish, signed_up
from tests.helpers import post_form
from tests.meetup_helpers import Tribe, schedule, sign_in


def answer(client: TestClient[Any], meetup_id: Any, what: str) -> Any:
    return post_form(client, f"/m/{meetup_id}/rsvp", {"answer": what})


def letters_to(container: Container, tribe: Tribe, meetup_id: Any, member: dict[str, Any]) -> list[Any]:
    return [compose({"message_id": "<honest@cookout>", **letter}, container.settings)
            for letter in tribe.letters(meetup_id) if letter["recipient"] == member["email"]]


def flash(page: str) -> str:
    found = re.search(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)
    assert found, "no message on the page"
    return html.unescape(found.group(1).strip())


def cant_make_it_link(container: Container, tribe: Tribe, meetup_id: Any, member: dict[str, Any]) -> str:
    [*_, last] = [m for m in letters_to(container, tribe, meetup_id, member) if m["Subject"].startswith("Invitation")]
    [link] = re.findall(r"https?://\S+?(/rsvp/\S+)", last.get_body(("plain",)).get_content())
    return link


def test_an_invited_member_answering_going_to_a_full_meetup_is_told_their_place_on_the_waitlist(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=2)
    first, invited = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, capacity="2")  # the host's seat and one more
    post_form(client, f"/m/{meetup_id}/invite", {"members": invited["handle"]})
    sign_in(client, first)
    answer(client, meetup_id, "going")
    sign_in(client, invited)
    answer(client, meetup_id, "going")

    last = letters_to(container, tribe, meetup_id, invited)[-1]
    text = last.get_body(("plain",)).get_content()
    assert last["Subject"].startswith("Waitlisted: Picnic in the park")
    assert "You're on the waitlist, #1" in text
    assert "no longer down" not in text and "Not going" not in last["Subject"]


def test_cant_make_it_without_a_waitlist_does_not_claim_a_seat_went_to_someone(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    [member] = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    sign_in(client, member)
    answer(client, meetup_id, "going")
    post_form(client, "/logout", {})
    link = cant_make_it_link(container, tribe, meetup_id, member)

    asked = client.get(link).text
    assert "next person" not in asked and "the meetup leaves your calendar" in asked
    post_form(client, link, {})
    told = flash(client.get(link).text)
    assert "seat went" not in told
    assert told == "Thanks for letting us know. You're down as not going, and the meetup leaves your calendar."


def test_cant_make_it_with_someone_waiting_says_the_seat_went_to_the_next_person(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=2)
    first, second = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, capacity="2")  # the host's seat and one more
    for member in (first, second):
        sign_in(client, member)
        answer(client, meetup_id, "going")
    post_form(client, "/logout", {})
    link = cant_make_it_link(container, tribe, meetup_id, first)

    assert "your seat goes to the next person waiting" in client.get(link).text
    post_form(client, link, {})
    assert flash(client.get(link).text) == "Thanks for letting us know. Your seat went to the next person on the waitlist."


def test_a_cancelled_meetup_offers_no_calendar_download_and_no_check_in(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    assert "Add to calendar" in client.get(f"/m/{meetup_id}").text
    post_form(client, f"/m/{meetup_id}/cancel", {"message": "Rain."})
    for who in (tribe.organiser, tribe.members[0]):
        sign_in(client, who)
        shown = client.get(f"/m/{meetup_id}").text
        assert "Cancelled." in shown
        assert "Add to calendar" not in shown and f"/m/{meetup_id}.ics" not in shown
        assert "Check-in" not in shown


def test_a_tribe_of_one_says_one_member_whatever_its_nickname(client: TestClient[Any]) -> None:
    signed_up(client, "Founder")
    slug = found_tribe(client, name="Lone Owls")  # nickname "owls"
    tribe_page = client.get(f"/t/{slug}").text
    assert "1 member ·" in tribe_page and "1 owls" not in tribe_page
    listing = client.get("/tribes").text
    card = listing[listing.index("Lone Owls"):][:600]
    assert "1 member" in card and "1 owls" not in card


def test_an_empty_thread_says_no_comments_yet(client: TestClient[Any]) -> None:
    signed_up(client, "Writer")
    slug = found_tribe(client)
    post_id = publish(client, slug, title="Quiet one")
    shown = client.get(f"/p/{post_id}").text
    assert re.search(r'<h2 id="thread-count">\s*No comments yet\s*</h2>', shown)
    assert "0 thoughts" not in shown


def test_the_home_page_title_is_just_cookout_and_other_pages_name_themselves(client: TestClient[Any]) -> None:
    assert "<title>Cookout</title>" in client.get("/").text
    assert "<title>Sign in · Cookout</title>" in client.get("/login").text
