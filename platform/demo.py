"""A small invented tribe, so a newcomer has something to look at: people, a conversation, a meetup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from cookout.domain.base import acting_as
from cookout.domain.errors import Conflict
from cookout.platform.container import Container

DEMO_PASSWORD = "cookout-demo"
TRIBE_SLUG = "crazies"

PEOPLE = (
    ("gini", "Gini Marsh", "gini@example.org"),
    ("amara", "Amara Okafor", "amara@example.org"),
    ("melanie", "Melanie Brooks", "melanie@example.org"),
    ("teo", "Teo Lindqvist", "teo@example.org"),
    ("priya", "Priya Raman", "priya@example.org"),
)

POST_BODY = """Is it possible to form *real* relationships online? To build a loyal tribe, make genuine
professional connections, develop true friendships?

We think so. The same rules apply as in real life:

- **Be authentic**, but not transparent.
- **Take time.** Good relationships take time to develop and nurture.
- **Care like you do IRL.** Trust comes with consistency.
- **Meet IRL.** See you at the cookout.

How do you keep it real? Share your tips below."""


def seed(container: Container) -> list[str]:
    """Create the demo people, tribe, conversation and meetup that are not there yet;
    returns the handles created."""
    created = []
    ids: dict[str, UUID] = {}
    for handle, name, email in PEOPLE:
        try:
            ids[handle] = container.accounts.sign_up(handle, name, email, DEMO_PASSWORD, confirmed=True)
            created.append(handle)
        except Conflict:
            found = container.accounts.member_id_for_handle(handle)
            if found is not None:
                ids[handle] = found
    if len(ids) == len(PEOPLE):
        seed_tribe(container, ids)
    return created


def seed_tribe(container: Container, ids: dict[str, UUID]) -> None:
    tribes, threads = container.tribes, container.threads
    with acting_as(ids["gini"]):
        try:
            tribe_id = tribes.found_tribe(
                "The Crazies", TRIBE_SLUG,
                description="Marketers, writers and communicators who met in blog comments and kept talking.",
                nickname="crazies", visibility="public",
            )
        except Conflict:
            return  # seeded before
        post_id = threads.publish_post(tribe_id, "Online relationships are real. Are you keeping it real?", POST_BODY)
    for handle in ("amara", "melanie", "teo", "priya"):
        with acting_as(ids[handle]):
            tribes.join_tribe(tribe_id)

    def say(handle: str, body: str, parent: UUID | None = None) -> UUID:
        with acting_as(ids[handle]):
            return threads.post_comment(post_id, body, parent)

    first = say("melanie", "Well said. Many introverts are more comfortable building relationships online: "
                           "enough distance to be honest, enough trust to be close.")
    reply = say("gini", "Thank you, Melanie. Are you finding that businesses still hesitate to commit to it?", first)
    say("melanie", "There is still a lot of hesitation: relationships are hard to measure, so they go unrewarded.",
        reply)
    say("teo", "I'd take you all to lunch, but only for every 20 comments. Just keeping things measurable.")

    meetings = container.meetings
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(hour=17, minute=0, second=0, microsecond=0)
    with acting_as(ids["gini"]):
        meetup_id = meetings.schedule(
            tribe_id,
            title="Cookout in Chicago",
            description="Burgers, veggie skewers and finally meeting the people behind the avatars.",
            starts_at=starts.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(starts + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
            timezone="America/Chicago", venue="Grant Park, Picnic Grove 3",
            address="337 E Randolph St, Chicago, IL", capacity=12,
        )
    for handle in ("gini", "amara", "melanie"):
        with acting_as(ids[handle]):
            meetings.answer(meetup_id, "going")
    with acting_as(ids["teo"]):
        meetings.answer(meetup_id, "maybe")
