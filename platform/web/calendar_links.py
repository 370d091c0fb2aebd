"""Add-to-calendar links for people whose calendar lives on the web (Google, Outlook), and `webcal://`
links that make a calendar app subscribe to a feed rather than import it once.

Times go out in UTC with a Z, which both services read the same way whatever the viewer's zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/deeplink/compose"
# The services put the whole event in the URL; a long description is cut so the link stays usable.
DETAILS_CHARS = 1000


def _details(description: str, page_url: str) -> str:
    text = description.strip()
    if len(text) > DETAILS_CHARS:
        text = text[:DETAILS_CHARS].rstrip() + "…"
    return f"{text}\n\n{page_url}" if text else page_url


def _utc(instant: datetime, pattern: str) -> str:
    return instant.astimezone(UTC).strftime(pattern)


def google_link(title: str, starts_at: datetime, ends_at: datetime, description: str, location: str,
                page_url: str) -> str:
    dates = f"{_utc(starts_at, '%Y%m%dT%H%M%SZ')}/{_utc(ends_at, '%Y%m%dT%H%M%SZ')}"
    query = {"action": "TEMPLATE", "text": title, "dates": dates, "details": _details(description, page_url),
             "location": location}
    return f"{GOOGLE}?{urlencode(query, quote_via=quote)}"


def outlook_link(title: str, starts_at: datetime, ends_at: datetime, description: str, location: str,
                 page_url: str) -> str:
    query = {"path": "/calendar/action/compose", "rru": "addevent", "subject": title,
             "startdt": _utc(starts_at, "%Y-%m-%dT%H:%M:%SZ"), "enddt": _utc(ends_at, "%Y-%m-%dT%H:%M:%SZ"),
             "body": _details(description, page_url), "location": location}
    return f"{OUTLOOK}?{urlencode(query, quote_via=quote)}"


def add_links(meetup: Mapping[str, Any], location: str, page_url: str) -> dict[str, str]:
    """Google and Outlook links for a meetup row; none for a cancelled meetup."""
    if meetup["cancelled"]:
        return {}
    args = (meetup["title"], meetup["starts_at"], meetup["ends_at"], meetup["description"], location, page_url)
    return {"Google": google_link(*args), "Outlook": outlook_link(*args)}


def webcal(url: str) -> str:
    """The same feed as a subscription: calendar apps open `webcal://` and keep it up to date."""
    return "webcal://" + url.split("://", 1)[-1]


def webcal_url(context: Mapping[str, Any], path: str) -> str:
    """For templates: a subscription link to one of this site's feeds."""
    return webcal(context["request"].app.state.settings.base_url + path)
