"""Add to calendar the way people expect: .ics, Google and Outlook on a meetup, webcal:// for the feeds."""

from __future__ import annotations

import html
import re
from datetime import UTC
from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.projections.meetups import Meetups
from tests.helpers import post_form, sign_up
from tests.meetup_helpers import Tribe, schedule, settle, sign_in

TITLE = "Grill & chill <3 #1"


def add_links(page: str) -> dict[str, dict[str, str]]:
    found = {}
    for href, service in re.findall(r'<a class="button ghost" href="([^"]+)"[^>]*>(Google|Outlook)</a>', page):
        fields = parse_qs(urlsplit(html.unescape(href)).query)
        found[service] = {name: values[0] for name, values in fields.items()}
    return found


def test_a_meetup_offers_google_and_outlook_links_with_its_utc_times_and_its_title(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=0)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, title=TITLE)
    meetup = container.view(Meetups).meetup(meetup_id)
    starts, ends = (meetup[name].astimezone(UTC) for name in ("starts_at", "ends_at"))
    page = client.get(f"/m/{meetup_id}").text
    assert f'href="/m/{meetup_id}.ics"' in page
    links = add_links(page)
    assert links["Google"]["text"] == TITLE and links["Outlook"]["subject"] == TITLE
    assert links["Google"]["dates"] == f"{starts:%Y%m%dT%H%M%SZ}/{ends:%Y%m%dT%H%M%SZ}"
    assert links["Outlook"]["startdt"] == f"{starts:%Y-%m-%dT%H:%M:%SZ}"
    assert links["Google"]["location"] == "Volkspark, Friedrichshain, Berlin"
    assert f"/m/{meetup_id}" in links["Outlook"]["body"]
    assert "<3" not in page and "Grill &amp; chill &lt;3 #1" in page  # escaped on the page, exact in the links


def test_a_cancelled_meetup_offers_no_way_to_add_it_to_a_calendar(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=0)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    assert post_form(client, f"/m/{meetup_id}/cancel", {"message": "Rain, sorry."}).status_code == 303
    settle(container)
    page = client.get(f"/m/{meetup_id}").text
    assert "Cancelled." in page
    assert f"/m/{meetup_id}.ics" not in page
    assert add_links(page) == {} and "calendar.google.com" not in page and "outlook.live.com" not in page


def test_the_tribe_feed_and_the_private_feed_offer_a_webcal_subscription_to_copy(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=0)
    site = urlsplit(container.settings.base_url).netloc
    listing = client.get(f"/t/{tribe.slug}/meetups").text
    subscribe = f"webcal://{site}/t/{tribe.slug}/calendar.ics"
    assert f'href="{subscribe}"' in listing
    assert f'data-copy="{subscribe}"' in listing and f'value="{subscribe}"' in listing
    sign_up(client)
    post_form(client, "/settings/calendar-feed", {})
    settings = client.get("/settings").text
    [token] = set(re.findall(r"webcal://[^/\"]+/feeds/([A-Za-z0-9_-]+)\.ics", settings))
    assert f'data-copy="webcal://{site}/feeds/{token}.ics"' in settings
    assert client.get(f"/feeds/{token}.ics").status_code == 200
