"""Who sees what about people: members are listed to members, an email address is shown to nobody but
its owner, and an online meeting's link only to those going to it and to the tribe's organisers."""

from __future__ import annotations

import re
from typing import Any

from cookout.domain.meetings import ORGANISER
from cookout.domain.meetups import GOING, Place

ONLINE = "Online"
LINK_FOR_THE_GOING = "the link is shown to people who are going"


def sees_online_link(role: str | None, state: str | None) -> bool:
    """The organisers, and a member whose answer is "going" (a seat, not the waitlist)."""
    return role == ORGANISER or state == GOING


def place_of(meetup: dict[str, Any], with_link: bool) -> Place:
    """The meetup's place as one may see it: without the link, an online meetup just says it is online."""
    online = meetup["online_url"] if with_link else (ONLINE if meetup["online_url"] else "")
    return Place(meetup["venue"], meetup["address"], online)


def letters_without_addresses(letters: list[dict[str, Any]], people: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The organiser's list of a meetup's letters, naming each recipient by handle: an SMTP error
    that repeats the address says "their address" instead."""
    shown = []
    for letter in letters:
        person = people.get(letter["member_id"] or "")
        error = letter["last_error"]
        if error:
            error = re.sub(re.escape(letter["recipient"]), "their address", error, flags=re.IGNORECASE)
        shown.append({
            "kind": letter["kind"], "status": letter["status"], "last_error": error,
            "display_name": person["display_name"] if person else "A former member",
            "handle": person["handle"] if person else None,
        })
    return shown
