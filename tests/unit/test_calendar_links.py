"""Google and Outlook add-links carry the meetup's times in UTC and its words escaped; feeds get webcal://."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from cookout.platform.web.calendar_links import add_links, google_link, outlook_link, webcal

BERLIN = ZoneInfo("Europe/Berlin")
TITLE = "Grill & chill #1? 100% fun + more"
MEETUP = {"title": TITLE, "starts_at": datetime(2026, 7, 4, 18, 30, tzinfo=BERLIN),
          "ends_at": datetime(2026, 7, 4, 21, 0, tzinfo=BERLIN), "description": "Bring food.", "cancelled": False}
PAGE = "https://cookout.example.org/m/1"


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_a_google_link_gives_utc_times_and_keeps_every_character_of_the_title() -> None:
    url = google_link(TITLE, MEETUP["starts_at"], MEETUP["ends_at"], "Bring food.", "Volkspark, Berlin", PAGE)
    assert url.startswith("https://calendar.google.com/calendar/render?")
    fields = query(url)
    assert fields["action"] == "TEMPLATE"
    assert fields["dates"] == "20260704T163000Z/20260704T190000Z"  # 18:30 in Berlin summer time
    assert fields["text"] == TITLE
    assert fields["location"] == "Volkspark, Berlin"
    assert fields["details"] == f"Bring food.\n\n{PAGE}"
    assert "& chill" not in url and "#" not in url


def test_an_outlook_link_gives_utc_times_and_the_title_as_subject() -> None:
    url = outlook_link(TITLE, MEETUP["starts_at"], MEETUP["ends_at"], "", "Online", PAGE)
    assert url.startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    fields = query(url)
    assert (fields["startdt"], fields["enddt"]) == ("2026-07-04T16:30:00Z", "2026-07-04T19:00:00Z")
    assert fields["subject"] == TITLE and fields["location"] == "Online" and fields["body"] == PAGE


def test_a_cancelled_meetup_gets_no_add_links() -> None:
    assert set(add_links(MEETUP, "", PAGE)) == {"Google", "Outlook"}
    assert add_links({**MEETUP, "cancelled": True}, "", PAGE) == {}


def test_a_feed_url_becomes_a_webcal_subscription() -> None:
    assert webcal("https://cookout.example.org/feeds/abc.ics") == "webcal://cookout.example.org/feeds/abc.ics"
    assert webcal("http://127.0.0.1:8110/t/x/calendar.ics") == "webcal://127.0.0.1:8110/t/x/calendar.ics"
