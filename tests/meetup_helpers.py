"""Helpers the meetup tests share: tribes and members made through the same commands people run,
meetups scheduled through the form, and waiting for the meetup projections to catch up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar.testing import TestClient

from cookout.domain.base import current_actor
from cookout.domain.community import Tribes
from cookout.domain.schedule import LOCAL_FORMAT
from cookout.platform.container import Container
from cookout.projections.invitations import Invitations
from cookout.projections.meetups import Meetups
from cookout.projections.members import MemberDirectory
from tests.helpers import PASSWORD, confirm_email, post_form, unique

ZONE = "Europe/Berlin"


def settle(container: Container) -> None:
    """Wait until the meetup projections and the invitations dispatcher have read the whole log."""
    assert container.wait_for(container.log_position(), (MemberDirectory, Meetups, Invitations), timeout=20)


def join(container: Container, name: str = "Meetup Person") -> dict[str, Any]:
    """A member, signed up through the accounts service; returns their directory row."""
    handle = unique()
    confirm_email(container, container.accounts.sign_up(handle, name, f"{handle}@example.org", PASSWORD))
    settle(container)
    return container.view(MemberDirectory).by_handle(handle)


def acting(member_id: UUID | str) -> Any:
    return current_actor.set(str(member_id))


def found_tribe(container: Container, founder_id: UUID, visibility: str = "public") -> dict[str, Any]:
    tribes = container.service(Tribes)
    token = acting(founder_id)
    try:
        slug = unique("tribe-")
        tribe_id = tribes.found_tribe("Picnic People", slug, visibility=visibility)
    finally:
        current_actor.reset(token)
    settle(container)
    return {"id": tribe_id, "slug": slug}


def join_tribe(container: Container, tribe_id: UUID, member_id: UUID) -> None:
    token = acting(member_id)
    try:
        container.service(Tribes).join_tribe(tribe_id)
    finally:
        current_actor.reset(token)
    settle(container)


_test_started_at: datetime | None = None


def hold_the_clock() -> None:
    """Fix "now" for `local` at the start of each test (an autouse fixture calls this): two fills of
    the same form a minute boundary apart would otherwise describe two different meetups."""
    global _test_started_at
    _test_started_at = datetime.now(UTC)


def local(delta: timedelta, zone: str = ZONE) -> str:
    """A local `YYYY-MM-DDTHH:MM` some time from the start of the test, in `zone`."""
    now = _test_started_at or datetime.now(UTC)
    return (now + delta).astimezone(ZoneInfo(zone)).strftime(LOCAL_FORMAT)


def meetup_fields(**changes: str) -> dict[str, str]:
    fields = {
        "title": "Picnic in the park",
        "description": "Bring **food** and a blanket.",
        "starts_at": local(timedelta(days=10)),
        "ends_at": local(timedelta(days=10, hours=3)),
        "timezone": ZONE,
        "venue": "Volkspark",
        "address": "Friedrichshain, Berlin",
        "online_url": "",
        "capacity": "",
        "rsvp_deadline": "",
    }
    fields.update(changes)
    return fields


def sign_in(client: TestClient[Any], member: dict[str, Any]) -> None:
    post_form(client, "/logout", {})
    response = post_form(client, "/login", {"login": member["handle"], "password": PASSWORD})
    assert response.status_code == 303, response.text


def schedule(client: TestClient[Any], container: Container, slug: str, **changes: str) -> UUID:
    """Schedule through the form as whoever is signed in on `client`; returns the meetup id."""
    response = post_form(client, f"/t/{slug}/meetups", meetup_fields(**changes))
    assert response.status_code == 303, response.text
    settle(container)
    return UUID(response.headers["location"].removeprefix("/m/"))


class Tribe:
    """An organiser, a public or members-only tribe, and a few members, ready to meet."""

    def __init__(self, container: Container, members: int = 2, visibility: str = "public"):
        self.container = container
        self.organiser = join(container, "Olga Organiser")
        tribe = found_tribe(container, self.organiser["id"], visibility)
        self.id, self.slug = tribe["id"], tribe["slug"]
        self.members = [join(container, f"Member {n}") for n in range(members)]
        for member in self.members:
            join_tribe(container, self.id, member["id"])

    def letters(self, meetup_id: UUID) -> list[dict[str, Any]]:
        settle(self.container)
        return self.container.view(Invitations).rows(
            "SELECT * FROM outbox WHERE payload->>'meetup_id' = %(id)s ORDER BY created_at, key",
            {"id": str(meetup_id)},
        )
