"""Times in the viewer's zone: a member's setting, UTC labelled as such for everyone else (the browser's zone
once JavaScript runs), meetups in the venue's zone and the viewer's, and a schedule form in the organiser's."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.projections.members import MemberDirectory
from tests.conversation_helpers import found_tribe, publish, reply, settle, signed_up
from tests.helpers import post_form
from tests.meetup_helpers import Tribe, local, schedule, sign_in

TIME = re.compile(r'<time datetime="([^"]+)"( data-local="\w+")?>([^<]*)</time>')


def times_on(html: str) -> list[tuple[str, bool, str]]:
    """Each `<time>` of a page: its machine-readable instant, whether the browser may rewrite it, its text."""
    return [(instant, bool(local), text) for instant, local, text in TIME.findall(html)]


def choose_zone(client: TestClient[Any], zone: str, display_name: str = "Test Person") -> Any:
    return post_form(client, "/settings", {"display_name": display_name, "time_zone": zone})


def test_a_visitor_sees_post_and_comment_times_in_utc_and_labelled_so(client: TestClient[Any],
                                                                       container: Container) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    reply(client, post_id, "Count me in")
    settle(container)
    post_form(client, "/logout", {})

    page = client.get(f"/p/{post_id}").text

    shown = times_on(page)
    assert len(shown) == 2
    for instant, rewritable, text in shown:
        assert instant.endswith("+00:00") and rewritable and text.endswith(" UTC")


def test_a_member_who_chooses_a_zone_sees_times_in_it_with_its_name(client: TestClient[Any],
                                                                    container: Container) -> None:
    handle = signed_up(client)
    post_id = publish(client, found_tribe(client))

    assert choose_zone(client, "America/New_York").status_code == 303

    assert container.view(MemberDirectory).time_zone(container.view(MemberDirectory).by_handle(handle)["id"]) \
        == "America/New_York"
    [(instant, rewritable, text)] = times_on(client.get(f"/p/{post_id}").text)
    assert instant.endswith("+00:00") and not rewritable
    assert text.endswith(" EST") or text.endswith(" EDT")
    assert '<option value="America/New_York" selected>' in client.get("/settings").text


def test_choosing_the_browsers_zone_again_clears_the_setting(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    choose_zone(client, "Asia/Tokyo")

    assert choose_zone(client, "").status_code == 303

    [(_, rewritable, text)] = times_on(client.get(f"/p/{post_id}").text)
    assert rewritable and text.endswith(" UTC")


def test_a_zone_we_do_not_know_is_refused_and_the_form_keeps_the_name(client: TestClient[Any],
                                                                      container: Container) -> None:
    signed_up(client)
    before = container.log_position()

    refused = choose_zone(client, "Mars/Olympus_Mons", display_name="Kept Name")

    assert refused.status_code == 422
    assert "is not a time zone we know" in refused.text and 'value="Kept Name"' in refused.text
    assert container.log_position() == before


def test_settings_offer_every_zone_and_the_browsers_by_default(client: TestClient[Any]) -> None:
    signed_up(client)

    page = client.get("/settings").text

    assert '<option value="">My browser' in page
    assert '<option value="Pacific/Chatham">' in page and "selected" not in page.split('name="time_zone"')[1].split("</select>")[0]


def test_an_in_person_meetup_shows_the_venues_zone_and_the_viewers_when_they_differ(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)  # in Europe/Berlin, at the Volkspark
    sign_in(client, tribe.members[0])

    berlin_only = when_of(client.get(f"/m/{meetup_id}").text)
    choose_zone(client, "America/New_York")
    both = when_of(client.get(f"/m/{meetup_id}").text)
    choose_zone(client, "Europe/Berlin")
    same = when_of(client.get(f"/m/{meetup_id}").text)

    assert "(Europe/Berlin)" in berlin_only and "data-your-time" in berlin_only  # the browser may add its zone
    assert both.index("(Europe/Berlin)") < both.index("(America/New_York)")
    assert "(Europe/Berlin)" in same and "America/" not in same and "data-your-time" not in same


def test_an_online_meetup_leads_with_the_viewers_zone(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, venue="", address="", online_url="https://meet.example/x")
    sign_in(client, tribe.members[0])
    choose_zone(client, "Asia/Tokyo")

    shown = when_of(client.get(f"/m/{meetup_id}").text)

    assert shown.index("(Asia/Tokyo)") < shown.index("(Europe/Berlin)")


def test_the_schedule_form_starts_in_the_organisers_zone(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=0)
    sign_in(client, tribe.organiser)
    unset = client.get(f"/t/{tribe.slug}/meetups/new").text
    choose_zone(client, "America/Chicago", display_name="Olga Organiser")

    chosen = client.get(f"/t/{tribe.slug}/meetups/new").text

    assert re.search(r'name="timezone"[^>]*value="UTC"\s+data-browser-zone', unset)
    assert "Europe/Berlin" not in field_of(unset, "timezone")
    assert 'value="America/Chicago"' in field_of(chosen, "timezone") and "data-browser-zone" not in field_of(
        chosen, "timezone")
    meetup_id = schedule(client, container, tribe.slug, timezone="America/Chicago",
                         starts_at=local(timedelta(days=3), "America/Chicago"),
                         ends_at=local(timedelta(days=3, hours=2), "America/Chicago"))
    assert "(America/Chicago)" in when_of(client.get(f"/m/{meetup_id}").text)


def when_of(page: str) -> str:
    found = re.search(r"<dt>When</dt><dd>(.*?)</dd>", page, re.S)
    assert found, "no When on the meetup page"
    return found.group(1)


def field_of(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert found, f"no field {name}"
    return found.group(0)
